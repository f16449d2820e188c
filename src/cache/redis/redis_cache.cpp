// RedisCache on hiredis's blocking API: a small pool of connections, each with socket timeouts
// (see redis_cache.hpp for the failure semantics).
#include "cache/redis/redis_cache.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace pg::cache {

namespace {

// The token bucket of MemoryCache::take_token, on the server's clock (milliseconds, as there).
// KEYS[1]: the bucket hash {tokens, at}; ARGV[1]: rate (tokens per second) > 0; ARGV[2]: burst.
// Returns {allowed (0/1), retry_after_seconds as a string} (a Lua number would be truncated to an
// integer on the way out). The bucket expires once it would be full again: a missing bucket is a
// full one, so that changes no answer. A clock stepping back refills nothing (elapsed >= 0).
constexpr std::string_view kTakeTokenScript = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + rate * math.max(0, now - at) / 1000)
end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%d', now))
local ttl = math.max(1, math.ceil((burst - tokens) / rate * 1000))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.min(ttl, 1e15)))
return {allowed, string.format('%.17g', retry)}
)lua";

constexpr std::uint32_t kMaxDb = std::numeric_limits<std::int32_t>::max();

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(ms.count() % 1000 * 1000);
  return tv;
}

std::string_view reply_text(const redisReply& r) {
  return {r.str, r.len};
}

/// hiredis writes with write(2): a peer that reset the connection raises SIGPIPE, which would end
/// the process. Blocks SIGPIPE in this thread for the duration and consumes one this thread
/// raised (the technique of libcurl's sigpipe.h); a SIGPIPE pending before stays pending.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        const timespec zero{};
        while (sigtimedwait(&pipe, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

/// True unless the peer closed or reset the connection, or sent something nobody asked for
/// (a pooled connection has no reply outstanding). Costs one non-blocking recv, no round trip.
bool usable(redisContext* c) {
  if (c->err != 0) return false;
  char byte;
  const ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// --- URL parsing ---

[[noreturn]] void bad_url(std::string what) {
  throw std::invalid_argument("redis_url: " + what);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) bad_url("the " + std::string(what) + " has a malformed %-escape");
    const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) bad_url("the " + std::string(what) + " has a malformed %-escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// For messages: `s` as given when it is short and printable, else a description.
std::string quoted(std::string_view s) {
  const bool printable =
      std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  std::string out;  // appended piece by piece: GCC 12 warns (-Wrestrict) on "literal" + string&&
  if (!printable || s.size() > 64) {
    out.append("(").append(std::to_string(s.size())).append(" characters)");
  } else {
    out.append("'").append(s).append("'");
  }
  return out;
}

std::string host_port(const RedisEndpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos;
  return (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

std::string number(double x) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), x);
  return std::string(buf.data(), ec == std::errc() ? end : buf.data());
}

}  // namespace

std::string RedisEndpoint::redacted() const {
  std::string out = "redis://";
  if (!username.empty()) out += username + "@";
  return out + host_port(*this) + "/" + std::to_string(db);
}

RedisEndpoint parse_redis_url(std::string_view url) {
  if (url.empty()) bad_url("is empty");
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) bad_url("must start with redis://");
  std::string scheme(url.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  if (scheme == "rediss") bad_url("rediss:// (TLS) is not supported by this build; use redis://");
  if (scheme == "unix" || scheme == "redis+unix")
    bad_url("unix sockets are not supported; use redis://host:port");
  if (scheme != "redis") bad_url("scheme " + quoted(scheme) + " is not redis://");
  std::string_view rest = url.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) {
    bad_url("fragments ('#') are not supported (a '#' in the password must be written %23)");
  }
  if (rest.find('?') != std::string_view::npos) {
    bad_url("query parameters ('?') are not supported (a '?' in the password must be written %3F)");
  }
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);

  RedisEndpoint e;
  std::string_view hostport = authority;
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    hostport = authority.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos)
      bad_url("credentials need a password: redis://[user]:password@host");
    e.username = percent_decode(userinfo.substr(0, colon), "user");
    e.password = percent_decode(userinfo.substr(colon + 1), "password");
    if (e.password.empty()) bad_url("the password after ':' is empty");
  }

  std::string_view host, port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) bad_url("the IPv6 host has no closing ']'");
    host = hostport.substr(1, close - 1);
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad_url("expected ':port' after the IPv6 host");
      port = after.substr(1);
      has_port = true;
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return hex_value(c) >= 0 || c == ':' || c == '.';
        })) {
      bad_url("the IPv6 host " + quoted(host) + " is not an IPv6 address");
    }
  } else {
    const std::size_t colon = hostport.find(':');
    if (colon != std::string_view::npos &&
        hostport.find(':', colon + 1) != std::string_view::npos) {
      bad_url("an IPv6 host must be written in brackets: redis://[::1]:6379");
    }
    host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = hostport.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) bad_url("the host is missing");
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
        })) {
      bad_url("the host " + quoted(host) +
              " has characters other than letters, digits, '.', '-' and '_'");
    }
  }
  e.host = host;
  if (has_port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (!all_digits(port) || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
        value > 65535) {
      bad_url("the port " + quoted(port) + " is not a number from 1 to 65535");
    }
    e.port = static_cast<std::uint16_t>(value);
  }
  if (!path.empty()) {
    std::uint32_t db = 0;
    const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (!all_digits(path) || ec != std::errc() || end != path.data() + path.size() || db > kMaxDb) {
      bad_url("the database " + quoted(path) + " is not a number (the path is /<db>, 0 to " +
              std::to_string(kMaxDb) + ")");
    }
    e.db = db;
  }
  return e;
}

namespace {

/// Runs one command on `c`. Throws CacheError when Redis does not answer in time or the
/// connection fails (and leaves `c->err` set, so the connection is closed, never reused in an
/// unknown state); an error reply is returned for the caller to judge.
Reply run(redisContext* c, std::initializer_list<std::string_view> args, std::string_view name,
          const std::string& server, std::chrono::milliseconds timeout) {
  constexpr std::size_t kMaxArgs = 8;
  std::array<const char*, kMaxArgs> argv{};
  std::array<std::size_t, kMaxArgs> lens{};
  std::size_t n = 0;
  for (const std::string_view a : args) {
    argv[n] = a.data();
    lens[n] = a.size();
    ++n;
  }
  void* raw = nullptr;
  int saved_errno = 0;
  {
    const SigpipeGuard guard;
    errno = 0;
    raw = redisCommandArgv(c, static_cast<int>(n), argv.data(), lens.data());
    saved_errno = errno;
  }
  if (raw == nullptr) {
    std::string why;
    if (c->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
      why = "no answer within " + std::to_string(timeout.count()) + " ms";
    } else if (c->err != 0) {
      why = c->errstr;
    } else {
      why = "no reply";
      c->err = REDIS_ERR_OTHER;
    }
    throw CacheError(server + ": " + std::string(name) + ": " + why);
  }
  return Reply(static_cast<redisReply*>(raw));
}

[[noreturn]] void refused(const std::string& server, std::string_view name, const redisReply& r) {
  throw CacheError(server + ": " + std::string(name) + " refused: " + std::string(reply_text(r)));
}

RedisSettings validated(RedisSettings s) {
  if (s.pool_size == 0) throw std::invalid_argument("redis pool_size: must be at least 1");
  if (s.connect_timeout.count() <= 0)
    throw std::invalid_argument("redis connect_timeout: must be positive");
  if (s.command_timeout.count() <= 0)
    throw std::invalid_argument("redis command_timeout: must be positive");
  return s;
}

}  // namespace

// --- the pool ---

void RedisCache::ContextDeleter::operator()(redisContext* c) const noexcept {
  redisFree(c);
}

/// A connection taken from the pool: back to the pool when the lease ends, unless a command on it
/// failed at the connection level (then it is closed and its slot freed).
class RedisCache::Lease {
 public:
  Lease(RedisCache& owner, Context c) : owner_(&owner), c_(std::move(c)) {}
  Lease(Lease&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)), c_(std::move(other.c_)) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (owner_ == nullptr) return;
    if (c_->err == 0) {
      owner_->release(std::move(c_));
    } else {
      c_.reset();
      owner_->discard();
    }
  }

  Reply command(std::initializer_list<std::string_view> args, std::string_view name) {
    return run(c_.get(), args, name, owner_->server_, owner_->settings_.command_timeout);
  }
  /// As command(); an error reply throws CacheError too.
  Reply checked(std::initializer_list<std::string_view> args, std::string_view name) {
    Reply r = command(args, name);
    if (r->type == REDIS_REPLY_ERROR) refused(owner_->server_, name, *r);
    return r;
  }

 private:
  RedisCache* owner_;
  Context c_;
};

RedisCache::RedisCache(RedisSettings settings)
    : settings_(validated(std::move(settings))),
      endpoint_(parse_redis_url(settings_.url)),
      server_("redis " + host_port(endpoint_)) {
  // The first connection shows at once whether the host, credentials and database are right.
  Context c = connect();
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(c));
  open_ = 1;
}

RedisCache::~RedisCache() = default;

RedisCache::Context RedisCache::connect() {
  Context c(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                    to_timeval(settings_.connect_timeout)));
  if (!c) throw CacheError(server_ + ": cannot connect: out of memory");
  if (c->err != 0) throw CacheError(server_ + ": cannot connect: " + std::string(c->errstr));
  if (redisSetTimeout(c.get(), to_timeval(settings_.command_timeout)) != REDIS_OK) {
    throw CacheError(server_ + ": cannot set the command timeout: " + std::string(c->errstr));
  }
  redisEnableKeepAlive(c.get());
  const auto checked = [&](std::initializer_list<std::string_view> args, std::string_view name) {
    Reply r = run(c.get(), args, name, server_, settings_.command_timeout);
    if (r->type == REDIS_REPLY_ERROR) refused(server_, name, *r);
    return r;
  };
  if (!endpoint_.password.empty()) {
    if (endpoint_.username.empty()) {
      checked({"AUTH", endpoint_.password}, "AUTH");
    } else {
      checked({"AUTH", endpoint_.username, endpoint_.password}, "AUTH");
    }
  }
  if (endpoint_.db != 0) checked({"SELECT", std::to_string(endpoint_.db)}, "SELECT");
  // Loaded on every new connection: a restarted server has lost its scripts.
  const Reply sha = checked({"SCRIPT", "LOAD", kTakeTokenScript}, "SCRIPT LOAD");
  if (sha->type != REDIS_REPLY_STRING)
    throw CacheError(server_ + ": SCRIPT LOAD: unexpected reply");
  if (script_sha_.empty()) script_sha_ = reply_text(*sha);  // the constructor's connection: no race
  return c;
}

RedisCache::Lease RedisCache::acquire() {
  std::vector<Context> stale;  // declared before the lock: closed after it is released
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + settings_.command_timeout;
  for (;;) {
    while (!idle_.empty()) {
      Context c = std::move(idle_.back());
      idle_.pop_back();
      if (usable(c.get())) return Lease(*this, std::move(c));
      --open_;
      stale.push_back(std::move(c));
    }
    if (open_ < settings_.pool_size) {
      ++open_;
      lock.unlock();
      try {
        return Lease(*this, connect());
      } catch (...) {
        discard();
        throw;
      }
    }
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= settings_.pool_size) {
      throw CacheError(server_ + ": no free connection within " +
                       std::to_string(settings_.command_timeout.count()) + " ms (pool_size " +
                       std::to_string(settings_.pool_size) + ")");
    }
  }
}

void RedisCache::release(Context c) noexcept {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(c));
  }
  freed_.notify_one();
}

void RedisCache::discard() noexcept {
  {
    std::lock_guard lock(mu_);
    --open_;
  }
  freed_.notify_one();
}

// --- the port ---

bool RedisCache::add(std::string_view key, std::chrono::milliseconds ttl) {
  const std::string k = settings_.key_prefix + "key:" + std::string(key);
  const std::string px = std::to_string(std::max<std::chrono::milliseconds::rep>(1, ttl.count()));
  Lease c = acquire();
  const Reply r = c.checked({"SET", k, "1", "NX", "PX", px}, "SET");
  if (r->type == REDIS_REPLY_STATUS && reply_text(*r) == "OK") return true;
  if (r->type == REDIS_REPLY_NIL) return false;
  throw CacheError(server_ + ": SET: unexpected reply");
}

void RedisCache::remove(std::string_view key) {
  try {
    const std::string k = settings_.key_prefix + "key:" + std::string(key);
    Lease c = acquire();
    c.command({"DEL", k}, "DEL");
  } catch (...) {
    // Best effort: the key expires on its own.
  }
}

core::RateDecision RedisCache::take_token(std::string_view bucket, double rate, double burst) {
  if (!(std::isfinite(rate) && rate > 0) || !(std::isfinite(burst) && burst >= 0)) {
    throw std::invalid_argument(
        "take_token: rate must be positive and burst non-negative, both finite");
  }
  const std::string k = settings_.key_prefix + "bucket:" + std::string(bucket);
  const std::string r = number(rate), b = number(burst);
  Lease c = acquire();
  Reply reply = c.command({"EVALSHA", script_sha_, "1", k, r, b}, "EVALSHA");
  if (reply->type == REDIS_REPLY_ERROR && reply_text(*reply).starts_with("NOSCRIPT")) {
    // SCRIPT FLUSH or a failover since this connection loaded it; EVAL caches it again.
    reply = c.checked({"EVAL", kTakeTokenScript, "1", k, r, b}, "EVAL");
  } else if (reply->type == REDIS_REPLY_ERROR) {
    refused(server_, "EVALSHA", *reply);
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != REDIS_REPLY_INTEGER ||
      reply->element[1]->type != REDIS_REPLY_STRING) {
    throw CacheError(server_ + ": take_token: unexpected reply");
  }
  const std::string_view retry_text = reply_text(*reply->element[1]);
  double retry = 0;
  const auto [end, ec] =
      std::from_chars(retry_text.data(), retry_text.data() + retry_text.size(), retry);
  if (ec != std::errc() || end != retry_text.data() + retry_text.size()) {
    throw CacheError(server_ + ": take_token: unexpected retry_after " + quoted(retry_text));
  }
  return {reply->element[0]->integer == 1, retry};
}

bool RedisCache::ping() noexcept {
  try {
    Lease c = acquire();
    const Reply r = c.command({"PING"}, "PING");
    return r->type == REDIS_REPLY_STATUS && reply_text(*r) == "PONG";
  } catch (...) {
    return false;
  }
}

}  // namespace pg::cache
