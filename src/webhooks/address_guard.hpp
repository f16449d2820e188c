// The outbound-address (SSRF) guard: which IP addresses a webhook may reach, host resolution that
// vets every address, and the endpoints the client must connect to without resolving again.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "webhooks/url.hpp"

namespace pg::webhooks {

/// Where an address points, for the guard. Ranges from the IANA IPv4 and IPv6 Special-Purpose
/// Address Registries (RFC 6890 and updates).
enum class AddressVerdict {
  kAllowed,    // public unicast
  kLoopback,   // 127/8, ::1
  kPrivate,    // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 (deprecated site-local)
  kLinkLocal,  // 169.254/16, fe80::/10
  kMetadata,   // cloud instance metadata: 169.254.169.254, fd00:ec2::254, 100.100.100.200,
               // 168.63.129.16
  kReserved,   // unspecified, multicast, broadcast, documentation, benchmarking, CGNAT 100.64/10,
               // 0/8, 240/4, IETF 192.0.0/24, and every IPv6 address outside 2000::/3 not named
               // above
};

/// A short English name of the verdict ("loopback", "private", ...).
[[nodiscard]] std::string_view to_string(AddressVerdict verdict) noexcept;

/// Classifies `address`. IPv6 forms that embed an IPv4 address (IPv4-mapped ::ffff:0:0/96,
/// IPv4-compatible ::/96, IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16,
/// Teredo 2001::/32 — its server and its de-obfuscated client address) are classified by the
/// embedded address; for Teredo the first non-allowed of the two wins.
[[nodiscard]] AddressVerdict classify(const boost::asio::ip::address& address) noexcept;

/// What the guard lets through.
/// Plain http is never allowed to a non-loopback address, whatever the policy says (resolve_guarded
/// refuses it); `require_https = false` only lets a loopback receiver, which `allow_loopback`
/// admits, be reached without TLS.
struct GuardPolicy {
  bool allow_loopback = false;  // development and tests only: allows 127/8 and ::1
  bool require_https = true;    // false: plain http to loopback targets (see above)
};

/// nullopt when `policy` allows connecting to `address`, else the reason ("10.0.0.1 is a
/// private address"). Only kLoopback can be allowed (by allow_loopback); kPrivate, kLinkLocal,
/// kMetadata and kReserved never are.
[[nodiscard]] std::optional<std::string> check_address(const boost::asio::ip::address& address,
                                                       const GuardPolicy& policy);

/// Resolves `url.host` (or takes its IP literal) and returns every resolved endpoint with
/// `url.port`, in resolver order, after checking each one: if ANY address is forbidden the
/// whole host is refused ("refused by the address guard: <host> resolves to <addr>, a <kind>
/// address"). A resolution failure is "cannot resolve <host>: <reason>". The caller must
/// connect to these endpoints only, never resolve the host again (DNS rebinding between the
/// check and the connect). A URL that is not https is refused unless every address is loopback
/// ("refused by the address guard: https is required: plain http is allowed to loopback only,
/// ..."); whether http is allowed at all is check_scheme's. Blocks for the system resolver's time.
[[nodiscard]] std::variant<std::vector<boost::asio::ip::tcp::endpoint>, std::string>
resolve_guarded(boost::asio::io_context& io, const WebhookUrl& url, const GuardPolicy& policy);

/// The scheme check alone: nullopt, or "refused by the address guard: https is required ...".
[[nodiscard]] std::optional<std::string> check_scheme(const WebhookUrl& url,
                                                      const GuardPolicy& policy);

/// Registration-time check of a partner's URL: parse, scheme policy, resolve, check every
/// address. nullopt = acceptable now (delivery checks again: DNS may change).
[[nodiscard]] std::optional<std::string> check_registration(std::string_view url,
                                                            const GuardPolicy& policy);

}  // namespace pg::webhooks
