// The sandbox authority's server: one io_context on one thread (so the code book needs no lock),
// a coroutine per connection, TLS 1.2+ with a client certificate demanded and verified against
// the deployment's CA, and the routes of docs/issuers.md ("The adapter protocol").
#include "authority/server.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <deque>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "authority/records.hpp"
#include "calendar/bikram_sambat.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "log/log.hpp"

namespace pg::authority {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Time = std::chrono::steady_clock::time_point;
using Response = bhttp::response<bhttp::string_body>;

constexpr std::size_t kBodyLimit = 16 * 1024;
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::chrono::seconds kReadTimeout{30};
constexpr std::chrono::seconds kHandshakeTimeout{10};
constexpr std::size_t kMaxRecordLength = 64;
// A held ("timeout" mode) connection is dropped after this, so a forgotten test cannot pile them
// up forever.
constexpr std::chrono::minutes kHoldAtMost{10};
constexpr std::int64_t kMaxDelayMs = 60'000;

enum class Fault { kNone, kSlow, kFail, kTimeout, kGarbage };

std::optional<Fault> parse_fault(std::string_view name) {
  if (name == "none") return Fault::kNone;
  if (name == "slow") return Fault::kSlow;
  if (name == "fail") return Fault::kFail;
  if (name == "timeout") return Fault::kTimeout;
  if (name == "garbage") return Fault::kGarbage;
  return std::nullopt;
}

std::string_view fault_name(Fault f) {
  switch (f) {
    case Fault::kNone:
      return "none";
    case Fault::kSlow:
      return "slow";
    case Fault::kFail:
      return "fail";
    case Fault::kTimeout:
      return "timeout";
    case Fault::kGarbage:
      return "garbage";
  }
  return "none";
}

/// Whole seconds from `now` to `until`, rounded up.
unsigned seconds_until(Time now, Time until) {
  if (until <= now) return 0;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
  return static_cast<unsigned>((ms + 999) / 1000);
}

/// "98******12": the first two and last two digits.
std::string mask_phone(const std::string& phone) {
  if (phone.size() < 4) return std::string(phone.size(), '*');
  return phone.substr(0, 2) + std::string(phone.size() - 4, '*') + phone.substr(phone.size() - 2);
}

/// Six decimal digits from the OS CSPRNG (OpenSSL RAND_bytes), without modulo bias: 32-bit words
/// at or above the largest multiple of 10^6 are drawn again.
std::optional<std::string> new_code() {
  constexpr std::uint32_t kLimit = 4'294'000'000u;  // 4294 * 10^6 <= 2^32
  for (int tries = 0; tries < 64; ++tries) {
    unsigned char b[4];
    if (RAND_bytes(b, sizeof b) != 1) return std::nullopt;
    const std::uint32_t v = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                            (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    if (v >= kLimit) continue;
    std::string code = std::to_string(v % 1'000'000);
    return std::string(6 - code.size(), '0') + code;
  }
  return std::nullopt;
}

/// The one-time code state of one record.
struct CodeState {
  std::string code;
  Time expires{};
  bool outstanding = false;
  unsigned wrong = 0;
  Time locked_until{};
  std::deque<Time> issued;  // when codes were sent within the last kCodeWindow
};

/// A strictly decoded request body: an object with exactly the `required` members (and any of
/// `optional`), or the sentence saying what is wrong.
using Decoded = std::variant<json::object, std::string>;

Decoded decode_object(std::string_view body, std::initializer_list<std::string_view> required,
                      std::initializer_list<std::string_view> optional = {}) {
  // snarkjs::parse_json also refuses a member named twice (Boost.JSON would keep the last one).
  crypto::Result<json::value> parsed = crypto::snarkjs::parse_json(body, "the body");
  if (!parsed) return parsed.error().to_string();
  json::value& v = *parsed;
  if (!v.is_object()) return std::string("the body must be a JSON object");
  json::object& o = v.as_object();
  for (const auto& member : o) {
    const std::string_view key = member.key();
    const bool known = std::find(required.begin(), required.end(), key) != required.end() ||
                       std::find(optional.begin(), optional.end(), key) != optional.end();
    if (!known) return "unknown member \"" + std::string(key) + "\"";
  }
  for (const std::string_view key : required) {
    if (!o.contains(key)) return "missing member \"" + std::string(key) + "\"";
  }
  return std::move(o);
}

/// The "record" member, a string of 1..64 printable ASCII characters, into `out`; empty when it
/// is one, else what is wrong.
std::string record_member(const json::object& o, std::string& out) {
  const json::value& v = o.at("record");
  if (!v.is_string()) return "\"record\" must be a string";
  const json::string& s = v.as_string();
  if (s.empty() || s.size() > kMaxRecordLength) return "\"record\" must be 1 to 64 characters";
  for (const char c : s) {
    if (c < 0x21 || c > 0x7e) return "\"record\" holds a character outside printable ASCII";
  }
  out = std::string(s);
  return "";
}

}  // namespace

struct SandboxAuthority::Impl {
  SandboxSettings settings;
  std::unordered_map<std::string, SandboxRecord> records;
  std::unordered_map<std::string, CodeState> codes;
  Fault fault = Fault::kNone;
  std::int64_t delay_ms = 0;
  ssl::context ctx{ssl::context::tls_server};
  asio::io_context io{1};
  std::optional<tcp::acceptor> acceptor;
  std::uint16_t port = 0;
  std::thread thread;
  bool stopped = false;

  Time now() const { return settings.now ? settings.now() : std::chrono::steady_clock::now(); }

  // ---- answers ----

  static Response answer(unsigned status, const json::object& body) {
    Response res{static_cast<bhttp::status>(status), 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::cache_control, "no-store");
    res.body() = json::serialize(body);
    res.prepare_payload();
    return res;
  }
  static Response error(unsigned status, std::string_view code) {
    return answer(status, json::object{{"error", code}});
  }
  static Response invalid(std::string_view detail) {
    return answer(400, json::object{{"error", "invalid_request"}, {"detail", detail}});
  }
  static Response locked(unsigned retry_after) {
    Response res = answer(429, json::object{{"error", "locked"}, {"retry_after", retry_after}});
    res.set(bhttp::field::retry_after, std::to_string(retry_after));
    return res;
  }

  // ---- the routes ----

  Response send_code(const json::object& body) {
    std::string number;
    if (std::string problem = record_member(body, number); !problem.empty())
      return invalid(problem);
    const auto it = records.find(number);
    if (it == records.end()) return error(404, "unknown_record");
    CodeState& state = codes[number];
    const Time t = now();
    if (state.locked_until > t) return locked(seconds_until(t, state.locked_until));
    while (!state.issued.empty() && state.issued.front() + kCodeWindow <= t) {
      state.issued.pop_front();
    }
    if (state.issued.size() >= kMaxCodesPerWindow) {
      log::warn("authority codes rate limited", {{"limit", kMaxCodesPerWindow}});
      return locked(seconds_until(t, state.issued.front() + kCodeWindow));
    }
    const std::optional<std::string> code = new_code();
    if (!code) {
      log::error("authority cannot draw a code: the OS random source failed");
      return error(500, "internal");
    }
    const std::filesystem::path file = settings.data_dir / "sms" / (number + ".code");
    if (std::string problem = write_file_atomically(file, *code + "\n"); !problem.empty()) {
      log::error("authority cannot write a code file", {{"error", problem}});
      return error(500, "internal");
    }
    state.code = *code;
    state.outstanding = true;
    state.expires = t + kCodeTtl;
    state.issued.push_back(t);
    return answer(202, json::object{{"sent_to", mask_phone(it->second.phone)},
                                    {"expires_in", kCodeTtl.count()}});
  }

  Response release_record(const json::object& body) {
    std::string number;
    if (std::string problem = record_member(body, number); !problem.empty())
      return invalid(problem);
    const json::value& code_value = body.at("code");
    if (!code_value.is_string()) return invalid("\"code\" must be a string");
    const std::string_view code = code_value.as_string();
    if (code.size() != 6 ||
        !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return invalid("\"code\" must be six digits");
    }
    const auto it = records.find(number);
    if (it == records.end()) return error(404, "unknown_record");
    CodeState& state = codes[number];
    const Time t = now();
    if (state.locked_until > t) return locked(seconds_until(t, state.locked_until));
    if (!state.outstanding) return error(410, "code_expired");
    if (state.expires <= t) {
      state.outstanding = false;
      return error(410, "code_expired");
    }
    if (CRYPTO_memcmp(code.data(), state.code.data(), 6) != 0) {
      if (++state.wrong >= kMaxWrongCodes) {
        // The outstanding code dies with the lock: guessing must start again from a new one.
        state.locked_until = t + kLockOut;
        state.outstanding = false;
        state.wrong = 0;
        log::warn("authority record locked after wrong codes", {{"wrong_codes", kMaxWrongCodes}});
      }
      return error(401, "wrong_code");
    }
    state.outstanding = false;
    state.wrong = 0;
    Response res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::cache_control, "no-store");
    res.body() = record_json(it->second.record);
    res.prepare_payload();
    return res;
  }

  Response set_faults(const json::object& body) {
    const json::value& mode = body.at("mode");
    if (!mode.is_string()) return invalid("\"mode\" must be a string");
    const std::optional<Fault> f = parse_fault(mode.as_string());
    if (!f) return invalid("\"mode\" must be one of none, slow, fail, timeout, garbage");
    std::int64_t delay = 0;
    if (const json::value* d = body.if_contains("delay_ms")) {
      if (!d->is_int64() && !d->is_uint64()) return invalid("\"delay_ms\" must be an integer");
      if (d->is_uint64() || d->as_int64() < 0 || d->as_int64() > kMaxDelayMs) {
        return invalid("\"delay_ms\" must be from 0 to 60000");
      }
      delay = d->as_int64();
    }
    if (*f == Fault::kSlow && delay == 0) return invalid("\"delay_ms\" is required for slow");
    fault = *f;
    delay_ms = delay;
    log::info("authority fault mode set", {{"mode", fault_name(fault)}, {"delay_ms", delay_ms}});
    return answer(200, json::object{{"mode", fault_name(fault)}, {"delay_ms", delay_ms}});
  }

  enum class Route { kCodes, kRecords, kFaults, kOther };

  static Route route_of(std::string_view target) {
    if (target == "/authority/v1/codes") return Route::kCodes;
    if (target == "/authority/v1/records") return Route::kRecords;
    if (target == "/sandbox/v1/faults") return Route::kFaults;
    return Route::kOther;
  }

  static std::string_view route_name(Route r) {
    switch (r) {
      case Route::kCodes:
        return "/authority/v1/codes";
      case Route::kRecords:
        return "/authority/v1/records";
      case Route::kFaults:
        return "/sandbox/v1/faults";
      case Route::kOther:
        return "other";
    }
    return "other";
  }

  /// The answer to `req`; nullopt when the "timeout" fault holds the connection unanswered.
  asio::awaitable<std::optional<Response>> handle(const bhttp::request<bhttp::string_body>& req,
                                                  Route route) {
    if (route == Route::kOther) co_return error(404, "not_found");
    if (req.method() != bhttp::verb::post) {
      Response res = error(405, "method_not_allowed");
      res.set(bhttp::field::allow, "POST");
      co_return res;
    }
    if (route != Route::kFaults) {
      switch (fault) {
        case Fault::kNone:
          break;
        case Fault::kSlow: {
          asio::steady_timer timer(io, std::chrono::milliseconds(delay_ms));
          co_await timer.async_wait(asio::use_awaitable);
          break;
        }
        case Fault::kFail:
          co_return error(503, "unavailable");
        case Fault::kTimeout:
          co_return std::nullopt;
        case Fault::kGarbage: {
          Response res{bhttp::status::ok, 11};
          res.set(bhttp::field::content_type, "application/json");
          res.body() = "<html>sandbox garbage: not the protocol's JSON{";
          res.prepare_payload();
          co_return res;
        }
      }
    }
    const auto type = req[bhttp::field::content_type];
    const std::string_view media = type.substr(0, type.find(';'));
    if (!beast::iequals(media, "application/json")) {
      co_return invalid("Content-Type must be application/json");
    }
    Decoded decoded = route == Route::kCodes ? decode_object(req.body(), {"record"})
                      : route == Route::kRecords
                          ? decode_object(req.body(), {"record", "code"})
                          : decode_object(req.body(), {"mode"}, {"delay_ms"});
    if (auto* problem = std::get_if<std::string>(&decoded)) co_return invalid(*problem);
    const json::object& body = std::get<json::object>(decoded);
    switch (route) {
      case Route::kCodes:
        co_return send_code(body);
      case Route::kRecords:
        co_return release_record(body);
      case Route::kFaults:
        co_return set_faults(body);
      case Route::kOther:
        break;
    }
    co_return error(404, "not_found");
  }

  // ---- connections ----

  asio::awaitable<void> session(tcp::socket socket) {
    beast::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), ctx);
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(kHandshakeTimeout);
    co_await stream.async_handshake(ssl::stream_base::server, token);
    if (ec) {
      const long verify = SSL_get_verify_result(stream.native_handle());
      log::warn(
          "authority refused a TLS client",
          {{"reason", verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ec.message()}});
      co_return;
    }
    for (;;) {
      beast::flat_buffer buffer;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kBodyLimit);
      lowest.expires_after(kReadTimeout);
      co_await bhttp::async_read(stream, buffer, parser, token);
      if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
        Response res = invalid("the request is too large");
        res.keep_alive(false);
        co_await bhttp::async_write(stream, res, token);
        break;
      }
      if (ec) break;
      const auto start = std::chrono::steady_clock::now();
      const auto& req = parser.get();
      const Route route = route_of(req.target());
      lowest.expires_never();
      std::optional<Response> res = co_await handle(req, route);
      if (!res) {
        log::info("authority request held (timeout fault)", {{"route", route_name(route)}});
        asio::steady_timer hold(io, kHoldAtMost);
        co_await hold.async_wait(token);
        co_return;
      }
      res->keep_alive(req.keep_alive());
      log::info("authority request",
                {{"route", route_name(route)},
                 {"status", res->result_int()},
                 {"fault", fault_name(fault)},
                 {"latency_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - start)
                                    .count()}});
      lowest.expires_after(kReadTimeout);
      co_await bhttp::async_write(stream, *res, token);
      if (ec || !res->keep_alive()) break;
    }
    lowest.expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(token);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket =
          co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      if (ec) continue;  // e.g. out of descriptors for a moment: keep serving the others
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }

  void setup_tls() {
    auto fail = [](const std::string& what, const std::string& file) {
      throw std::runtime_error("sandbox-authority: cannot " + what + " " + file);
    };
    beast::error_code ec;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                    ec);
    if (ec || SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
      throw std::runtime_error("sandbox-authority: cannot require TLS 1.2 or later");
    }
    ctx.use_certificate_chain_file(settings.cert_file, ec);
    if (ec) fail("load the certificate (--cert)", settings.cert_file);
    ctx.use_private_key_file(settings.key_file, ssl::context::pem, ec);
    if (ec) fail("load the private key (--key)", settings.key_file);
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
      fail("use the private key (--key): it does not match the certificate,", settings.key_file);
    }
    ctx.load_verify_file(settings.ca_file, ec);
    if (ec) fail("load the CA certificate (--ca)", settings.ca_file);
    // Only the deployment's CA is trusted, and a client without a certificate is refused.
    ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) throw std::runtime_error("sandbox-authority: TLS setup failed: " + ec.message());
    // No session resumption: every connection presents and verifies its client certificate.
    // (A client that offers a cached session, as Node's https agent does, is then simply given
    // a full handshake; without a session id context OpenSSL would fail it instead.)
    static constexpr unsigned char kSessionContext[] = "proofgate-sandbox-authority";
    if (SSL_CTX_set_session_id_context(ctx.native_handle(), kSessionContext,
                                       sizeof kSessionContext - 1) != 1 ||
        SSL_CTX_set_num_tickets(ctx.native_handle(), 0) != 1) {
      throw std::runtime_error("sandbox-authority: TLS setup failed: session settings");
    }
    SSL_CTX_set_session_cache_mode(ctx.native_handle(), SSL_SESS_CACHE_OFF);
  }
};

SandboxAuthority::SandboxAuthority(SandboxSettings settings) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.settings = std::move(settings);
  if (s.settings.records == 0)
    throw std::runtime_error("sandbox-authority: --records must be >= 1");
  std::error_code fs_ec;
  std::filesystem::create_directories(s.settings.data_dir / "sms", fs_ec);
  if (fs_ec) {
    throw std::runtime_error("sandbox-authority: cannot create " +
                             (s.settings.data_dir / "sms").string() + ": " + fs_ec.message());
  }
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  std::vector<SandboxRecord> records =
      generate_records(s.settings.kind, s.settings.records,
                       latest_completed_fiscal_year(calendar::nepal_yyyymmdd(now_ms)));
  if (std::string problem = write_file_atomically(s.settings.data_dir / "records.json",
                                                  records_file_json(s.settings.kind, records));
      !problem.empty()) {
    throw std::runtime_error("sandbox-authority: " + problem);
  }
  for (auto& r : records) {
    std::string number = record_number(r.record);
    s.records.emplace(std::move(number), std::move(r));
  }
  s.setup_tls();
  beast::error_code ec;
  const auto address = asio::ip::make_address(s.settings.host, ec);
  if (ec)
    throw std::runtime_error("sandbox-authority: --listen: not an IP address: " + s.settings.host);
  const tcp::endpoint endpoint(address, s.settings.port);
  s.acceptor.emplace(s.io);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("sandbox-authority: cannot listen on " + s.settings.host + ":" +
                             std::to_string(s.settings.port) + ": " + ec.message());
  }
  s.port = s.acceptor->local_endpoint().port();
  asio::co_spawn(s.io, s.accept_loop(), asio::detached);
  s.thread = std::thread([&s] { s.io.run(); });
  log::info("sandbox authority listening", {{"kind", issuer::kind_name(s.settings.kind)},
                                            {"port", s.port},
                                            {"records", s.records.size()}});
}

SandboxAuthority::~SandboxAuthority() {
  stop();
}

std::uint16_t SandboxAuthority::port() const noexcept {
  return impl_->port;
}

std::string SandboxAuthority::listening() const {
  return impl_->settings.host + ":" + std::to_string(impl_->port);
}

void SandboxAuthority::stop() noexcept {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace pg::authority
