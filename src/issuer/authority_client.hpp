// The issuer node's adapter to its authority over mutual TLS (docs/issuers.md, "The adapter
// protocol" and "The adapter's failure handling"): deadlines, careful retries, a circuit breaker,
// strict parsing of answers, and a log line per call without personal data.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "issuer/authority.hpp"

namespace pg::issuer {

struct AuthorityClientSettings {
  std::string url;  // https://host:port
  AuthorityKind kind = AuthorityKind::kMoha;
  std::string ca_file, cert_file, key_file;
  std::chrono::milliseconds timeout{3000};  // per attempt: connect, TLS, write and read
  unsigned attempts = 3;
  std::chrono::milliseconds backoff{100};  // before the 2nd attempt; doubles, plus jitter
  unsigned breaker_failures = 5;
  std::chrono::seconds breaker_open{30};
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };

/// "closed", "open", "half_open" (the admin stats' words).
std::string_view breaker_name(BreakerState state) noexcept;

/// What the node's admin stats show of the adapter.
struct AuthorityClientStats {
  std::uint64_t calls = 0;       // send_code and fetch_record calls
  std::uint64_t failures = 0;    // calls that ended kUnavailable or kBadAnswer
  std::uint64_t attempts = 0;    // HTTP exchanges tried (calls + retries)
  std::uint64_t retries = 0;     // attempts after the first
  std::uint64_t fast_fails = 0;  // calls refused by the open breaker
  BreakerState breaker = BreakerState::kClosed;
};

class MtlsAuthorityClient final : public AuthorityPort {
 public:
  /// Loads the CA, the client certificate and its key. Throws std::invalid_argument naming what
  /// is wrong (a URL that is not https://host[:port], an unreadable or mismatched file, zero
  /// attempts), so a misconfigured node does not start.
  explicit MtlsAuthorityClient(AuthorityClientSettings settings);
  ~MtlsAuthorityClient() override;

  AuthorityResult<CodeSent> send_code(std::string_view record) override;
  AuthorityResult<AuthorityRecord> fetch_record(std::string_view record,
                                                std::string_view code) override;

  AuthorityClientStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pg::issuer
