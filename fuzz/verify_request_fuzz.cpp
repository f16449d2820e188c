// libFuzzer target: arbitrary bytes as a POST /api/v1/verify body through the strict request
// decoder (ProofService::decode_verify). Must never crash, leak or hang; an answer is either a
// decoded input or an INVALID_REQUEST refusal naming a field.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/service.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto decoded = pg::core::ProofService::decode_verify(body);
  if (!decoded.ok()) {
    if (decoded.error().code != pg::core::ErrorCode::kInvalidRequest ||
        decoded.error().field.empty()) {
      std::abort();
    }
  }
  return 0;
}
