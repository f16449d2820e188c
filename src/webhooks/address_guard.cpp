// The SSRF guard: address classes from the IANA special-purpose registries (RFC 6890, RFC 6598
// CGNAT, RFC 5737 / 3849 / 9637 documentation, RFC 2544 / 5180 benchmarking, RFC 6052 / 8215
// NAT64, RFC 3056 6to4, RFC 4380 Teredo), and resolution that vets every address it returns.
#include "webhooks/address_guard.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>

namespace pg::webhooks {

namespace {

namespace ip = boost::asio::ip;
using Bytes = ip::address_v6::bytes_type;

constexpr std::uint32_t v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
         std::uint32_t{d};
}

/// True when `a` lies in `net`/`bits`.
constexpr bool in_v4(std::uint32_t a, std::uint32_t net, int bits) {
  return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits));
}

// Cloud instance-metadata endpoints: AWS / GCP / Azure / OpenStack / DigitalOcean (the link-local
// one), Alibaba Cloud (inside CGNAT space), Azure WireServer (a public address that only a VM
// reaches, and that hands out its configuration).
constexpr std::array<std::uint32_t, 3> kMetadataV4 = {v4(169, 254, 169, 254),
                                                      v4(100, 100, 100, 200), v4(168, 63, 129, 16)};

struct V4Range {
  std::uint32_t net;
  int bits;
  AddressVerdict verdict;
};

constexpr std::array<V4Range, 15> kV4Ranges = {{
    {v4(127, 0, 0, 0), 8, AddressVerdict::kLoopback},
    {v4(10, 0, 0, 0), 8, AddressVerdict::kPrivate},
    {v4(172, 16, 0, 0), 12, AddressVerdict::kPrivate},
    {v4(192, 168, 0, 0), 16, AddressVerdict::kPrivate},
    {v4(169, 254, 0, 0), 16, AddressVerdict::kLinkLocal},
    {v4(0, 0, 0, 0), 8, AddressVerdict::kReserved},        // "this network", 0.0.0.0 unspecified
    {v4(100, 64, 0, 0), 10, AddressVerdict::kReserved},    // shared address space (CGNAT)
    {v4(192, 0, 0, 0), 24, AddressVerdict::kReserved},     // IETF protocol assignments
    {v4(192, 0, 2, 0), 24, AddressVerdict::kReserved},     // TEST-NET-1
    {v4(198, 18, 0, 0), 15, AddressVerdict::kReserved},    // benchmarking
    {v4(198, 51, 100, 0), 24, AddressVerdict::kReserved},  // TEST-NET-2
    {v4(203, 0, 113, 0), 24, AddressVerdict::kReserved},   // TEST-NET-3
    {v4(224, 0, 0, 0), 4, AddressVerdict::kReserved},      // multicast
    {v4(240, 0, 0, 0), 4, AddressVerdict::kReserved},  // reserved, with 255.255.255.255 broadcast
    {v4(255, 255, 255, 255), 32, AddressVerdict::kReserved},
}};

AddressVerdict classify_v4(std::uint32_t a) noexcept {
  for (const std::uint32_t m : kMetadataV4) {
    if (a == m) return AddressVerdict::kMetadata;
  }
  for (const V4Range& r : kV4Ranges) {
    if (in_v4(a, r.net, r.bits)) return r.verdict;
  }
  return AddressVerdict::kAllowed;
}

std::uint32_t v4_at(const Bytes& b, std::size_t i) {
  return v4(b[i], b[i + 1], b[i + 2], b[i + 3]);
}

bool zero(const Bytes& b, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

/// True when the first `bits` bits of `b` equal those of `prefix` (its leading bytes, at least
/// ceil(bits / 8) of them).
bool in_v6(const Bytes& b, std::initializer_list<std::uint8_t> prefix, int bits) {
  if (static_cast<int>(prefix.size()) * 8 < bits) return false;
  int i = 0;
  for (const std::uint8_t p : prefix) {
    const int left = bits - 8 * i;
    if (left <= 0) break;
    const std::uint8_t mask = left >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - left));
    if ((b[static_cast<std::size_t>(i)] & mask) != (p & mask)) return false;
    ++i;
  }
  return true;
}

// fd00:ec2::254 (AWS) and fd20:ce::254 (GCP).
constexpr Bytes kAwsMetadataV6 = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
constexpr Bytes kGcpMetadataV6 = {0xfd, 0x20, 0x00, 0xce, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};

AddressVerdict classify_v6(const Bytes& b) noexcept {
  if (zero(b, 0, 16)) return AddressVerdict::kReserved;  // :: unspecified
  if (zero(b, 0, 15) && b[15] == 1) return AddressVerdict::kLoopback;
  // IPv4-mapped ::ffff:a.b.c.d
  if (zero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff) return classify_v4(v4_at(b, 12));
  // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765)
  if (zero(b, 0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
    return classify_v4(v4_at(b, 12));
  // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291 §2.5.5.1)
  if (zero(b, 0, 12)) return classify_v4(v4_at(b, 12));
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052)
  if (in_v6(b, {0x00, 0x64, 0xff, 0x9b}, 32) && zero(b, 4, 12)) return classify_v4(v4_at(b, 12));
  // 6to4 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD (RFC 3056)
  if (in_v6(b, {0x20, 0x02}, 16)) return classify_v4(v4_at(b, 2));
  // Teredo 2001:0::/32: server IPv4 in bits 32..63, client IPv4 inverted in bits 96..127 (RFC 4380)
  if (in_v6(b, {0x20, 0x01, 0x00, 0x00}, 32)) {
    const AddressVerdict client = classify_v4(~v4_at(b, 12));
    return client != AddressVerdict::kAllowed ? client : classify_v4(v4_at(b, 4));
  }
  // AWS (fd00:ec2::254) and GCP (fd20:ce::254) metadata, before the ULA range that holds them.
  if (b == kAwsMetadataV6 || b == kGcpMetadataV6) return AddressVerdict::kMetadata;
  if (in_v6(b, {0xfc}, 7)) return AddressVerdict::kPrivate;           // unique local fc00::/7
  if (in_v6(b, {0xfe, 0x80}, 10)) return AddressVerdict::kLinkLocal;  // fe80::/10
  if (in_v6(b, {0xfe, 0xc0}, 10))
    return AddressVerdict::kPrivate;                          // site-local fec0::/10 (RFC 3879)
  if (in_v6(b, {0xff}, 8)) return AddressVerdict::kReserved;  // multicast
  if (in_v6(b, {0x20, 0x01, 0x0d, 0xb8}, 32)) return AddressVerdict::kReserved;  // documentation
  if (in_v6(b, {0x3f, 0xff, 0x00}, 20))
    return AddressVerdict::kReserved;  // documentation (RFC 9637)
  if (in_v6(b, {0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48))
    return AddressVerdict::kReserved;  // benchmarking
  if (in_v6(b, {0x20, 0x01, 0x00, 0x10}, 28))
    return AddressVerdict::kReserved;  // ORCHID (deprecated)
  if (in_v6(b, {0x20, 0x01, 0x00, 0x20}, 28)) return AddressVerdict::kReserved;  // ORCHIDv2
  // Everything else outside global unicast 2000::/3 is reserved: the discard prefix 100::/64,
  // the local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215), and unassigned space.
  if (!in_v6(b, {0x20}, 3)) return AddressVerdict::kReserved;
  return AddressVerdict::kAllowed;
}

/// The verdict that makes `policy` refuse `address`, or nullopt when it is allowed.
std::optional<AddressVerdict> refusal(const ip::address& address, const GuardPolicy& policy) {
  const AddressVerdict verdict = classify(address);
  if (verdict == AddressVerdict::kAllowed) return std::nullopt;
  if (verdict == AddressVerdict::kLoopback && policy.allow_loopback) return std::nullopt;
  return verdict;
}

constexpr std::string_view kGuardPrefix = "refused by the address guard: ";

/// Plain http is a development convenience for a receiver on the same machine: a URL that is not
/// https may reach loopback addresses only, whatever else the policy allows. `shown` names the
/// target in the reason ("8.8.8.8", or "example.com resolves to 93.184.215.14").
std::optional<std::string> plain_http_refusal(const WebhookUrl& url, const ip::address& address,
                                              std::string_view shown) {
  if (url.scheme == "https" || classify(address) == AddressVerdict::kLoopback) return std::nullopt;
  return std::string(kGuardPrefix) +
         "https is required: plain http is allowed to loopback only, and " + std::string(shown) +
         " is not a loopback address";
}

}  // namespace

std::string_view to_string(AddressVerdict verdict) noexcept {
  switch (verdict) {
    case AddressVerdict::kAllowed:
      return "public";
    case AddressVerdict::kLoopback:
      return "loopback";
    case AddressVerdict::kPrivate:
      return "private";
    case AddressVerdict::kLinkLocal:
      return "link-local";
    case AddressVerdict::kMetadata:
      return "cloud metadata";
    case AddressVerdict::kReserved:
      return "reserved";
  }
  return "unknown";
}

AddressVerdict classify(const boost::asio::ip::address& address) noexcept {
  if (address.is_v4()) return classify_v4(address.to_v4().to_uint());
  return classify_v6(address.to_v6().to_bytes());
}

std::optional<std::string> check_address(const boost::asio::ip::address& address,
                                         const GuardPolicy& policy) {
  const auto verdict = refusal(address, policy);
  if (!verdict) return std::nullopt;
  return address.to_string() + " is a " + std::string(to_string(*verdict)) + " address";
}

std::optional<std::string> check_scheme(const WebhookUrl& url, const GuardPolicy& policy) {
  if (policy.require_https && url.scheme != "https") {
    return std::string(kGuardPrefix) + "https is required (the URL's scheme is " + url.scheme + ")";
  }
  return std::nullopt;
}

std::variant<std::vector<boost::asio::ip::tcp::endpoint>, std::string> resolve_guarded(
    boost::asio::io_context& io, const WebhookUrl& url, const GuardPolicy& policy) {
  std::vector<ip::tcp::endpoint> endpoints;
  if (url.host_is_ip) {
    boost::system::error_code ec;
    const ip::address address = ip::make_address(url.host, ec);
    if (ec) return "invalid IP address " + url.host;
    if (auto reason = check_address(address, policy)) return std::string(kGuardPrefix) + *reason;
    if (auto reason = plain_http_refusal(url, address, url.host)) return std::move(*reason);
    endpoints.emplace_back(address, url.port);
    return endpoints;
  }
  ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  // numeric_service only: no AI_ADDRCONFIG (it would hide ::1 on hosts with only loopback
  // configured, and the guard must see every address the name has).
  const auto results =
      resolver.resolve(url.host, std::to_string(url.port), ip::tcp::resolver::numeric_service, ec);
  if (ec) return "cannot resolve " + url.host + ": " + ec.message();
  for (const auto& entry : results) {
    const ip::address address = entry.endpoint().address();
    if (const auto verdict = refusal(address, policy)) {
      return std::string(kGuardPrefix) + url.host + " resolves to " + address.to_string() + ", a " +
             std::string(to_string(*verdict)) + " address";
    }
    if (auto reason =
            plain_http_refusal(url, address, url.host + " resolves to " + address.to_string()))
      return std::move(*reason);
    endpoints.emplace_back(address, url.port);
  }
  if (endpoints.empty()) return "cannot resolve " + url.host + ": no addresses";
  return endpoints;
}

std::optional<std::string> check_registration(std::string_view url, const GuardPolicy& policy) {
  auto parsed = parse_webhook_url(url);
  if (const auto* problem = std::get_if<std::string>(&parsed))
    return "invalid webhook URL: " + *problem;
  const WebhookUrl& target = std::get<WebhookUrl>(parsed);
  if (auto reason = check_scheme(target, policy)) return reason;
  boost::asio::io_context io;
  auto resolved = resolve_guarded(io, target, policy);
  if (auto* reason = std::get_if<std::string>(&resolved)) return std::move(*reason);
  return std::nullopt;
}

}  // namespace pg::webhooks
