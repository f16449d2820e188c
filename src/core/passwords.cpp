// argon2id password hashing (see passwords.hpp).
#include "core/passwords.hpp"

#include <argon2.h>

#include <stdexcept>

#include "core/secrets.hpp"

namespace pg::core {

std::string hash_password(std::string_view password, const PasswordCost& cost) {
  const std::string salt = random_bytes(16);
  constexpr std::size_t kHashLen = 32;
  const std::size_t encoded_len =
      argon2_encodedlen(cost.passes, cost.memory_kib, cost.lanes,
                        static_cast<std::uint32_t>(salt.size()), kHashLen, Argon2_id);
  std::string encoded(encoded_len, '\0');
  const int rc = argon2id_hash_encoded(cost.passes, cost.memory_kib, cost.lanes, password.data(),
                                       password.size(), salt.data(), salt.size(), kHashLen,
                                       encoded.data(), encoded.size());
  if (rc != ARGON2_OK)
    throw std::runtime_error(std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view encoded, std::string_view password) noexcept {
  if (!encoded.starts_with("$argon2id$")) return false;
  const std::string e(encoded);  // argon2id_verify wants a NUL-terminated string
  return argon2id_verify(e.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace pg::core
