// The production cache: the core Cache port on Redis (hiredis), shared by every proofgate
// instance that points at the same server, so a nonce claimed on one instance is taken on all.
//
// Failure semantics (what the service relies on):
//   - add() and take_token() FAIL CLOSED: when Redis is unreachable, refuses the command, or does
//     not answer within the command timeout, they throw CacheError. They never answer "set" or
//     "allowed" without Redis having said so. The HTTP layer answers INTERNAL (5xx) and records
//     nothing, so a replay is never accepted on a cache outage; the partner retries later.
//     A SET that timed out may still be applied when a hung or slow server catches up (its bytes
//     are in the server's socket buffer; closing the connection, even with a reset, does not
//     withdraw them): that key then reads as taken until its TTL passes. That errs on the safe
//     side (a retry of the same nonce is refused, the partner makes a new proof request).
//   - remove() is best effort and never throws: the key expires on its own anyway.
//   - ping() returns false on any failure.
//   - The constructor connects once and throws CacheError when that fails (fail fast at startup:
//     wrong host, port, password or database); later connections are made on demand.
//
// Time bounds: a command on a pooled connection waits at most command_timeout for Redis; a call
// that must open a connection first adds at most connect_timeout plus one command_timeout per
// setup command (AUTH, SELECT, SCRIPT LOAD). A call waits at most command_timeout for a free
// connection when all pool_size connections are busy, then throws CacheError.
//
// Keys: add()/remove() use "<key_prefix>key:<key>" (a string, SET NX PX); take_token() uses
// "<key_prefix>bucket:<bucket>" (a hash {tokens, at}), so keys and buckets of the same name are
// independent, as in MemoryCache. Needs Redis 5 or newer (script effects replication).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/ports.hpp"

struct redisContext;

namespace pg::cache {

/// Redis failed: unreachable, timed out, refused the command or answered something unexpected.
/// The message names the server (never the password) and the command, never the key.
class CacheError : public core::CacheUnavailable {
 public:
  using core::CacheUnavailable::CacheUnavailable;
};

struct RedisSettings {
  /// redis://[[user]:password@]host[:port][/db]; host is a name, an IPv4 address or [IPv6];
  /// port defaults to 6379, db to 0; user and password may be %-encoded.
  std::string url;
  std::size_t pool_size = 8;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{500};
  std::string key_prefix = "pg:";
};

/// A parsed redis:// URL.
struct RedisEndpoint {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 6379;
  std::string username;  // empty: AUTH with the password alone (the default user)
  std::string password;  // empty: no AUTH
  std::uint32_t db = 0;

  /// "redis://host:port/db" with any credentials left out: safe to log.
  std::string redacted() const;
};

/// Parses `url` strictly. Throws std::invalid_argument whose message starts "redis_url: " and
/// names what is wrong (scheme, host, port, database, %-escape, ...); it never repeats the
/// password.
RedisEndpoint parse_redis_url(std::string_view url);

class RedisCache final : public core::Cache {
 public:
  /// Throws std::invalid_argument for a malformed URL or settings, CacheError when the first
  /// connection fails.
  explicit RedisCache(RedisSettings settings);
  ~RedisCache() override;
  RedisCache(const RedisCache&) = delete;
  RedisCache& operator=(const RedisCache&) = delete;

  /// SET <prefix>key:<key> 1 NX PX ttl (ttl below 1 ms counts as 1 ms). Throws CacheError.
  bool add(std::string_view key, std::chrono::milliseconds ttl) override;
  /// DEL; errors are swallowed.
  void remove(std::string_view key) override;
  /// MemoryCache's token bucket in one Lua script on the server's clock (TIME), so every
  /// instance shares one clock; the bucket expires once it would be full again. Throws
  /// CacheError, and std::invalid_argument unless rate > 0 and 0 <= burst (both finite).
  core::RateDecision take_token(std::string_view bucket, double rate, double burst) override;
  /// PING answered PONG.
  bool ping() noexcept override;

  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const noexcept;
  };
  using Context = std::unique_ptr<redisContext, ContextDeleter>;
  class Lease;

  Context connect();
  Lease acquire();
  void release(Context c) noexcept;
  void discard() noexcept;

  const RedisSettings settings_;
  const RedisEndpoint endpoint_;
  const std::string server_;  // "redis host:port", for messages
  std::string script_sha_;    // set by the constructor's first connect(), read-only after

  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<Context> idle_;
  std::size_t open_ = 0;  // idle plus leased
};

}  // namespace pg::cache
