// One webhook POST: the guard's vetted endpoints, then one net::exchange under what is left of
// the deadline (verified TLS, no redirects, the response body capped and discarded, every
// failure turned into a sentence).
#include "webhooks/http_client.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/string.hpp>
#include <memory>
#include <optional>
#include <variant>

#include "net/http_exchange.hpp"

namespace pg::webhooks {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

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

// ---- the POST ----

std::int64_t millis_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
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

  net::Peer peer{url.host, url.port, url.host_is_ip, url.host_header(), {}};
  {
    asio::io_context io;
    auto resolved = resolve_guarded(io, url, policy);
    if (auto* refused = std::get_if<std::string>(&resolved)) {
      result.error = std::move(*refused);
      return;
    }
    peer.endpoints = std::move(std::get<std::vector<tcp::endpoint>>(resolved));
  }
  const auto budget = request.timeout - std::chrono::milliseconds(millis_since(start));
  if (budget <= std::chrono::milliseconds::zero()) {
    result.error = "timeout after " + std::to_string(request.timeout.count()) + " ms (resolving " +
                   url.host + ")";
    return;
  }

  net::Request req{"POST", url.target, {}, request.body};
  // The defaults first, so a header given in the request replaces them.
  req.headers.emplace_back("User-Agent", std::string(kUserAgent));
  req.headers.emplace_back("Content-Type", "application/json");
  for (const auto& header : request.headers) req.headers.push_back(header);

  std::unique_ptr<ssl::context> ctx;
  if (url.scheme == "https") {
    auto made = net::client_tls_context();
    if (auto* problem = std::get_if<std::string>(&made)) {
      result.error = std::move(*problem);
      return;
    }
    ctx = std::move(std::get<std::unique_ptr<ssl::context>>(made));
  }
  net::Limits limits;
  limits.timeout = budget;
  limits.max_header = kMaxResponseHeader;
  limits.max_body = kMaxResponseBody;
  limits.keep_body = false;
  const net::Answer answer = net::exchange(peer, req, ctx.get(), limits);
  if (answer.answered) {
    result.status = answer.status;
    if (answer.retry_after) {
      result.retry_after = parse_retry_after(*answer.retry_after, std::chrono::system_clock::now());
    }
    return;
  }
  result.error = net::describe(answer, peer, request.timeout);
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
