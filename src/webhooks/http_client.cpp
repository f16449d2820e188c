// One webhook POST over Boost.Beast: connect to the guard's vetted endpoints under one deadline
// (beast::tcp_stream's timer spans connect, handshake, write and read), verified TLS, no
// redirects, the response body capped and discarded, every failure turned into a sentence.
#include "webhooks/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <variant>

namespace pg::webhooks {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

/// The most interim (1xx) answers skipped before the final one.
constexpr int kMaxInterimAnswers = 8;

// ---- request headers ----

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  return beast::iequals(a, b);
}

/// Empty when the extra headers are acceptable, else the problem.
std::string check_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  constexpr std::array<std::string_view, 4> kOwn = {"Host", "Content-Length", "Transfer-Encoding",
                                                    "Connection"};
  for (const auto& [name, value] : headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar)) {
      return "invalid request header name \"" + name + "\"";
    }
    for (const std::string_view own : kOwn) {
      if (iequals(name, own))
        return "invalid request header \"" + name + "\": it is set by the client";
    }
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return "invalid request header \"" + name + "\": its value holds a control character";
      }
    }
  }
  return "";
}

// ---- Retry-After dates ----

/// A cursor over an HTTP-date; each step consumes input only on success.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;

  bool literal(std::string_view t) {
    if (s.substr(i, t.size()) != t) return false;
    i += t.size();
    return true;
  }
  /// Exactly `n` digits.
  bool number(std::size_t n, int& out) {
    if (i + n > s.size()) return false;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    i += n;
    return true;
  }
  /// One of `names`; its index in `out`.
  template <std::size_t N>
  bool one_of(const std::array<std::string_view, N>& names, int& out) {
    for (std::size_t k = 0; k < N; ++k) {
      if (literal(names[k])) {
        out = static_cast<int>(k);
        return true;
      }
    }
    return false;
  }
  bool time_of_day(int& h, int& m, int& sec) {
    return number(2, h) && literal(":") && number(2, m) && literal(":") && number(2, sec);
  }
  bool done() const { return i == s.size(); }
};

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
// Long names first where one is a prefix of another is not an issue: each is tried whole.
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

struct DateParts {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

/// RFC 9110 §5.6.7: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850
/// "Sunday, 06-Nov-94 08:49:37 GMT", asctime "Sun Nov  6 08:49:37 1994".
std::optional<DateParts> parse_http_date(std::string_view text, int current_year) {
  int ignored = 0;
  DateParts d;
  {
    Cursor c{text};
    if (c.one_of(kDays, ignored) && c.literal(", ") && c.number(2, d.day) && c.literal(" ") &&
        c.one_of(kMonths, d.month) && c.literal(" ") && c.number(4, d.year) && c.literal(" ") &&
        c.time_of_day(d.hour, d.minute, d.second) && c.literal(" GMT") && c.done()) {
      return d;
    }
  }
  {
    Cursor c{text};
    int yy = 0;
    if (c.one_of(kLongDays, ignored) && c.literal(", ") && c.number(2, d.day) && c.literal("-") &&
        c.one_of(kMonths, d.month) && c.literal("-") && c.number(2, yy) && c.literal(" ") &&
        c.time_of_day(d.hour, d.minute, d.second) && c.literal(" GMT") && c.done()) {
      // A two-digit year more than 50 years ahead is in the past century (§5.6.7).
      d.year = current_year / 100 * 100 + yy;
      if (d.year > current_year + 50) d.year -= 100;
      return d;
    }
  }
  {
    Cursor c{text};
    if (c.one_of(kDays, ignored) && c.literal(" ") && c.one_of(kMonths, d.month) &&
        c.literal(" ") && (c.literal(" ") ? c.number(1, d.day) : c.number(2, d.day)) &&
        c.literal(" ") && c.time_of_day(d.hour, d.minute, d.second) && c.literal(" ") &&
        c.number(4, d.year) && c.done()) {
      return d;
    }
  }
  return std::nullopt;
}

// ---- the exchange ----

enum class Stage { kConnect, kHandshake, kWrite, kRead };

std::string_view while_doing(Stage stage) {
  switch (stage) {
    case Stage::kConnect:
      return "connecting";
    case Stage::kHandshake:
      return "in the TLS handshake";
    case Stage::kWrite:
      return "sending the request";
    case Stage::kRead:
      return "waiting for the answer";
  }
  return "";
}

/// Where the coroutine got to.
struct Exchange {
  Stage stage = Stage::kConnect;
  beast::error_code ec;
  bool answered = false;
  int status = 0;
  std::string retry_after;  // the raw header value, empty when absent
  bool has_retry_after = false;
  std::exception_ptr exception;
};

template <class Stream>
asio::awaitable<void> exchange(Stream& stream, const std::vector<tcp::endpoint>& endpoints,
                               bhttp::request<bhttp::string_body>& request,
                               std::chrono::milliseconds budget, Exchange& out) {
  auto& socket = beast::get_lowest_layer(stream);
  auto token = asio::redirect_error(asio::use_awaitable, out.ec);
  // One deadline for everything below: tcp_stream's timer is not reset between operations.
  socket.expires_after(budget);

  out.stage = Stage::kConnect;
  co_await socket.async_connect(endpoints, token);
  if (out.ec) co_return;

  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    out.stage = Stage::kHandshake;
    co_await stream.async_handshake(ssl::stream_base::client, token);
    if (out.ec) co_return;
  }

  out.stage = Stage::kWrite;
  co_await bhttp::async_write(stream, request, token);
  if (out.ec) co_return;

  out.stage = Stage::kRead;
  beast::flat_buffer buffer;
  // buffer_body: the body passes through a small chunk and is counted, not stored; beast's own
  // body_limit would refuse a large Content-Length before the status could be seen.
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  for (int interim = 0;; ++interim) {
    parser.emplace();
    parser->header_limit(kMaxResponseHeader);
    parser->body_limit(boost::none);
    co_await bhttp::async_read_header(stream, buffer, *parser, token);
    if (out.ec) co_return;
    const unsigned status = parser->get().result_int();
    if (status >= 200 || status == 101 || interim == kMaxInterimAnswers) break;
  }
  out.answered = true;
  out.status = static_cast<int>(parser->get().result_int());
  if (const auto it = parser->get().find(bhttp::field::retry_after); it != parser->get().end()) {
    out.has_retry_after = true;
    out.retry_after = std::string(it->value());
  }
  // Drain up to kMaxResponseBody of the body; the answer stands whatever happens here.
  std::array<char, 8192> chunk;
  std::size_t drained = 0;
  beast::error_code body_ec;
  while (!parser->is_done() && drained < kMaxResponseBody) {
    parser->get().body().data = chunk.data();
    parser->get().body().size = chunk.size();
    co_await bhttp::async_read(stream, buffer, *parser,
                               asio::redirect_error(asio::use_awaitable, body_ec));
    if (body_ec == bhttp::error::need_buffer) body_ec = {};
    if (body_ec) break;
    drained += chunk.size() - parser->get().body().size;
  }
}

std::int64_t millis_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

bool closed_by_peer(const beast::error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated || ec == bhttp::error::partial_message;
}

std::string tls_failure(ssl::stream<beast::tcp_stream>* tls_stream, const beast::error_code& ec) {
  if (tls_stream != nullptr) {
    const long verify = SSL_get_verify_result(tls_stream->native_handle());
    if (verify != X509_V_OK) {
      return std::string("TLS handshake failed: certificate verification: ") +
             X509_verify_cert_error_string(verify);
    }
  }
  return "TLS handshake failed: " + ec.message();
}

/// The sentence for a failed exchange.
std::string describe(const Exchange& ex, std::chrono::milliseconds timeout, bool deadline_passed,
                     ssl::stream<beast::tcp_stream>* tls_stream) {
  const std::string during = std::string(while_doing(ex.stage));
  if (ex.ec == beast::error::timeout || deadline_passed) {
    return "timeout after " + std::to_string(timeout.count()) + " ms (" + during + ")";
  }
  switch (ex.stage) {
    case Stage::kConnect:
      if (ex.ec == asio::error::connection_refused) return "connection refused";
      return "connect failed: " + ex.ec.message();
    case Stage::kHandshake:
      if (closed_by_peer(ex.ec)) return "connection closed by the peer (in the TLS handshake)";
      return tls_failure(tls_stream, ex.ec);
    case Stage::kWrite:
      if (closed_by_peer(ex.ec)) return "connection closed by the peer (while sending the request)";
      return "sending the request failed: " + ex.ec.message();
    case Stage::kRead:
      if (closed_by_peer(ex.ec)) return "connection closed by the peer before an answer";
      return "invalid HTTP answer: " + ex.ec.message();
  }
  return ex.ec.message();
}

/// A TLS client context: TLS 1.2+, the system's default CA paths, peer verification.
std::variant<std::unique_ptr<ssl::context>, std::string> make_tls_context() {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (ec || SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    return std::string("TLS setup failed: cannot require TLS 1.2 or later");
  }
  ctx->set_default_verify_paths(ec);
  if (ec) return "TLS setup failed: cannot load the default CA certificates: " + ec.message();
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (ec) return "TLS setup failed: " + ec.message();
  return ctx;
}

/// Names the expected peer: SNI for a host name (never for an IP literal, RFC 6066 §3), and
/// OpenSSL's own host / IP check, so a mismatch is reported as such in the verify result.
std::string name_the_peer(ssl::stream<beast::tcp_stream>& stream, const WebhookUrl& url) {
  SSL* ssl_handle = stream.native_handle();
  if (url.host_is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url.host.c_str()) != 1) {
      return "TLS setup failed: cannot set the expected IP address";
    }
  } else {
    if (SSL_set_tlsext_host_name(ssl_handle, url.host.c_str()) != 1)
      return "TLS setup failed: cannot set SNI";
    if (SSL_set1_host(ssl_handle, url.host.c_str()) != 1)
      return "TLS setup failed: cannot set the expected host";
  }
  beast::error_code ec;
  stream.set_verify_mode(ssl::verify_peer, ec);
  if (!ec) stream.set_verify_callback(ssl::host_name_verification(url.host), ec);
  if (ec) return "TLS setup failed: " + ec.message();
  return "";
}

void post(const PostRequest& request, const GuardPolicy& policy, Clock::time_point start,
          PostResult& result) {
  const WebhookUrl& url = request.url;
  if (auto refused = check_scheme(url, policy)) {
    result.error = std::move(*refused);
    return;
  }
  if (std::string problem = check_headers(request.headers); !problem.empty()) {
    result.error = std::move(problem);
    return;
  }

  asio::io_context io;
  auto resolved = resolve_guarded(io, url, policy);
  if (auto* refused = std::get_if<std::string>(&resolved)) {
    result.error = std::move(*refused);
    return;
  }
  const auto& endpoints = std::get<std::vector<tcp::endpoint>>(resolved);
  const auto budget = request.timeout - std::chrono::milliseconds(millis_since(start));
  if (budget <= std::chrono::milliseconds::zero()) {
    result.error = "timeout after " + std::to_string(request.timeout.count()) + " ms (resolving " +
                   url.host + ")";
    return;
  }

  bhttp::request<bhttp::string_body> req{bhttp::verb::post, url.target, 11};
  req.set(bhttp::field::host, url.host_header());
  req.set(bhttp::field::user_agent, kUserAgent);
  req.set(bhttp::field::content_type, "application/json");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.set(bhttp::field::connection, "close");
  req.body() = request.body;
  req.prepare_payload();

  Exchange ex;
  const auto on_done = [&ex](std::exception_ptr e) { ex.exception = e; };
  const bool tls = url.scheme == "https";
  std::unique_ptr<ssl::context> ctx;
  std::optional<ssl::stream<beast::tcp_stream>> tls_stream;
  std::optional<beast::tcp_stream> plain_stream;
  if (tls) {
    auto made = make_tls_context();
    if (auto* problem = std::get_if<std::string>(&made)) {
      result.error = std::move(*problem);
      return;
    }
    ctx = std::move(std::get<std::unique_ptr<ssl::context>>(made));
    tls_stream.emplace(io, *ctx);
    if (std::string problem = name_the_peer(*tls_stream, url); !problem.empty()) {
      result.error = std::move(problem);
      return;
    }
    asio::co_spawn(io, exchange(*tls_stream, endpoints, req, budget, ex), on_done);
  } else {
    plain_stream.emplace(io);
    asio::co_spawn(io, exchange(*plain_stream, endpoints, req, budget, ex), on_done);
  }
  io.run();
  if (ex.exception) std::rethrow_exception(ex.exception);

  if (ex.answered) {
    result.status = ex.status;
    if (ex.has_retry_after)
      result.retry_after = parse_retry_after(ex.retry_after, std::chrono::system_clock::now());
    return;
  }
  const bool deadline_passed = millis_since(start) >= request.timeout.count();
  result.error =
      describe(ex, request.timeout, deadline_passed, tls_stream ? &*tls_stream : nullptr);
}

}  // namespace

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    for (const char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds >= kMaxRetryAfter.count()) return kMaxRetryAfter;
    }
    return std::chrono::seconds(seconds);
  }
  const auto today = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now));
  const auto d = parse_http_date(value, static_cast<int>(today.year()));
  if (!d) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(d->year),
                                         std::chrono::month(static_cast<unsigned>(d->month + 1)),
                                         std::chrono::day(static_cast<unsigned>(d->day))};
  if (!date.ok() || d->hour > 23 || d->minute > 59 || d->second > 60) return std::nullopt;
  const auto at = std::chrono::sys_days(date) + std::chrono::hours(d->hour) +
                  std::chrono::minutes(d->minute) + std::chrono::seconds(d->second);
  if (at <= now) return std::chrono::seconds(0);
  return std::chrono::ceil<std::chrono::seconds>(at - now);
}

PostResult post_guarded(const PostRequest& request, const GuardPolicy& policy) noexcept {
  const auto start = Clock::now();
  PostResult result;
  try {
    post(request, policy, start, result);
  } catch (const std::exception& e) {
    result = PostResult{};
    result.error = std::string("internal error: ") + e.what();
  } catch (...) {
    result = PostResult{};
    result.error = "internal error";
  }
  result.latency_ms = millis_since(start);
  return result;
}

}  // namespace pg::webhooks
