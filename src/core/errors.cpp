// Error code names, statuses and titles (docs/api.md).
#include "core/errors.hpp"

namespace pg::core {

namespace {
struct Row {
  std::string_view name;
  int status;
  std::string_view title;
};

constexpr Row row(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidRequest:
      return {"INVALID_REQUEST", 400, "Invalid request"};
    case ErrorCode::kUnauthorized:
      return {"UNAUTHORIZED", 401, "Unauthorized"};
    case ErrorCode::kUnauthorizedScope:
      return {"UNAUTHORIZED_SCOPE", 403, "Not in the partner's scope"};
    case ErrorCode::kNotFound:
      return {"NOT_FOUND", 404, "Not found"};
    case ErrorCode::kMethodNotAllowed:
      return {"METHOD_NOT_ALLOWED", 405, "Method not allowed"};
    case ErrorCode::kUnknownCircuit:
      return {"UNKNOWN_CIRCUIT", 404, "Unknown circuit"};
    case ErrorCode::kCircuitDisabled:
      return {"CIRCUIT_DISABLED", 422, "Circuit version disabled"};
    case ErrorCode::kRequestExpired:
      return {"REQUEST_EXPIRED", 410, "Proof request expired"};
    case ErrorCode::kNonceReplay:
      return {"NONCE_REPLAY", 409, "Nonce already used"};
    case ErrorCode::kIdempotencyConflict:
      return {"IDEMPOTENCY_CONFLICT", 409, "Idempotency key conflict"};
    case ErrorCode::kBindingMismatch:
      return {"BINDING_MISMATCH", 422, "Public signal does not match the request"};
    case ErrorCode::kStaleRoot:
      return {"STALE_ROOT", 422, "Credential root is not current"};
    case ErrorCode::kInvalidProof:
      return {"INVALID_PROOF", 422, "Invalid proof"};
    case ErrorCode::kPayloadTooLarge:
      return {"PAYLOAD_TOO_LARGE", 413, "Payload too large"};
    case ErrorCode::kUnsupportedMediaType:
      return {"UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported media type"};
    case ErrorCode::kRateLimited:
      return {"RATE_LIMITED", 429, "Rate limited"};
    case ErrorCode::kNotReady:
      return {"NOT_READY", 503, "Not ready"};
    case ErrorCode::kInternal:
      return {"INTERNAL", 500, "Internal error"};
  }
  return {"INTERNAL", 500, "Internal error"};
}
}  // namespace

std::string_view error_name(ErrorCode code) noexcept {
  return row(code).name;
}
int error_status(ErrorCode code) noexcept {
  return row(code).status;
}
std::string_view error_title(ErrorCode code) noexcept {
  return row(code).title;
}

}  // namespace pg::core
