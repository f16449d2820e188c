// Error code names (docs/api.md).
#include "core/errors.hpp"

namespace pg::core {

namespace {
constexpr std::string_view name_of(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidRequest:
      return "INVALID_REQUEST";
    case ErrorCode::kUnauthorized:
      return "UNAUTHORIZED";
    case ErrorCode::kUnauthorizedScope:
      return "UNAUTHORIZED_SCOPE";
    case ErrorCode::kClientSuspended:
      return "CLIENT_SUSPENDED";
    case ErrorCode::kNotFound:
      return "NOT_FOUND";
    case ErrorCode::kMethodNotAllowed:
      return "METHOD_NOT_ALLOWED";
    case ErrorCode::kUnknownCircuit:
      return "UNKNOWN_CIRCUIT";
    case ErrorCode::kCircuitDisabled:
      return "CIRCUIT_DISABLED";
    case ErrorCode::kRequestExpired:
      return "REQUEST_EXPIRED";
    case ErrorCode::kNonceReplay:
      return "NONCE_REPLAY";
    case ErrorCode::kIdempotencyConflict:
      return "IDEMPOTENCY_CONFLICT";
    case ErrorCode::kConflict:
      return "CONFLICT";
    case ErrorCode::kBindingMismatch:
      return "BINDING_MISMATCH";
    case ErrorCode::kStaleRoot:
      return "STALE_ROOT";
    case ErrorCode::kRootModeMismatch:
      return "ROOT_MODE_MISMATCH";
    case ErrorCode::kInvalidProof:
      return "INVALID_PROOF";
    case ErrorCode::kPayloadTooLarge:
      return "PAYLOAD_TOO_LARGE";
    case ErrorCode::kUnsupportedMediaType:
      return "UNSUPPORTED_MEDIA_TYPE";
    case ErrorCode::kRateLimited:
      return "RATE_LIMITED";
    case ErrorCode::kWrongCode:
      return "WRONG_CODE";
    case ErrorCode::kCodeExpired:
      return "CODE_EXPIRED";
    case ErrorCode::kOnchainUnavailable:
      return "ONCHAIN_UNAVAILABLE";
    case ErrorCode::kChainDisagrees:
      return "CHAIN_DISAGREES";
    case ErrorCode::kChainUnavailable:
      return "CHAIN_UNAVAILABLE";
    case ErrorCode::kNotReady:
      return "NOT_READY";
    case ErrorCode::kInternal:
      return "INTERNAL";
  }
  return "INTERNAL";
}
}  // namespace

std::string_view error_name(ErrorCode code) noexcept {
  return name_of(code);
}

std::optional<ErrorCode> error_from_name(std::string_view name) noexcept {
  for (const ErrorCode code : kErrorCodes) {
    if (name_of(code) == name) return code;
  }
  return std::nullopt;
}

}  // namespace pg::core
