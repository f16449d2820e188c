// MtlsAuthorityClient: one net::exchange per attempt over mutual TLS under one deadline,
// retries only where they cannot do harm, a circuit breaker shared by all calls, and strict
// decoding of every answer (docs/issuers.md, "The adapter protocol").
#include "issuer/authority_client.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/json.hpp>
#include <exception>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "crypto/snarkjs_codec.hpp"
#include "log/log.hpp"
#include "net/http_exchange.hpp"

namespace pg::issuer {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using Kind = AuthorityFailure::Kind;

constexpr std::size_t kMaxAnswerBody = 64 * 1024;
constexpr std::uint32_t kMaxAnswerHeader = 16 * 1024;
constexpr std::size_t kMaxRecordLength = 64;

struct Target {
  std::string host;  // without brackets
  std::string port;
  bool host_is_ip = false;
  std::string host_header;
};

/// https://host[:port][/] and nothing else: no user info, path, query or fragment.
Target parse_url(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument("authority URL \"" + std::string(url) + "\": " + why);
  };
  if (url.substr(0, kScheme.size()) != kScheme) throw bad("must start with https://");
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    throw bad("must be https://host[:port] without a path, query or user");
  }
  Target t;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) throw bad("unclosed [ in the host");
    t.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') throw bad("unexpected text after ]");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const auto colon = rest.find(':');
    t.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (t.host.empty()) throw bad("no host");
  beast::error_code ec;
  asio::ip::make_address(t.host, ec);
  t.host_is_ip = !ec;
  if (!t.host_is_ip && !std::all_of(t.host.begin(), t.host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
      })) {
    throw bad("the host is neither a DNS name nor an IP address");
  }
  if (port.empty()) port = "443";
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
    throw bad("the port must be 1 to 65535");
  }
  t.port = std::string(port);
  const bool v6 = t.host_is_ip && t.host.find(':') != std::string::npos;
  t.host_header = (v6 ? "[" + t.host + "]" : t.host) + ":" + t.port;
  return t;
}

// ---- strict decoding ----

/// Empty when `o` has exactly the members `names`, else the first difference.
std::string exact_members(const json::object& o, std::initializer_list<std::string_view> names) {
  for (const auto& member : o) {
    if (std::find(names.begin(), names.end(), member.key()) == names.end()) {
      return "unexpected member \"" + std::string(member.key()) + "\"";
    }
  }
  for (const std::string_view name : names) {
    if (!o.contains(name)) return "missing member \"" + std::string(name) + "\"";
  }
  return "";
}

/// Thrown inside the decoders only, caught in decode_answer: the answer is not the protocol's.
struct NotProtocol {
  std::string what;
};

std::string text(const json::object& o, std::string_view key, std::size_t max = 256) {
  const json::value& v = o.at(key);
  if (!v.is_string()) throw NotProtocol{"\"" + std::string(key) + "\" must be a string"};
  const json::string& s = v.as_string();
  if (s.empty() || s.size() > max) {
    throw NotProtocol{"\"" + std::string(key) + "\" must be 1 to " + std::to_string(max) +
                      " characters"};
  }
  return std::string(s);
}

std::int64_t integer(const json::object& o, std::string_view key, std::int64_t lo,
                     std::int64_t hi) {
  const json::value& v = o.at(key);
  // Only JSON integers: 1.0, 1e3 and numbers past int64 are refused, never rounded.
  if (!v.is_int64() || v.as_int64() < lo || v.as_int64() > hi) {
    if (v.is_uint64() && static_cast<std::uint64_t>(hi) >= v.as_uint64() && lo <= 0) {
      return static_cast<std::int64_t>(v.as_uint64());
    }
    throw NotProtocol{"\"" + std::string(key) + "\" must be an integer from " + std::to_string(lo) +
                      " to " + std::to_string(hi)};
  }
  return v.as_int64();
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

json::object parse_object(std::string_view body) {
  // snarkjs::parse_json also refuses a member named twice (Boost.JSON would keep the last one).
  crypto::Result<json::value> parsed = crypto::snarkjs::parse_json(body, "the answer");
  if (!parsed) throw NotProtocol{parsed.error().to_string()};
  json::value& v = *parsed;
  if (!v.is_object()) throw NotProtocol{"the answer is not a JSON object"};
  return std::move(v.as_object());
}

void require_members(const json::object& o, std::initializer_list<std::string_view> names) {
  if (std::string problem = exact_members(o, names); !problem.empty()) throw NotProtocol{problem};
}

CodeSent decode_code_sent(const json::object& o) {
  require_members(o, {"sent_to", "expires_in"});
  CodeSent sent;
  sent.sent_to = text(o, "sent_to", 20);
  if (!std::all_of(sent.sent_to.begin(), sent.sent_to.end(),
                   [](char c) { return (c >= '0' && c <= '9') || c == '*'; })) {
    throw NotProtocol{"\"sent_to\" must be a masked phone number"};
  }
  sent.expires_in_s = static_cast<unsigned>(integer(o, "expires_in", 1, 86400));
  return sent;
}

AuthorityRecord decode_record(const json::object& o, AuthorityKind kind, std::string_view record) {
  const json::value* k = o.if_contains("kind");
  if (k == nullptr || !k->is_string()) throw NotProtocol{"\"kind\" must be a string"};
  if (k->as_string() != kind_name(kind)) {
    throw NotProtocol{"a record of kind \"" + std::string(k->as_string().subview(0, 8)) +
                      "\" from a " + std::string(kind_name(kind)) + " authority"};
  }
  const auto check_number = [&](const std::string& got) {
    if (got != record) throw NotProtocol{"the record number differs from the one asked for"};
  };
  switch (kind) {
    case AuthorityKind::kMoha: {
      require_members(o, {"kind", "record", "name", "date_of_birth_bs", "phone"});
      MohaRecord r;
      r.certificate_no = text(o, "record", kMaxRecordLength);
      check_number(r.certificate_no);
      r.name = text(o, "name");
      r.date_of_birth_bs = text(o, "date_of_birth_bs", 10);
      const std::string& d = r.date_of_birth_bs;
      if (d.size() != 10 || d[4] != '-' || d[7] != '-' || !all_digits(d.substr(0, 4)) ||
          !all_digits(d.substr(5, 2)) || !all_digits(d.substr(8, 2)) ||
          std::stoi(d.substr(5, 2)) < 1 || std::stoi(d.substr(5, 2)) > 12 ||
          std::stoi(d.substr(8, 2)) < 1 || std::stoi(d.substr(8, 2)) > 32) {
        throw NotProtocol{"\"date_of_birth_bs\" must be a date YYYY-MM-DD"};
      }
      r.phone = text(o, "phone", 10);
      if (r.phone.size() != 10 || !all_digits(r.phone)) {
        throw NotProtocol{"\"phone\" must be ten digits"};
      }
      return r;
    }
    case AuthorityKind::kTu: {
      require_members(o, {"kind", "record", "degree_level", "graduation_year_bs", "institution_id",
                          "institution"});
      TuRecord r;
      r.registration_no = text(o, "record", kMaxRecordLength);
      check_number(r.registration_no);
      r.degree_level = static_cast<int>(integer(o, "degree_level", 1, 7));
      r.graduation_year_bs = static_cast<int>(integer(o, "graduation_year_bs", 1900, 2200));
      r.institution_id = static_cast<int>(integer(o, "institution_id", 1, 0x7fffffff));
      r.institution = text(o, "institution");
      return r;
    }
    case AuthorityKind::kNrb: {
      require_members(o, {"kind", "record", "incomes"});
      NrbRecord r;
      r.pan = text(o, "record", kMaxRecordLength);
      check_number(r.pan);
      const json::value& incomes = o.at("incomes");
      if (!incomes.is_array() || incomes.as_array().empty() || incomes.as_array().size() > 50) {
        throw NotProtocol{"\"incomes\" must be an array of 1 to 50 years"};
      }
      for (const json::value& year : incomes.as_array()) {
        if (!year.is_object()) throw NotProtocol{"each of \"incomes\" must be an object"};
        const json::object& y = year.as_object();
        require_members(y, {"fiscal_year_bs", "annual_income_npr"});
        IncomeYear income;
        income.fiscal_year_bs = static_cast<int>(integer(y, "fiscal_year_bs", 1900, 2200));
        income.annual_income_npr = static_cast<std::uint64_t>(
            integer(y, "annual_income_npr", 0, std::numeric_limits<std::int64_t>::max()));
        r.incomes.push_back(income);
      }
      return r;
    }
  }
  throw NotProtocol{"unknown kind"};
}

/// The error answers of the protocol: {"error": NAME} (and retry_after for 429).
AuthorityFailure decode_refusal(unsigned status, const json::object& o) {
  const auto expect = [&](std::string_view name) {
    require_members(o, {"error"});
    const json::value& e = o.at("error");
    if (!e.is_string() || e.as_string() != name) {
      throw NotProtocol{"status " + std::to_string(status) + " without \"error\": \"" +
                        std::string(name) + "\""};
    }
  };
  switch (status) {
    case 404:
      expect("unknown_record");
      return {Kind::kUnknownRecord, "the authority has no such record", 0};
    case 401:
      expect("wrong_code");
      return {Kind::kWrongCode, "the code is wrong", 0};
    case 410:
      expect("code_expired");
      return {Kind::kCodeExpired, "the code expired or was used", 0};
    case 429: {
      require_members(o, {"error", "retry_after"});
      const json::value& e = o.at("error");
      if (!e.is_string() || e.as_string() != "locked") {
        throw NotProtocol{"status 429 without \"error\": \"locked\""};
      }
      const auto retry = static_cast<unsigned>(integer(o, "retry_after", 0, 86400));
      return {Kind::kLockedOut, "the record is locked out", retry};
    }
    default:
      break;
  }
  throw NotProtocol{"unexpected status " + std::to_string(status)};
}

/// A tag that lets one process's log lines about the same record be matched, and nothing more:
/// HMAC-SHA256 under a random key of this process. A plain hash of a record number would not do:
/// record numbers are few (a PAN is nine digits), so a plain hash is reversed by trying them all.
std::string short_hash(std::string_view record) {
  static const std::string key = [] {
    std::string k(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(k.data()), 32) != 1) {
      throw std::runtime_error("RAND_bytes failed");
    }
    return k;
  }();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(record.data()), record.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 6; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string_view outcome_name(Kind kind) {
  switch (kind) {
    case Kind::kUnknownRecord:
      return "unknown_record";
    case Kind::kWrongCode:
      return "wrong_code";
    case Kind::kCodeExpired:
      return "code_expired";
    case Kind::kLockedOut:
      return "locked";
    case Kind::kUnavailable:
      return "unavailable";
    case Kind::kBadAnswer:
      return "bad_answer";
  }
  return "unknown";
}

}  // namespace

std::string_view breaker_name(BreakerState state) noexcept {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

struct MtlsAuthorityClient::Impl {
  AuthorityClientSettings settings;
  net::Peer peer;
  ssl::context ctx{ssl::context::tls_client};

  std::atomic<std::uint64_t> calls{0}, failures{0}, attempts{0}, retries{0}, fast_fails{0};

  // The breaker: consecutive kUnavailable or kBadAnswer calls open it; after breaker_open one trial
  // call goes through (half-open) and its outcome closes or re-opens it.
  mutable std::mutex mutex;
  BreakerState breaker = BreakerState::kClosed;
  unsigned consecutive = 0;
  Clock::time_point opened_at{};
  bool trial_in_flight = false;

  enum class Admission { kGo, kTrial, kRefused };

  Admission admit(unsigned& retry_after) {
    std::lock_guard lock(mutex);
    const auto now = Clock::now();
    if (breaker == BreakerState::kOpen) {
      const auto reopen = opened_at + settings.breaker_open;
      if (now < reopen) {
        retry_after =
            static_cast<unsigned>(std::chrono::ceil<std::chrono::seconds>(reopen - now).count());
        return Admission::kRefused;
      }
      breaker = BreakerState::kHalfOpen;
      trial_in_flight = false;
    }
    if (breaker == BreakerState::kHalfOpen) {
      if (trial_in_flight) {
        retry_after = 1;
        return Admission::kRefused;
      }
      trial_in_flight = true;
      return Admission::kTrial;
    }
    return Admission::kGo;
  }

  void settle(bool broken, bool trial) {
    std::lock_guard lock(mutex);
    if (trial) trial_in_flight = false;
    if (!broken) {
      consecutive = 0;
      if (breaker != BreakerState::kClosed) log::info("authority circuit breaker closed");
      breaker = BreakerState::kClosed;
      return;
    }
    ++consecutive;
    if (trial || (breaker == BreakerState::kClosed && consecutive >= settings.breaker_failures)) {
      breaker = BreakerState::kOpen;
      opened_at = Clock::now();
      log::warn("authority circuit breaker open",
                {{"consecutive_failures", consecutive},
                 {"open_seconds", static_cast<std::int64_t>(settings.breaker_open.count())}});
    }
  }

  /// One attempt under the per-attempt deadline.
  net::Answer attempt(std::string_view route, const std::string& body) {
    net::Request req{"POST",
                     std::string(route),
                     {{"Content-Type", "application/json"}, {"User-Agent", "proofgate-issuer/1"}},
                     body};
    net::Limits limits;
    limits.timeout = settings.timeout;
    limits.max_header = kMaxAnswerHeader;
    limits.max_body = kMaxAnswerBody;
    return net::exchange(peer, req, &ctx, limits);
  }

  struct Outcome {
    std::optional<AuthorityFailure> failure;  // nullopt: a good answer in `body`
    bool transient = false;  // worth another attempt (timeouts, refused connections, 5xx)
    bool not_sent = false;   // the request surely never reached the authority
  };

  Outcome judge(const net::Answer& ex) {
    Outcome o;
    if (ex.answered) {
      if (ex.status >= 500) {
        o.failure = AuthorityFailure{Kind::kUnavailable,
                                     "the authority answered " + std::to_string(ex.status), 0};
        o.transient = true;
      }
      return o;
    }
    std::string detail;
    if (!ex.setup_error.empty()) {
      detail = ex.setup_error;
    } else if (ex.timed_out) {
      detail = "timeout after " + std::to_string(settings.timeout.count()) + " ms (" +
               std::string(net::stage_words(ex.stage)) + ")";
      o.transient = true;
    } else if (ex.stage == net::Stage::kHandshake) {
      detail = "TLS handshake failed: " + (ex.verify_error.empty()
                                               ? ex.ec.message()
                                               : "certificate verification: " + ex.verify_error);
      // A certificate that does not verify will not verify on the next attempt either.
      o.transient = ex.ec.category() != asio::error::get_ssl_category();
    } else {
      detail = "failed " + std::string(net::stage_words(ex.stage)) + ": " + ex.ec.message();
      o.transient = true;
    }
    o.not_sent = ex.stage == net::Stage::kResolve || ex.stage == net::Stage::kConnect ||
                 ex.stage == net::Stage::kHandshake;
    o.failure = AuthorityFailure{Kind::kUnavailable, std::move(detail), 0};
    return o;
  }

  /// Sends `body` to `route` with the retry policy and the breaker; `decode` turns a good answer
  /// (status `ok_status`) into T and throws NotProtocol for anything else.
  template <class T, class Decode>
  AuthorityResult<T> call(std::string_view route, std::string_view record, const std::string& body,
                          bool retry_after_sent, unsigned ok_status, Decode decode) {
    ++calls;
    const std::string record_hash = short_hash(record);
    unsigned retry_after = 0;
    const Admission admission = admit(retry_after);
    if (admission == Admission::kRefused) {
      ++fast_fails;
      ++failures;
      log::warn("authority call", {{"route", route},
                                   {"record_tag", record_hash},
                                   {"outcome", "unavailable"},
                                   {"error", "circuit breaker open"}});
      return AuthorityFailure{Kind::kUnavailable, "circuit breaker open", retry_after};
    }
    const bool trial = admission == Admission::kTrial;
    // A half-open trial is one attempt: it only asks whether the authority is back.
    const unsigned max_attempts = trial ? 1 : std::max(1u, settings.attempts);
    std::optional<AuthorityResult<T>> result;
    for (unsigned n = 1;; ++n) {
      ++attempts;
      if (n > 1) ++retries;
      const auto start = Clock::now();
      const net::Answer ex = attempt(route, body);
      Outcome outcome = judge(ex);
      if (!outcome.failure) {
        try {
          const json::object o = parse_object(ex.body);
          if (ex.status == static_cast<int>(ok_status)) {
            result.emplace(decode(o));
          } else {
            result.emplace(decode_refusal(ex.status, o));
          }
        } catch (const NotProtocol& e) {
          result.emplace(AuthorityFailure{
              Kind::kBadAnswer, "status " + std::to_string(ex.status) + ": " + e.what, 0});
        }
      } else {
        result.emplace(*outcome.failure);
      }
      const std::int64_t latency_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
      const bool failed = !result->ok();
      std::vector<log::Field> fields{
          {"route", route},
          {"status", ex.status},
          {"latency_ms", latency_ms},
          {"attempt", n},
          {"record_tag", record_hash},
          {"outcome", failed ? outcome_name(result->error().kind) : "ok"}};
      if (failed) fields.emplace_back("error", result->error().detail);
      const bool bad = failed && (result->error().kind == Kind::kUnavailable ||
                                  result->error().kind == Kind::kBadAnswer);
      log::write(bad ? log::Level::kWarn : log::Level::kInfo, "authority call", fields);

      const bool may_retry = outcome.failure && outcome.transient &&
                             (retry_after_sent || outcome.not_sent) && n < max_attempts;
      if (!may_retry) break;
      std::this_thread::sleep_for(backoff(n));
    }
    // An authority answering garbage is as broken as one that does not answer: both count for
    // the breaker, so a half-open trial that gets garbage opens it again instead of closing it.
    const bool broken = !result->ok() && (result->error().kind == Kind::kUnavailable ||
                                          result->error().kind == Kind::kBadAnswer);
    if (broken) ++failures;
    settle(broken, trial);
    return std::move(*result);
  }

  /// Before attempt n + 1: backoff * 2^(n-1), plus up to half of that again at random, so
  /// several nodes retrying together spread out.
  std::chrono::milliseconds backoff(unsigned n) const {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto base = settings.backoff * (1LL << std::min(n - 1, 10u));
    std::uniform_int_distribution<std::int64_t> jitter(0, base.count() / 2);
    return base + std::chrono::milliseconds(jitter(rng));
  }
};

MtlsAuthorityClient::MtlsAuthorityClient(AuthorityClientSettings settings)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.settings = std::move(settings);
  Target target = parse_url(s.settings.url);
  s.peer = net::Peer{target.host,
                     static_cast<std::uint16_t>(std::stoul(target.port)),
                     target.host_is_ip,
                     target.host_header,
                     {}};
  if (s.settings.attempts == 0)
    throw std::invalid_argument("authority client: attempts must be >= 1");
  if (s.settings.breaker_failures == 0) {
    throw std::invalid_argument("authority client: breaker_failures must be >= 1");
  }
  if (s.settings.timeout <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("authority client: the timeout must be positive");
  }
  beast::error_code ec;
  s.ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                    ec);
  if (ec || SSL_CTX_set_min_proto_version(s.ctx.native_handle(), TLS1_2_VERSION) != 1) {
    throw std::invalid_argument("authority client: cannot require TLS 1.2 or later");
  }
  // Only the deployment's CA: the system's CAs do not vouch for an authority.
  s.ctx.load_verify_file(s.settings.ca_file, ec);
  if (ec) throw std::invalid_argument("authority client: cannot load the CA " + s.settings.ca_file);
  s.ctx.use_certificate_chain_file(s.settings.cert_file, ec);
  if (ec) {
    throw std::invalid_argument("authority client: cannot load the client certificate " +
                                s.settings.cert_file);
  }
  s.ctx.use_private_key_file(s.settings.key_file, ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(s.ctx.native_handle()) != 1) {
    throw std::invalid_argument("authority client: cannot use the client key " +
                                s.settings.key_file + " (unreadable or not the certificate's)");
  }
  s.ctx.set_verify_mode(ssl::verify_peer, ec);
  if (ec) throw std::invalid_argument("authority client: TLS setup failed: " + ec.message());
}

MtlsAuthorityClient::~MtlsAuthorityClient() = default;

namespace {
bool plausible_record(std::string_view record) {
  return !record.empty() && record.size() <= kMaxRecordLength &&
         std::all_of(record.begin(), record.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}
}  // namespace

AuthorityResult<CodeSent> MtlsAuthorityClient::send_code(std::string_view record) {
  if (!plausible_record(record)) {
    return AuthorityFailure{Kind::kUnknownRecord, "not a record number", 0};
  }
  const std::string body = json::serialize(json::object{{"record", record}});
  // Asking again for a code is harmless (the authority replaces the code and rate-limits), so
  // every transient failure is retried.
  return impl_->call<CodeSent>("/authority/v1/codes", record, body, /*retry_after_sent=*/true, 202,
                               [](const json::object& o) { return decode_code_sent(o); });
}

AuthorityResult<AuthorityRecord> MtlsAuthorityClient::fetch_record(std::string_view record,
                                                                   std::string_view code) {
  if (!plausible_record(record)) {
    return AuthorityFailure{Kind::kUnknownRecord, "not a record number", 0};
  }
  if (code.size() != 6 || !all_digits(code)) {
    return AuthorityFailure{Kind::kWrongCode, "the code is not six digits", 0};
  }
  const std::string body = json::serialize(json::object{{"record", record}, {"code", code}});
  const AuthorityKind kind = impl_->settings.kind;
  // The code is single-use: once the request may have reached the authority, a second attempt
  // could find it spent (410) although the first one released the record. Retried only when the
  // request surely never left (connect or TLS handshake failed).
  return impl_->call<AuthorityRecord>(
      "/authority/v1/records", record, body, /*retry_after_sent=*/false, 200,
      [kind, record](const json::object& o) { return decode_record(o, kind, record); });
}

AuthorityClientStats MtlsAuthorityClient::stats() const {
  AuthorityClientStats s;
  s.calls = impl_->calls.load();
  s.failures = impl_->failures.load();
  s.attempts = impl_->attempts.load();
  s.retries = impl_->retries.load();
  s.fast_fails = impl_->fast_fails.load();
  std::lock_guard lock(impl_->mutex);
  s.breaker = impl_->breaker;
  // An open breaker whose time is up lets the next call through: show it as half-open.
  if (s.breaker == BreakerState::kOpen &&
      Clock::now() >= impl_->opened_at + impl_->settings.breaker_open) {
    s.breaker = BreakerState::kHalfOpen;
  }
  return s;
}

}  // namespace pg::issuer
