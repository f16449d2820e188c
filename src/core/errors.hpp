// The domain's error codes (docs/api.md, the brief's error contract) and the error value every
// use case of core returns instead of throwing. How a code is answered over HTTP (status, title,
// headers) is src/http/presenter.cpp's business, not core's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pg::core {

enum class ErrorCode {
  kInvalidRequest,
  kUnauthorized,
  kUnauthorizedScope,
  kClientSuspended,
  kNotFound,
  kMethodNotAllowed,
  kUnknownCircuit,
  kCircuitDisabled,
  kRequestExpired,
  kNonceReplay,
  kIdempotencyConflict,
  kConflict,
  kBindingMismatch,
  kStaleRoot,
  kRootModeMismatch,
  kInvalidProof,
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kRateLimited,
  kWrongCode,
  kCodeExpired,
  kOnchainUnavailable,
  kChainDisagrees,
  kChainUnavailable,
  kNotReady,
  kInternal,
};

/// The machine-readable name, e.g. "NONCE_REPLAY".
std::string_view error_name(ErrorCode code) noexcept;
/// The code named `name`, or nullopt.
std::optional<ErrorCode> error_from_name(std::string_view name) noexcept;
/// Every code, in declaration order (for closed label sets and table tests).
inline constexpr ErrorCode kErrorCodes[] = {
    ErrorCode::kInvalidRequest,
    ErrorCode::kUnauthorized,
    ErrorCode::kUnauthorizedScope,
    ErrorCode::kClientSuspended,
    ErrorCode::kNotFound,
    ErrorCode::kMethodNotAllowed,
    ErrorCode::kUnknownCircuit,
    ErrorCode::kCircuitDisabled,
    ErrorCode::kRequestExpired,
    ErrorCode::kNonceReplay,
    ErrorCode::kIdempotencyConflict,
    ErrorCode::kConflict,
    ErrorCode::kBindingMismatch,
    ErrorCode::kStaleRoot,
    ErrorCode::kRootModeMismatch,
    ErrorCode::kInvalidProof,
    ErrorCode::kPayloadTooLarge,
    ErrorCode::kUnsupportedMediaType,
    ErrorCode::kRateLimited,
    ErrorCode::kWrongCode,
    ErrorCode::kCodeExpired,
    ErrorCode::kOnchainUnavailable,
    ErrorCode::kChainDisagrees,
    ErrorCode::kChainUnavailable,
    ErrorCode::kNotReady,
    ErrorCode::kInternal,
};

/// A refusal: the code, the field it concerns (a JSON path or a header name; may be empty) and a
/// message that names what is wrong without echoing secrets. The one error value of core.
struct ApiError {
  ErrorCode code = ErrorCode::kInternal;
  std::string field;
  std::string detail;
  /// When the caller may try again (RATE_LIMITED, a request with the same idempotency key in
  /// progress), in whole seconds.
  std::optional<std::int64_t> retry_after_s = std::nullopt;
  /// Set when the refused attempt was recorded (it spent the proof request's nonce): the id of
  /// the failed proof row, which GET /api/v1/status answers and the webhook names.
  std::string proof_id = {};
};

/// The use cases' common refusals, by field and detail.
inline ApiError invalid(std::string field, std::string detail) {
  return {ErrorCode::kInvalidRequest, std::move(field), std::move(detail)};
}
inline ApiError not_found(std::string field, std::string detail) {
  return {ErrorCode::kNotFound, std::move(field), std::move(detail)};
}
inline ApiError conflict(std::string field, std::string detail) {
  return {ErrorCode::kConflict, std::move(field), std::move(detail)};
}

}  // namespace pg::core
