// A small result type (the shape of C++23 std::expected) and the closed set of reasons why
// untrusted input is refused. Decoders return one of these instead of throwing.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace pg::crypto {

/// Why an input was refused. Each names one precise problem (blst's BLST_ERROR is the model).
enum class InputError {
  kBadJson,        // not parseable JSON (truncated, garbage, invalid UTF-8, too deep)
  kMissingField,   // a required member is absent
  kWrongType,      // a member has the wrong JSON type or array length
  kNotCanonical,   // a number is not a canonical decimal string
  kOutOfRange,     // a coordinate >= p or a scalar/public signal >= r
  kNotOnCurve,     // a point does not satisfy the curve equation
  kNotInSubgroup,  // a G2 point outside the order-r subgroup
  kIdentity,       // the point at infinity where it is not allowed
  kWrongCount,     // wrong number of public signals or IC points
  kUnsupported,    // another protocol or curve
  kInsecureKey,    // a verification key that would let anyone forge proofs
};

/// A refusal: the reason, the field it concerns (a JSON path such as "proof.pi_b[0][1]") and a
/// human-readable sentence.
struct Error {
  InputError code;
  std::string field;
  std::string message;

  /// "<field>: <message>" — the one line the CLI prints.
  std::string to_string() const { return field.empty() ? message : field + ": " + message; }
};

/// A value or the error value E (crypto::Error here; core's use cases return the same shape with
/// their own error value: core::Outcome).
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

}  // namespace pg::crypto
