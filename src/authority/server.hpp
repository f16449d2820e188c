// The sandbox authority: a stand-in for MOHA's, TU's or NRB/IRD's own system that speaks the
// adapter protocol of docs/issuers.md over mutual TLS (Boost.Beast on asio::ssl), with one-time
// codes "sent" to files, lock-outs, rate limits and the test-only fault modes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "issuer/authority.hpp"

namespace pg::authority {

/// How long a code is valid, and the limits of docs/issuers.md.
inline constexpr std::chrono::seconds kCodeTtl{300};
inline constexpr unsigned kMaxWrongCodes = 5;
inline constexpr std::chrono::minutes kLockOut{15};
inline constexpr unsigned kMaxCodesPerWindow = 3;
inline constexpr std::chrono::minutes kCodeWindow{10};

struct SandboxSettings {
  issuer::AuthorityKind kind = issuer::AuthorityKind::kMoha;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port
  std::filesystem::path data_dir;
  std::size_t records = 1000;
  std::string ca_file;    // client certificates must chain to it
  std::string cert_file;  // the server's certificate chain (PEM)
  std::string key_file;   // its private key (PEM)
  /// The clock of codes, lock-outs and rate limits; empty: steady_clock::now. Tests move it on
  /// instead of waiting five or fifteen minutes.
  std::function<std::chrono::steady_clock::time_point()> now;
};

/// A running sandbox authority: listening once constructed, stopped by stop() or destruction.
class SandboxAuthority {
 public:
  /// Generates the records, writes <data_dir>/records.json, loads the certificates, binds and
  /// starts serving on its own thread. Throws std::runtime_error naming what is wrong (an
  /// unreadable certificate or key, a port in use, an unwritable data directory).
  explicit SandboxAuthority(SandboxSettings settings);
  ~SandboxAuthority();
  SandboxAuthority(const SandboxAuthority&) = delete;
  SandboxAuthority& operator=(const SandboxAuthority&) = delete;

  /// The bound port (the free one chosen for port 0).
  std::uint16_t port() const noexcept;
  /// "HOST:PORT" as bound.
  std::string listening() const;
  /// Stops accepting and drops every connection; idempotent.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pg::authority
