// libFuzzer target: the parsers an admin upload feeds with untrusted bytes. The first byte picks
// one: a multipart/form-data body (http::parse_multipart), a snarkjs .zkey's embedded key
// (core::read_zkey_key) or its record of ceremony contributions (core::read_zkey_contributions).
// Must never crash, leak, hang or read out of bounds; every answer is parts, a key, records, or a
// reason.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "core/zkey.hpp"
#include "http/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      const auto parts = pg::http::parse_multipart("multipart/form-data; boundary=b", bytes);
      if (const auto* p = std::get_if<0>(&parts)) {
        for (const auto& part : *p) {
          // Every part lies inside the body.
          if (part.name.empty() || part.body.data() < bytes.data() ||
              part.body.data() + part.body.size() > bytes.data() + bytes.size())
            std::abort();
        }
      } else if (std::get<1>(parts).empty()) {
        std::abort();
      }
      break;
    }
    case 1: {
      const auto key = pg::core::read_zkey_key(bytes);
      if (const auto* why = std::get_if<std::string>(&key); why && why->empty()) std::abort();
      break;
    }
    default: {
      const auto records = pg::core::read_zkey_contributions(bytes);
      if (const auto* why = std::get_if<std::string>(&records); why && why->empty()) std::abort();
      break;
    }
  }
  return 0;
}
