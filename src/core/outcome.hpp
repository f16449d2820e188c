// The result of a use case of core: a value or the domain's error value (the shape of C++23
// std::expected, the same template as crypto::Result). Callers present it; core never knows how.
#pragma once

#include "core/errors.hpp"
#include "crypto/result.hpp"

namespace pg::core {

template <class T>
using Outcome = crypto::Result<T, ApiError>;

}  // namespace pg::core
