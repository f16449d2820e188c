// secp256k1 signing through libsecp256k1 (bitcoin-core/secp256k1, include/secp256k1_recovery.h).
#include "chain/signer.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <sstream>
#include <stdexcept>

namespace pg::chain {
namespace {

/// One context for the process, randomized once against side channels (secp256k1.h,
/// secp256k1_context_randomize). Signing with a context is thread-safe.
const secp256k1_context* context() {
  static secp256k1_context* const ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    std::array<unsigned char, 32> seed{};
    // Randomization only blinds; a failure leaves a working context.
    if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) == 1 &&
        secp256k1_context_randomize(c, seed.data()) != 1) {
      seed.fill(0);
    }
    OPENSSL_cleanse(seed.data(), seed.size());
    return c;
  }();
  return ctx;
}

/// Closes a descriptor when it goes out of scope.
struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

/// At most `limit` + 1 bytes from `fd` (one more than allowed tells a too-long file).
std::string read_up_to(int fd, std::size_t limit, bool& failed) {
  std::string text(limit + 1, '\0');
  std::size_t got = 0;
  failed = false;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = true;
      break;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  // The tail past `got` holds only zeros: nothing of the key is left in it.
  text.resize(got);
  return text;
}

}  // namespace

Result<PrivateKey> PrivateKey::from_bytes(std::span<const std::uint8_t> secret) {
  if (secret.size() != 32) return Error{"private key", "must be 32 bytes"};
  PrivateKey key;
  std::copy(secret.begin(), secret.end(), key.secret_.begin());
  if (secp256k1_ec_seckey_verify(context(), key.secret_.data()) != 1) {
    return Error{"private key", "is zero or not below the secp256k1 group order"};
  }
  secp256k1_pubkey pub;
  if (secp256k1_ec_pubkey_create(context(), &pub, key.secret_.data()) != 1) {
    return Error{"private key", "cannot derive the public key"};
  }
  std::array<unsigned char, 65> raw{};
  std::size_t len = raw.size();
  secp256k1_ec_pubkey_serialize(context(), raw.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  const Hash32 h = keccak256(std::span<const std::uint8_t>(raw.data() + 1, 64));
  std::copy(h.begin() + 12, h.end(), key.address_.bytes.begin());
  return key;
}

Result<PrivateKey> PrivateKey::from_file(const std::string& path) {
  const std::string what = "key file " + path;
  // Opened once, not following a symbolic link, and checked on the descriptor: what is checked
  // is what is read (no stat-then-open race). O_NONBLOCK: a FIFO in its place cannot hang the
  // open; it is then refused as not a regular file.
  Descriptor file{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)};
  if (file.fd < 0) {
    const int error = errno;
    if (error == ELOOP) return Error{what, "is a symbolic link; give the key file itself"};
    if (error == ENOENT) return Error{what, "does not exist"};
    if (error == EACCES) return Error{what, "cannot be read (permission denied)"};
    return Error{what, "cannot be opened"};
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return Error{what, "cannot be read"};
  if (!S_ISREG(st.st_mode)) return Error{what, "is not a regular file"};
  if ((st.st_mode & 077) != 0) {
    std::ostringstream mode;
    mode << std::oct << (st.st_mode & 0777);
    return Error{what,
                 "has mode 0" + mode.str() + "; it must be readable by its owner only (chmod 600)"};
  }
  if (st.st_uid != ::geteuid()) {
    return Error{what, "is owned by uid " + std::to_string(st.st_uid) +
                           ", not by the user running this command (uid " +
                           std::to_string(::geteuid()) + ")"};
  }
  constexpr std::size_t kMaxKeyFile = 1024;
  if (st.st_size > static_cast<off_t>(kMaxKeyFile))
    return Error{what, "must hold a private key as 64 hex digits"};
  bool read_failed = false;
  std::string text = read_up_to(file.fd, kMaxKeyFile, read_failed);
  if (read_failed || text.size() > kMaxKeyFile) {
    OPENSSL_cleanse(text.data(), text.size());
    return Error{what, read_failed ? "cannot be read" : "must hold a private key as 64 hex digits"};
  }
  std::size_t from = 0;
  std::size_t to = text.size();
  while (from < to && std::isspace(static_cast<unsigned char>(text[from]))) ++from;
  while (to > from && std::isspace(static_cast<unsigned char>(text[to - 1]))) --to;
  std::string_view hex(text.data() + from, to - from);
  if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
  auto bytes = hex.size() == 64 ? from_hex(hex) : std::nullopt;
  OPENSSL_cleanse(text.data(), text.size());
  if (!bytes) return Error{what, "must hold a private key as 64 hex digits"};
  auto key = from_bytes(*bytes);
  OPENSSL_cleanse(bytes->data(), bytes->size());
  if (!key) return Error{what, "does not hold a valid secp256k1 private key"};
  return key;
}

PrivateKey::PrivateKey(PrivateKey&& other) noexcept
    : secret_(other.secret_), address_(other.address_) {
  OPENSSL_cleanse(other.secret_.data(), other.secret_.size());
}

PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    secret_ = other.secret_;
    address_ = other.address_;
    OPENSSL_cleanse(other.secret_.data(), other.secret_.size());
  }
  return *this;
}

PrivateKey::~PrivateKey() {
  OPENSSL_cleanse(secret_.data(), secret_.size());
}

Signature PrivateKey::sign(const Hash32& digest) const {
  secp256k1_ecdsa_recoverable_signature sig;
  // nullptr nonce function: RFC 6979; the result is always lower-S (secp256k1.h).
  if (secp256k1_ecdsa_sign_recoverable(context(), &sig, digest.data(), secret_.data(), nullptr,
                                       nullptr) != 1) {
    throw std::runtime_error("secp256k1 signing failed");  // only with a key we already refused
  }
  std::array<unsigned char, 64> compact{};
  Signature out;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), compact.data(),
                                                          &out.recovery_id, &sig);
  std::copy_n(compact.begin(), 32, out.r.begin());
  std::copy_n(compact.begin() + 32, 32, out.s.begin());
  return out;
}

}  // namespace pg::chain
