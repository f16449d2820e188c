// Strict parsing of partner webhook URLs: http(s) only, no userinfo, no fragment, ASCII hosts,
// canonical IP literals; anything a lenient parser might read differently is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace pg::webhooks {

/// The longest webhook URL accepted, in bytes.
inline constexpr std::size_t kMaxWebhookUrlLength = 2048;

/// A parsed webhook target.
struct WebhookUrl {
  std::string scheme;       // "http" or "https"
  std::string host;         // lowercase; an IPv6 literal without brackets, in canonical form
  std::uint16_t port = 0;   // explicit, or 80 / 443 by scheme
  std::string target;       // path + query, at least "/"
  bool host_is_ip = false;  // a dotted-quad IPv4 or a bracketed IPv6 literal in the URL

  /// The Host header value: host (bracketed when IPv6), with ":port" unless it is the scheme's
  /// default port.
  [[nodiscard]] std::string host_header() const;
};

/// Parses `text` as a webhook URL, or returns a sentence naming what is wrong.
/// Accepts: scheme http or https (any case); an authority of host[:port] where host is a
/// DNS name (ASCII letters, digits, '-', '.'; labels of 1..63; IDNs only as punycode "xn--"),
/// a canonical dotted-quad IPv4 address, or a bracketed IPv6 address without a zone; port
/// 1..65535; a path and query of RFC 3986 characters, where percent-encoding (valid %HH) is
/// allowed in the request target only, never in the authority.
/// Refuses: longer than kMaxWebhookUrlLength, whitespace, control or non-ASCII bytes, '\\',
/// userinfo ('@' in the authority), a fragment, a missing host, hosts a resolver would read as
/// a numeric IPv4 address in another form ("127.1", "0x7f.0.0.1", "2130706433", "010.0.0.1").
[[nodiscard]] std::variant<WebhookUrl, std::string> parse_webhook_url(std::string_view text);

}  // namespace pg::webhooks
