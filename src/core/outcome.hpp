// The result of a use case of core: a value or the domain's error value (the shape of C++23
// std::expected, like crypto::Result). Callers present it; core never knows how.
#pragma once

#include <utility>
#include <variant>

#include "core/errors.hpp"

namespace pg::core {

template <class T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Outcome(ApiError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ApiError& error() const& { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace pg::core
