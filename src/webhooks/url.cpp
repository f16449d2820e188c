// Strict webhook URL parser (RFC 3986 syntax, narrowed so that no resolver or HTTP library can
// read the same string as a different host; see the WHATWG URL standard's IPv4 parser for the
// numeric host forms refused here).
#include "webhooks/url.hpp"

#include <algorithm>
#include <boost/asio/ip/address_v6.hpp>
#include <string>

namespace pg::webhooks {

namespace {

constexpr std::size_t kMaxHostLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  return std::all_of(s.begin(), s.end(), pred);
}

// Built by appending: GCC 12 warns falsely (-Wrestrict, its bug 105329) on "x" + std::string.
std::string wrapped(char open, std::string_view s, char close) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back(open);
  out.append(s);
  out.push_back(close);
  return out;
}

std::string quoted(std::string_view s) {
  return wrapped('"', s, '"');
}

/// A byte as it can be shown in an error: the character itself (the input is ASCII by then).
std::string show(char c) {
  return std::string("'") + c + "'";
}

/// RFC 3986 pchar minus pct-encoded, plus '/' and '?' (path and query characters).
bool is_target_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':  // unreserved
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':  // sub-delims
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
    case '?':
      return true;
    default:
      return false;
  }
}

/// "a.b.c.d" with four decimal parts 0..255 and no leading zeros (which inet_aton reads as octal).
bool is_canonical_dotted_quad(std::string_view host) {
  int parts = 0;
  std::size_t start = 0;
  while (start <= host.size()) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view part = host.substr(start, dot - start);
    if (part.empty() || part.size() > 3 || !all_of(part, is_digit)) return false;
    if (part.size() > 1 && part[0] == '0') return false;
    if (std::stoi(std::string(part)) > 255) return false;
    ++parts;
    start = dot + 1;
  }
  return parts == 4;
}

/// The WHATWG "ends in a number" test: a last label of digits only, or "0x" and hex digits. A
/// host like that is read as an IPv4 address by browsers and by getaddrinfo (inet_aton forms).
bool ends_in_number(std::string_view host) {
  const std::size_t dot = host.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (!last.empty() && all_of(last, is_digit)) return true;
  return last.size() >= 2 && last[0] == '0' && last[1] == 'x' && all_of(last.substr(2), is_hex);
}

/// Checks a DNS name or dotted-quad host (already lowercase); empty on success.
std::string check_name_host(std::string_view host, bool& is_ip) {
  if (host.empty()) return "host is missing";
  if (host.size() > kMaxHostLength) return "host is longer than 253 characters";
  for (const char c : host) {
    if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.')) {
      return "character " + show(c) +
             " is not allowed in the host (letters, digits, '-' and '.' only)";
    }
  }
  if (ends_in_number(host)) {
    if (!is_canonical_dotted_quad(host)) {
      return "host " + quoted(host) +
             " looks like an IPv4 address but is not a canonical dotted quad (a.b.c.d, decimal, no "
             "leading zeros)";
    }
    is_ip = true;
    return "";
  }
  std::size_t start = 0;
  while (start <= host.size()) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty())
      return "host " + quoted(host) + " has an empty label (a leading, trailing or doubled '.')";
    if (label.size() > kMaxLabelLength)
      return "host label " + quoted(label) + " is longer than 63 characters";
    if (label.front() == '-' || label.back() == '-') {
      return "host label " + quoted(label) + " starts or ends with '-'";
    }
    start = dot + 1;
  }
  is_ip = false;
  return "";
}

/// Checks the request target (path and query) from its first byte; empty on success.
std::string check_target(std::string_view target, std::size_t offset) {
  for (std::size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      return "non-ASCII byte at offset " + std::to_string(offset + i) +
             " in the path or query (percent-encode it)";
    }
    if (c == '%') {
      if (i + 2 >= target.size() || !is_hex(target[i + 1]) || !is_hex(target[i + 2])) {
        return "invalid percent-encoding at offset " + std::to_string(offset + i) +
               " (expected %HH)";
      }
      i += 2;
      continue;
    }
    if (!is_target_char(c)) {
      return "character " + show(c) + " at offset " + std::to_string(offset + i) +
             " is not allowed in the path or query (percent-encode it)";
    }
  }
  return "";
}

/// Parses the decimal port after ':'.
std::variant<std::uint16_t, std::string> parse_port(std::string_view digits) {
  if (digits.empty()) return std::string("port is empty (a ':' with no number after it)");
  if (!all_of(digits, is_digit)) return "port " + quoted(digits) + " is not a decimal number";
  if (digits.size() > 5) return "port " + std::string(digits) + " is out of range (1..65535)";
  const int value = std::stoi(std::string(digits));
  if (value < 1 || value > 65535)
    return "port " + std::string(digits) + " is out of range (1..65535)";
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string WebhookUrl::host_header() const {
  std::string out = host.find(':') != std::string::npos ? wrapped('[', host, ']') : host;
  const std::uint16_t default_port = scheme == "https" ? 443 : 80;
  if (port != default_port) {
    out.push_back(':');
    out += std::to_string(port);
  }
  return out;
}

std::variant<WebhookUrl, std::string> parse_webhook_url(std::string_view text) {
  if (text.empty()) return std::string("URL is empty");
  if (text.size() > kMaxWebhookUrlLength) {
    return "URL is longer than " + std::to_string(kMaxWebhookUrlLength) + " characters";
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c == 0x7f) {
      return "whitespace or control character at offset " + std::to_string(i);
    }
    if (c == '\\') return "backslash at offset " + std::to_string(i) + " is not allowed";
    if (c == '#') return std::string("a fragment ('#') is not allowed");
  }

  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return std::string("scheme is missing (expected http:// or https://)");
  }
  WebhookUrl url;
  url.scheme = lower(text.substr(0, colon));
  if (url.scheme != "http" && url.scheme != "https") {
    return "scheme " + quoted(text.substr(0, colon)) + " is not allowed (only http and https)";
  }
  if (text.substr(colon + 1, 2) != "//") return std::string("expected \"//\" after the scheme");

  const std::size_t authority_start = colon + 3;
  const std::size_t authority_end =
      std::min(text.find_first_of("/?", authority_start), text.size());
  const std::string_view authority = text.substr(authority_start, authority_end - authority_start);
  if (authority.find('@') != std::string_view::npos) {
    return std::string("userinfo ('@' in the authority) is not allowed");
  }
  if (authority.find('%') != std::string_view::npos) {
    return std::string("percent-encoding is allowed in the path only, not in the host or port");
  }
  if (std::any_of(authority.begin(), authority.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return std::string(
        "host is not ASCII: internationalized domain names must be given in punycode (xn--...)");
  }
  if (authority.empty()) return std::string("host is missing");

  std::string_view host_part;
  std::string_view port_part;
  bool has_port = false;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return std::string("IPv6 literal is missing its closing ']'");
    const std::string_view literal = authority.substr(1, close - 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::string("unexpected characters after the IPv6 literal");
      has_port = true;
      port_part = rest.substr(1);
    }
    const bool plausible =
        !literal.empty() && std::all_of(literal.begin(), literal.end(),
                                        [](char c) { return is_hex(c) || c == ':' || c == '.'; });
    boost::system::error_code ec;
    const auto v6 = boost::asio::ip::make_address_v6(std::string(literal), ec);
    if (!plausible || ec) return "host " + quoted(literal) + " is not a valid IPv6 address";
    url.host = v6.to_string();
    url.host_is_ip = true;
  } else {
    const std::size_t port_colon = authority.find(':');
    host_part = authority.substr(0, port_colon);
    if (port_colon != std::string_view::npos) {
      has_port = true;
      port_part = authority.substr(port_colon + 1);
      if (port_part.find(':') != std::string_view::npos) {
        return std::string("more than one ':' in the authority (an IPv6 address needs brackets)");
      }
    }
    url.host = lower(host_part);
    if (const std::string problem = check_name_host(url.host, url.host_is_ip); !problem.empty())
      return problem;
  }

  if (has_port) {
    auto port = parse_port(port_part);
    if (auto* problem = std::get_if<std::string>(&port)) return std::move(*problem);
    url.port = std::get<std::uint16_t>(port);
  } else {
    url.port = url.scheme == "https" ? 443 : 80;
  }

  const std::string_view target = text.substr(authority_end);
  if (const std::string problem = check_target(target, authority_end); !problem.empty())
    return problem;
  if (target.empty()) {
    url.target = "/";
  } else if (target.front() == '?') {
    url.target = "/" + std::string(target);
  } else {
    url.target = std::string(target);
  }
  return url;
}

}  // namespace pg::webhooks
