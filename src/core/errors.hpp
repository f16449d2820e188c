// The API's error codes (docs/api.md, the brief's error contract) and their HTTP statuses: the one
// place where a domain failure becomes a status code.
#pragma once

#include <string>
#include <string_view>

namespace pg::core {

enum class ErrorCode {
  kInvalidRequest,
  kUnauthorized,
  kUnauthorizedScope,
  kNotFound,
  kMethodNotAllowed,
  kUnknownCircuit,
  kCircuitDisabled,
  kRequestExpired,
  kNonceReplay,
  kIdempotencyConflict,
  kBindingMismatch,
  kStaleRoot,
  kInvalidProof,
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kRateLimited,
  kNotReady,
  kInternal,
};

/// The machine-readable name, e.g. "NONCE_REPLAY".
std::string_view error_name(ErrorCode code) noexcept;
/// The HTTP status the code is answered with.
int error_status(ErrorCode code) noexcept;
/// A short human title for the problem+json `title`.
std::string_view error_title(ErrorCode code) noexcept;

/// A failure to answer with: the code, the field it concerns (may be empty) and a message that
/// names what is wrong without echoing secrets.
struct ApiError {
  ErrorCode code = ErrorCode::kInternal;
  std::string field;
  std::string detail;
};

}  // namespace pg::core
