// Webhook networking: the strict URL parser, the SSRF guard's address classes and policy, guarded
// resolution, and the guarded client against real HTTP and HTTPS servers on 127.0.0.1.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "webhooks/address_guard.hpp"
#include "webhooks/http_client.hpp"
#include "webhooks/url.hpp"

namespace pg::webhooks {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// URL parsing

WebhookUrl parse_ok(std::string_view text) {
  auto parsed = parse_webhook_url(text);
  if (const auto* problem = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << "refused " << text << ": " << *problem;
    return {};
  }
  return std::get<WebhookUrl>(parsed);
}

std::string parse_error(std::string_view text) {
  auto parsed = parse_webhook_url(text);
  if (std::holds_alternative<WebhookUrl>(parsed)) return "<accepted>";
  return std::get<std::string>(parsed);
}

TEST(WebhookUrl, accepts_https_name_with_default_port_and_root_target) {
  const WebhookUrl url = parse_ok("https://hooks.example.com");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "hooks.example.com");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.target, "/");
  EXPECT_FALSE(url.host_is_ip);
  EXPECT_EQ(url.host_header(), "hooks.example.com");
}

TEST(WebhookUrl, lowercases_scheme_and_host_but_keeps_path_case) {
  const WebhookUrl url = parse_ok("HTTPS://Hooks.Example.COM:8443/In/Box?Token=AbC");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "hooks.example.com");
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.target, "/In/Box?Token=AbC");
  EXPECT_EQ(url.host_header(), "hooks.example.com:8443");
}

TEST(WebhookUrl, http_defaults_to_port_80) {
  const WebhookUrl url = parse_ok("http://example.com/hook");
  EXPECT_EQ(url.port, 80);
  EXPECT_EQ(url.host_header(), "example.com");
}

TEST(WebhookUrl, query_without_path_gets_root_path) {
  EXPECT_EQ(parse_ok("https://example.com?event=proof").target, "/?event=proof");
}

TEST(WebhookUrl, accepts_percent_encoding_and_rfc3986_characters_in_target) {
  EXPECT_EQ(parse_ok("https://example.com/a%20b/c;v=1/@x:y?t=%2B&u=!$'()*+,=~-._").target,
            "/a%20b/c;v=1/@x:y?t=%2B&u=!$'()*+,=~-._");
}

TEST(WebhookUrl, accepts_punycode_host) {
  EXPECT_EQ(parse_ok("https://xn--bcher-kva.example/hook").host, "xn--bcher-kva.example");
}

TEST(WebhookUrl, accepts_canonical_ipv4_literal) {
  const WebhookUrl url = parse_ok("http://203.0.113.9:8080/x");
  EXPECT_EQ(url.host, "203.0.113.9");
  EXPECT_TRUE(url.host_is_ip);
  EXPECT_EQ(url.port, 8080);
}

TEST(WebhookUrl, ipv6_literal_is_stored_without_brackets_in_canonical_form) {
  const WebhookUrl url = parse_ok("https://[2606:4700:0:0:0:0:0:1111]:8443/x");
  EXPECT_EQ(url.host, "2606:4700::1111");
  EXPECT_TRUE(url.host_is_ip);
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.host_header(), "[2606:4700::1111]:8443");
  EXPECT_EQ(parse_ok("https://[2606:4700::1111]/").host_header(), "[2606:4700::1111]");
}

TEST(WebhookUrl, accepts_exactly_the_maximum_length) {
  const std::string prefix = "https://example.com/";
  const std::string text = prefix + std::string(kMaxWebhookUrlLength - prefix.size(), 'a');
  EXPECT_EQ(parse_ok(text).target.size(), kMaxWebhookUrlLength - prefix.size() + 1);
}

struct Refusal {
  std::string url;
  std::string names;  // a piece of the error that names the problem
};

TEST(WebhookUrl, each_refusal_names_the_problem) {
  const std::string long_label(64, 'a');
  const std::vector<Refusal> cases = {
      {"", "empty"},
      {"https://example.com/" + std::string(kMaxWebhookUrlLength, 'a'), "longer than 2048"},
      {"ftp://example.com/", "scheme \"ftp\" is not allowed"},
      {"javascript:alert(1)", "scheme \"javascript\" is not allowed"},
      {"example.com/hook", "scheme is missing"},
      {"://example.com/", "scheme is missing"},
      {"https:/example.com/", "expected \"//\""},
      {"https://user:pw@example.com/", "userinfo"},
      {"https://example.com@127.0.0.1/", "userinfo"},
      {"https://example.com/#frag", "fragment"},
      {"https://example.com\\@evil.example/", "backslash"},
      {"https:///hook", "host is missing"},
      {"https://:443/hook", "host is missing"},
      {"https://", "host is missing"},
      {"https://example.com:0/", "port 0 is out of range"},
      {"https://example.com:65536/", "port 65536 is out of range"},
      {"https://example.com:123456/", "out of range"},
      {"https://example.com:/", "port is empty"},
      {"https://example.com:8o/", "not a decimal number"},
      {"https://example.com:-1/", "not a decimal number"},
      {"https://exa mple.com/", "whitespace or control character at offset 11"},
      {"https://example.com/a\tb", "whitespace or control character"},
      {"https://example.com/\x7f", "control character"},
      {"https://example.com/\n", "control character"},
      {"https://b\xc3\xbc"
       "cher.example/",
       "punycode"},
      {"https://example.com/\xc3\xbc", "non-ASCII"},
      {"https://ex%61mple.com/", "percent-encoding is allowed in the path only"},
      {"https://example.com/%zz", "invalid percent-encoding"},
      {"https://example.com/%4", "invalid percent-encoding"},
      {"https://example.com/<script>", "character '<'"},
      {"https://example.com/a|b", "character '|'"},
      {"https://example.com/?a[]=1", "character '['"},
      {"https://127.1/", "not a canonical dotted quad"},
      {"https://2130706433/", "not a canonical dotted quad"},
      {"https://0x7f.0.0.1/", "not a canonical dotted quad"},
      {"https://0x7f000001/", "not a canonical dotted quad"},
      {"https://010.0.0.1/", "not a canonical dotted quad"},
      {"https://256.0.0.1/", "not a canonical dotted quad"},
      {"https://1.2.3.4.5/", "not a canonical dotted quad"},
      {"https://example.0x10/", "not a canonical dotted quad"},
      {"https://[::1/", "closing ']'"},
      {"https://[::1]x/", "after the IPv6 literal"},
      {"https://[fe80::1%25eth0]/", "percent-encoding is allowed in the path only"},
      {"https://[1.2.3.4]/", "not a valid IPv6 address"},
      {"https://[]/", "not a valid IPv6 address"},
      {"https://[v1.fe]/", "not a valid IPv6 address"},
      {"https://::1/", "more than one ':'"},
      {"https://exa_mple.com/", "character '_'"},
      {"https://example..com/", "empty label"},
      {"https://example.com./", "empty label"},
      {"https://.example.com/", "empty label"},
      {"https://-example.com/", "starts or ends with '-'"},
      {"https://example-.com/", "starts or ends with '-'"},
      {"https://" + long_label + ".com/", "longer than 63"},
  };
  for (const Refusal& c : cases) {
    const std::string error = parse_error(c.url);
    EXPECT_NE(error.find(c.names), std::string::npos) << "URL: " << c.url << "\nerror: " << error;
  }
}

// ---------------------------------------------------------------------------------------------
// Address classes

AddressVerdict of(const char* text) {
  return classify(asio::ip::make_address(text));
}

struct Classified {
  const char* address;
  AddressVerdict verdict;
};

void expect_verdicts(const std::vector<Classified>& cases) {
  for (const Classified& c : cases) {
    EXPECT_EQ(of(c.address), c.verdict)
        << c.address << " is " << to_string(of(c.address)) << ", expected " << to_string(c.verdict);
  }
}

constexpr AddressVerdict kA = AddressVerdict::kAllowed;
constexpr AddressVerdict kL = AddressVerdict::kLoopback;
constexpr AddressVerdict kP = AddressVerdict::kPrivate;
constexpr AddressVerdict kLL = AddressVerdict::kLinkLocal;
constexpr AddressVerdict kM = AddressVerdict::kMetadata;
constexpr AddressVerdict kR = AddressVerdict::kReserved;

TEST(Classify, ipv4_private_loopback_and_link_local_ranges_at_their_boundaries) {
  expect_verdicts({
      {"9.255.255.255", kA},   {"10.0.0.0", kP},         {"10.255.255.255", kP},
      {"11.0.0.0", kA},        {"126.255.255.255", kA},  {"127.0.0.0", kL},
      {"127.0.0.1", kL},       {"127.255.255.255", kL},  {"128.0.0.0", kA},
      {"172.15.255.255", kA},  {"172.16.0.0", kP},       {"172.31.255.255", kP},
      {"172.32.0.0", kA},      {"192.167.255.255", kA},  {"192.168.0.0", kP},
      {"192.168.255.255", kP}, {"192.169.0.0", kA},      {"169.253.255.255", kA},
      {"169.254.0.0", kLL},    {"169.254.255.255", kLL}, {"169.255.0.0", kA},
  });
}

TEST(Classify, ipv4_metadata_endpoints) {
  expect_verdicts({
      {"169.254.169.254", kM},
      {"169.254.169.253", kLL},
      {"169.254.169.255", kLL},
      {"100.100.100.200", kM},  // Alibaba Cloud
      {"168.63.129.16", kM},    // Azure WireServer
      {"168.63.129.17", kA},
  });
}

TEST(Classify, ipv4_reserved_ranges_at_their_boundaries) {
  expect_verdicts({
      {"0.0.0.0", kR},         {"0.255.255.255", kR},   {"1.0.0.0", kA},
      {"100.63.255.255", kA},  {"100.64.0.0", kR},      {"100.127.255.255", kR},
      {"100.128.0.0", kA},     {"191.255.255.255", kA}, {"192.0.0.0", kR},
      {"192.0.0.255", kR},     {"192.0.1.0", kA},       {"192.0.2.0", kR},
      {"192.0.2.255", kR},     {"192.0.3.0", kA},       {"198.17.255.255", kA},
      {"198.18.0.0", kR},      {"198.19.255.255", kR},  {"198.20.0.0", kA},
      {"198.51.99.255", kA},   {"198.51.100.0", kR},    {"198.51.100.255", kR},
      {"198.51.101.0", kA},    {"203.0.112.255", kA},   {"203.0.113.0", kR},
      {"203.0.113.255", kR},   {"203.0.114.0", kA},     {"223.255.255.255", kA},
      {"224.0.0.0", kR},       {"239.255.255.255", kR}, {"240.0.0.0", kR},
      {"255.255.255.254", kR}, {"255.255.255.255", kR},
  });
}

TEST(Classify, public_addresses_are_allowed) {
  expect_verdicts(
      {{"8.8.8.8", kA}, {"1.1.1.1", kA}, {"2606:4700::1111", kA}, {"2001:4860:4860::8888", kA}});
}

TEST(Classify, ipv6_special_ranges) {
  expect_verdicts({
      {"::", kR},
      {"::1", kL},
      {"fc00::", kP},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kP},
      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kR},
      {"fd00:ec2::254", kM},
      {"fd00:ec2::253", kP},
      {"fd20:ce::254", kM},
      {"fe80::", kLL},
      {"fe80::1", kLL},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kLL},
      {"fec0::1", kP},
      {"ff00::", kR},
      {"ff02::1", kR},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kR},
      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", kA},
      {"2001:db8::", kR},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", kR},
      {"2001:db9::", kA},
      {"3fff::1", kR},
      {"3fff:fff:ffff::", kR},
      {"3fff:1000::", kA},
      {"100::", kR},
      {"100::ffff:ffff:ffff:ffff", kR},
      {"2001:2::1", kR},
      {"2001:3::1", kA},
      {"2001:20::1", kR},
      {"1fff:ffff::1", kR},
      {"2000::1", kA},
      {"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kA},
      {"4000::1", kR},
  });
}

TEST(Classify, ipv6_forms_embedding_ipv4_are_classified_by_the_ipv4_address) {
  expect_verdicts({
      // IPv4-mapped
      {"::ffff:127.0.0.1", kL},
      {"::ffff:10.0.0.1", kP},
      {"::ffff:169.254.169.254", kM},
      {"::ffff:0.0.0.0", kR},
      {"::ffff:8.8.8.8", kA},
      // IPv4-compatible (deprecated)
      {"::127.0.0.1", kL},
      {"::10.0.0.1", kP},
      {"::169.254.169.254", kM},
      {"::8.8.8.8", kA},
      {"::2", kR},
      // IPv4-translated
      {"::ffff:0:127.0.0.1", kL},
      {"::ffff:0:8.8.8.8", kA},
      // NAT64 64:ff9b::/96, and the local-use prefix 64:ff9b:1::/48
      {"64:ff9b::a9fe:a9fe", kM},
      {"64:ff9b::7f00:1", kL},
      {"64:ff9b::a00:1", kP},
      {"64:ff9b::808:808", kA},
      {"64:ff9b:1::808:808", kR},
      // 6to4 2002:AABB:CCDD::/48
      {"2002:7f00:1::1", kL},
      {"2002:a00:1::", kP},
      {"2002:a9fe:a9fe::1", kM},
      {"2002:808:808::1", kA},
      // Teredo 2001:0:SSSS:SSSS:flags:port:~CCCC:~CCCC (RFC 4380 §4)
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", kR},  // RFC 4380's example: client 192.0.2.45
      {"2001:0:808:808:8000:63bf:80ff:fffe", kL},    // client 127.0.0.1
      {"2001:0:a00:1::fefd:fcfb", kP},               // server 10.0.0.1, client 1.2.3.4
      {"2001:0:808:808::fefd:fcfb", kA},             // server 8.8.8.8, client 1.2.3.4
  });
}

// ---------------------------------------------------------------------------------------------
// Guard policy and resolution

TEST(GuardPolicy, loopback_is_allowed_only_with_allow_loopback) {
  const GuardPolicy strict;
  const GuardPolicy dev{.allow_loopback = true, .require_https = true};
  for (const char* text : {"127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1"}) {
    const auto address = asio::ip::make_address(text);
    const auto reason = check_address(address, strict);
    ASSERT_TRUE(reason.has_value()) << text;
    EXPECT_NE(reason->find("loopback"), std::string::npos) << *reason;
    EXPECT_EQ(check_address(address, dev), std::nullopt) << text;
  }
}

TEST(GuardPolicy, private_link_local_metadata_and_reserved_are_never_allowed) {
  const GuardPolicy dev{.allow_loopback = true, .require_https = false};
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"10.0.0.1", "10.0.0.1 is a private address"},
      {"fd12::1", "fd12::1 is a private address"},
      {"169.254.1.1", "169.254.1.1 is a link-local address"},
      {"fe80::1", "fe80::1 is a link-local address"},
      {"169.254.169.254", "169.254.169.254 is a cloud metadata address"},
      {"::ffff:169.254.169.254", "cloud metadata"},
      {"0.0.0.0", "0.0.0.0 is a reserved address"},
      {"::", ":: is a reserved address"},
      {"224.0.0.1", "reserved"},
  };
  for (const auto& [text, reason] : cases) {
    const auto got = check_address(asio::ip::make_address(text), dev);
    ASSERT_TRUE(got.has_value()) << text;
    EXPECT_NE(got->find(reason), std::string::npos) << *got;
  }
}

TEST(GuardPolicy, public_addresses_pass) {
  EXPECT_EQ(check_address(asio::ip::make_address("8.8.8.8"), GuardPolicy{}), std::nullopt);
  EXPECT_EQ(check_address(asio::ip::make_address("2606:4700::1111"), GuardPolicy{}), std::nullopt);
}

WebhookUrl url_of(std::string_view text) {
  return parse_ok(text);
}

TEST(ResolveGuarded, localhost_is_refused_without_allow_loopback) {
  asio::io_context io;
  auto resolved = resolve_guarded(io, url_of("https://localhost/hook"), GuardPolicy{});
  ASSERT_TRUE(std::holds_alternative<std::string>(resolved));
  const std::string& error = std::get<std::string>(resolved);
  EXPECT_EQ(error.rfind("refused by the address guard: localhost resolves to ", 0), 0u) << error;
  EXPECT_NE(error.find("a loopback address"), std::string::npos) << error;
  EXPECT_TRUE(error.find("127.0.0.1") != std::string::npos ||
              error.find("::1") != std::string::npos)
      << error;
}

TEST(ResolveGuarded, localhost_resolves_to_loopback_endpoints_with_allow_loopback) {
  asio::io_context io;
  auto resolved = resolve_guarded(io, url_of("https://localhost:8443/hook"),
                                  GuardPolicy{.allow_loopback = true});
  ASSERT_TRUE(std::holds_alternative<std::vector<tcp::endpoint>>(resolved))
      << std::get<std::string>(resolved);
  const auto& endpoints = std::get<std::vector<tcp::endpoint>>(resolved);
  ASSERT_FALSE(endpoints.empty());
  for (const auto& ep : endpoints) {
    EXPECT_EQ(classify(ep.address()), AddressVerdict::kLoopback) << ep.address().to_string();
    EXPECT_EQ(ep.port(), 8443);
  }
}

TEST(ResolveGuarded, ip_literal_is_checked_without_resolving) {
  asio::io_context io;
  auto refused =
      resolve_guarded(io, url_of("https://10.1.2.3/"), GuardPolicy{.allow_loopback = true});
  ASSERT_TRUE(std::holds_alternative<std::string>(refused));
  EXPECT_EQ(std::get<std::string>(refused),
            "refused by the address guard: 10.1.2.3 is a private address");

  auto metadata = resolve_guarded(io, url_of("http://[fd00:ec2::254]/"), GuardPolicy{});
  ASSERT_TRUE(std::holds_alternative<std::string>(metadata));
  EXPECT_NE(std::get<std::string>(metadata).find("cloud metadata"), std::string::npos);

  auto allowed = resolve_guarded(io, url_of("https://8.8.8.8:444/"), GuardPolicy{});
  ASSERT_TRUE(std::holds_alternative<std::vector<tcp::endpoint>>(allowed));
  const auto& endpoints = std::get<std::vector<tcp::endpoint>>(allowed);
  ASSERT_EQ(endpoints.size(), 1u);
  EXPECT_EQ(endpoints[0], tcp::endpoint(asio::ip::make_address("8.8.8.8"), 444));
}

// Security: allowing loopback (development) allows plain http to loopback and nothing else.
TEST(ResolveGuarded, plain_http_reaches_loopback_only_even_with_allow_loopback) {
  asio::io_context io;
  const GuardPolicy dev{.allow_loopback = true, .require_https = false};
  for (const char* url : {"http://127.0.0.1:9/", "http://[::1]:9/", "http://localhost:9/"}) {
    auto resolved = resolve_guarded(io, url_of(url), dev);
    ASSERT_TRUE(std::holds_alternative<std::vector<tcp::endpoint>>(resolved))
        << url << ": " << std::get<std::string>(resolved);
    for (const auto& ep : std::get<std::vector<tcp::endpoint>>(resolved))
      EXPECT_EQ(classify(ep.address()), AddressVerdict::kLoopback) << url;
  }
  const std::vector<std::pair<const char*, const char*>> refused = {
      {"http://8.8.8.8/hook",
       "refused by the address guard: https is required: plain http is allowed to loopback only, "
       "and 8.8.8.8 is not a loopback address"},
      {"http://[2606:4700::1111]:8080/",
       "refused by the address guard: https is required: plain http is allowed to loopback only, "
       "and 2606:4700::1111 is not a loopback address"},
      {"http://10.0.0.1/", "refused by the address guard: 10.0.0.1 is a private address"},
      {"http://[fe80::1]/", "refused by the address guard: fe80::1 is a link-local address"},
      {"http://169.254.169.254/",
       "refused by the address guard: 169.254.169.254 is a cloud metadata address"},
  };
  for (const GuardPolicy& policy : {dev, GuardPolicy{.require_https = false}}) {
    for (const auto& [url, reason] : refused) {
      auto resolved = resolve_guarded(io, url_of(url), policy);
      ASSERT_TRUE(std::holds_alternative<std::string>(resolved)) << url;
      EXPECT_EQ(std::get<std::string>(resolved), reason) << url;
    }
  }
  // The same public address over https is fine.
  EXPECT_TRUE(std::holds_alternative<std::vector<tcp::endpoint>>(
      resolve_guarded(io, url_of("https://8.8.8.8/hook"), dev)));
}

TEST(ResolveGuarded, unresolvable_name_is_an_error_naming_the_host) {
  asio::io_context io;
  auto resolved = resolve_guarded(io, url_of("https://no-such-host.invalid/"), GuardPolicy{});
  ASSERT_TRUE(std::holds_alternative<std::string>(resolved));
  EXPECT_EQ(std::get<std::string>(resolved).rfind("cannot resolve no-such-host.invalid: ", 0), 0u)
      << std::get<std::string>(resolved);
}

TEST(CheckRegistration, refuses_http_when_https_is_required) {
  const auto reason = check_registration("http://example.com/hook", GuardPolicy{});
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("https is required"), std::string::npos) << *reason;
  // Allowed scheme once the policy does not require https (an IP literal: no DNS needed).
  EXPECT_EQ(check_registration("http://127.0.0.1:9/hook",
                               GuardPolicy{.allow_loopback = true, .require_https = false}),
            std::nullopt);
}

TEST(CheckRegistration, allowing_loopback_does_not_allow_plain_http_to_a_public_host) {
  const GuardPolicy dev{.allow_loopback = true, .require_https = false};
  for (const char* url : {"http://8.8.8.8/hook", "http://[2606:4700::1111]/hook"}) {
    const auto reason = check_registration(url, dev);
    ASSERT_TRUE(reason.has_value()) << url;
    EXPECT_NE(reason->find("https is required: plain http is allowed to loopback only"),
              std::string::npos)
        << *reason;
  }
  EXPECT_EQ(check_registration("https://8.8.8.8/hook", dev), std::nullopt);
  EXPECT_EQ(check_registration("http://[::1]:9/hook", dev), std::nullopt);
}

TEST(CheckRegistration, refuses_malformed_urls_and_forbidden_addresses) {
  const auto malformed = check_registration("https://user@example.com/", GuardPolicy{});
  ASSERT_TRUE(malformed.has_value());
  EXPECT_EQ(malformed->rfind("invalid webhook URL: ", 0), 0u) << *malformed;
  EXPECT_NE(malformed->find("userinfo"), std::string::npos);

  for (const char* url : {"https://10.0.0.1/", "https://[::ffff:169.254.169.254]/",
                          "https://localhost/", "https://[::1]/", "https://127.0.0.1/"}) {
    const auto reason = check_registration(url, GuardPolicy{});
    ASSERT_TRUE(reason.has_value()) << url;
    EXPECT_EQ(reason->rfind("refused by the address guard: ", 0), 0u) << *reason;
  }
  EXPECT_EQ(check_registration("https://[::1]/", GuardPolicy{.allow_loopback = true}),
            std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Retry-After

std::chrono::system_clock::time_point jan_1_2024() {
  return std::chrono::sys_days(std::chrono::year(2024) / 1 / 1);
}

TEST(RetryAfter, delta_seconds) {
  const auto now = jan_1_2024();
  EXPECT_EQ(parse_retry_after("7", now), 7s);
  EXPECT_EQ(parse_retry_after("0", now), 0s);
  EXPECT_EQ(parse_retry_after(" 120\t", now), 120s);
  EXPECT_EQ(parse_retry_after("99999999999999999999999", now), kMaxRetryAfter);
}

TEST(RetryAfter, http_dates_in_all_three_formats) {
  const auto now = jan_1_2024();
  EXPECT_EQ(parse_retry_after("Mon, 01 Jan 2024 00:00:10 GMT", now), 10s);
  EXPECT_EQ(parse_retry_after("Tue, 02 Jan 2024 00:00:00 GMT", now), 86400s);
  EXPECT_EQ(parse_retry_after("Monday, 01-Jan-24 00:01:00 GMT", now), 60s);
  EXPECT_EQ(parse_retry_after("Mon Jan  1 00:00:05 2024", now), 5s);
  EXPECT_EQ(parse_retry_after("Mon Jan 11 00:00:00 2024", now), 10 * 86400s);
  // In the past: retry now. Sub-second remainders round up, never retrying early.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 0s);
  EXPECT_EQ(parse_retry_after("Mon, 01 Jan 2024 00:00:10 GMT", now + 500ms), 10s);
}

TEST(RetryAfter, garbage_is_nullopt) {
  const auto now = jan_1_2024();
  for (const char* value : {"", "  ", "-1", "1.5", "7s", "soon", "Mon, 32 Jan 2024 00:00:00 GMT",
                            "Mon, 01 Foo 2024 00:00:00 GMT", "Mon, 01 Jan 2024 00:00:00 UTC",
                            "Mon, 01 Jan 2024 24:00:00 GMT", "Mon, 30 Feb 2024 00:00:00 GMT",
                            "Mon, 1 Jan 2024 00:00:00 GMT", "Mon, 01 Jan 2024 00:00:00 GMT x"}) {
    EXPECT_EQ(parse_retry_after(value, now), std::nullopt) << '"' << value << '"';
  }
}

// ---------------------------------------------------------------------------------------------
// A local server to post to

enum class Reply {
  kOk,            // 200
  kRedirect,      // 302 to another path on the same server
  kTooMany,       // 429 with Retry-After: 7
  kSilent,        // reads the request, never answers
  kCloseAtOnce,   // closes the connection on accept
  kBigBody,       // 200 with a 1 MiB body
  kInterimFirst,  // 100 Continue, then 204
};

struct Recorded {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string sni;  // TLS server name the client sent, empty when none
};

/// An HTTP (or, given a context, HTTPS) server on 127.0.0.1, an ephemeral port, its own thread.
class TestServer {
 public:
  explicit TestServer(Reply reply, ssl::context* tls = nullptr)
      : reply_(reply),
        tls_(tls),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/hook") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
           std::string(path);
  }
  int connections() const { return connections_.load(); }
  std::vector<Recorded> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++connections_;
      if (reply_ == Reply::kCloseAtOnce) {
        socket.close(ec);
        continue;
      }
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    if (tls_ == nullptr) {
      co_await answer(socket, "");
      co_return;
    }
    ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
    beast::error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    co_await answer(stream, sni ? sni : "");
  }

  template <class Stream>
  asio::awaitable<void> answer(Stream& stream, std::string sni) {
    beast::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    co_await bhttp::async_read(stream, buffer, req, token);
    if (ec) co_return;
    record(req, std::move(sni));

    if (reply_ == Reply::kSilent) {
      asio::steady_timer forever(co_await asio::this_coro::executor, 60s);
      co_await forever.async_wait(token);
      co_return;
    }
    if (reply_ == Reply::kInterimFirst) {
      static constexpr std::string_view kRaw =
          "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
      co_await asio::async_write(stream, asio::buffer(kRaw), token);
      co_return;
    }
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.set(bhttp::field::connection, "close");
    switch (reply_) {
      case Reply::kRedirect:
        res.result(bhttp::status::found);
        res.set(bhttp::field::location, "http://127.0.0.1:" + std::to_string(port_) + "/elsewhere");
        break;
      case Reply::kTooMany:
        res.result(bhttp::status::too_many_requests);
        res.set(bhttp::field::retry_after, "7");
        break;
      case Reply::kBigBody:
        res.body() = std::string(1 << 20, 'x');
        break;
      default:
        res.body() = "ok";
        break;
    }
    res.prepare_payload();
    co_await bhttp::async_write(stream, res, token);
  }

  void record(const bhttp::request<bhttp::string_body>& req, std::string sni) {
    Recorded r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(field.value());
    }
    r.body = req.body();
    r.sni = std::move(sni);
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(r));
  }

  Reply reply_;
  ssl::context* tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<Recorded> requests_;
};

const GuardPolicy kLocalPolicy{.allow_loopback = true, .require_https = false};

PostRequest request_to(const std::string& url, std::chrono::milliseconds timeout = 3000ms) {
  PostRequest req;
  req.url = parse_ok(url);
  req.body = R"({"type":"proof.verified"})";
  req.timeout = timeout;
  return req;
}

TEST(PostGuarded, posts_json_with_the_required_headers_and_returns_200) {
  TestServer server(Reply::kOk);
  PostRequest req = request_to(server.url("/hook?x=1"));
  req.headers = {{"webhook-id", "evt_1"}, {"X-Extra", "a b"}};
  const PostResult r = post_guarded(req, kLocalPolicy);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.retry_after, std::nullopt);
  EXPECT_GE(r.latency_ms, 0);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  const Recorded& got = seen[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hook?x=1");
  EXPECT_EQ(got.headers.at("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(got.headers.at("content-type"), "application/json");
  EXPECT_EQ(got.headers.at("user-agent"), "proofgate-webhooks/1");
  EXPECT_EQ(got.headers.at("connection"), "close");
  EXPECT_EQ(got.headers.at("content-length"), std::to_string(req.body.size()));
  EXPECT_EQ(got.headers.at("webhook-id"), "evt_1");
  EXPECT_EQ(got.headers.at("x-extra"), "a b");
  EXPECT_EQ(got.body, req.body);
}

TEST(PostGuarded, does_not_follow_a_redirect) {
  TestServer server(Reply::kRedirect);
  const PostResult r = post_guarded(request_to(server.url()), kLocalPolicy);
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(server.connections(), 1);
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/hook");
}

TEST(PostGuarded, returns_429_with_retry_after) {
  TestServer server(Reply::kTooMany);
  const PostResult r = post_guarded(request_to(server.url()), kLocalPolicy);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.retry_after, 7s);
}

TEST(PostGuarded, times_out_on_a_server_that_never_answers) {
  TestServer server(Reply::kSilent);
  const auto start = std::chrono::steady_clock::now();
  const PostResult r = post_guarded(request_to(server.url(), 300ms), kLocalPolicy);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("timeout after 300 ms"), std::string::npos) << r.error;
  EXPECT_LT(elapsed, 1s);
  EXPECT_GE(r.latency_ms, 290);
  EXPECT_EQ(server.requests().size(), 1u);  // it was sent; only the answer never came
}

TEST(PostGuarded, connection_closed_at_once_is_an_error_without_status) {
  TestServer server(Reply::kCloseAtOnce);
  const PostResult r = post_guarded(request_to(server.url()), kLocalPolicy);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("connection closed by the peer"), std::string::npos) << r.error;
  EXPECT_EQ(server.connections(), 1);
}

TEST(PostGuarded, connection_refused_is_reported) {
  std::uint16_t port = 0;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  const PostResult r =
      post_guarded(request_to("http://127.0.0.1:" + std::to_string(port) + "/"), kLocalPolicy);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "connection refused");
}

TEST(PostGuarded, loopback_is_refused_before_connecting_without_allow_loopback) {
  TestServer server(Reply::kOk);
  const PostResult refused =
      post_guarded(request_to(server.url()), GuardPolicy{.require_https = false});
  EXPECT_EQ(refused.status, 0);
  EXPECT_EQ(refused.error.rfind("refused by the address guard: ", 0), 0u) << refused.error;
  EXPECT_NE(refused.error.find("127.0.0.1 is a loopback address"), std::string::npos)
      << refused.error;
  // A later allowed post is the server's first connection: the refused one never connected.
  EXPECT_EQ(post_guarded(request_to(server.url()), kLocalPolicy).status, 200);
  EXPECT_EQ(server.connections(), 1);
}

TEST(PostGuarded, refuses_http_when_https_is_required_before_connecting) {
  TestServer server(Reply::kOk);
  const PostResult refused =
      post_guarded(request_to(server.url()), GuardPolicy{.allow_loopback = true});
  EXPECT_EQ(refused.status, 0);
  EXPECT_NE(refused.error.find("https is required"), std::string::npos) << refused.error;
  EXPECT_EQ(post_guarded(request_to(server.url()), kLocalPolicy).status, 200);
  EXPECT_EQ(server.connections(), 1);
}

TEST(PostGuarded, plain_http_to_a_public_address_is_refused_before_connecting) {
  // kLocalPolicy allows loopback over http; a public address over http must not be tried at all
  // (without the guard this would be a connection attempt: a timeout or "network unreachable").
  const PostResult refused = post_guarded(request_to("http://8.8.8.8:9/hook", 500ms), kLocalPolicy);
  EXPECT_EQ(refused.status, 0);
  EXPECT_EQ(refused.error,
            "refused by the address guard: https is required: plain http is allowed to loopback "
            "only, and 8.8.8.8 is not a loopback address");
}

TEST(PostGuarded, refuses_header_injection_and_client_owned_headers) {
  TestServer server(Reply::kOk);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"X-Evil", "a\r\nInjected: yes"},
      {"X-Evil\r\nInjected", "yes"},
      {"", "v"},
      {"X Space", "v"},
      {"Host", "other.example"},
      {"content-length", "0"},
      {"Transfer-Encoding", "chunked"},
      {"Connection", "keep-alive"},
  };
  for (const auto& header : bad) {
    PostRequest req = request_to(server.url());
    req.headers = {header};
    const PostResult r = post_guarded(req, kLocalPolicy);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error.rfind("invalid request header", 0), 0u) << header.first << ": " << r.error;
  }
  EXPECT_EQ(post_guarded(request_to(server.url()), kLocalPolicy).status, 200);
  EXPECT_EQ(server.connections(), 1);
}

TEST(PostGuarded, an_oversized_body_keeps_the_status) {
  TestServer server(Reply::kBigBody);
  const PostResult r = post_guarded(request_to(server.url()), kLocalPolicy);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error, "");
}

TEST(PostGuarded, skips_an_interim_answer) {
  TestServer server(Reply::kInterimFirst);
  const PostResult r = post_guarded(request_to(server.url()), kLocalPolicy);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.error, "");
}

// ---------------------------------------------------------------------------------------------
// HTTPS against a local CA

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

PkeyPtr new_key() {
  return PkeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free);
}

/// A certificate for `key`, signed by `issuer_key` (self-signed when `issuer` is null).
X509Ptr make_cert(EVP_PKEY* key, const std::string& cn, EVP_PKEY* issuer_key, X509* issuer,
                  bool is_ca, const std::string& san) {
  static long serial = 1;
  X509Ptr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  const auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    ASSERT_NE(ext, nullptr) << value;
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  if (!is_ca) add(NID_ext_key_usage, "serverAuth");
  if (!san.empty()) add(NID_subject_alt_name, san);
  X509_sign(cert.get(), issuer_key, EVP_sha256());
  return cert;
}

std::string pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

/// A test CA written to a file, and server contexts with leaf certificates it signs.
class LocalCa {
 public:
  LocalCa()
      : key_(new_key()),
        cert_(make_cert(key_.get(), "proofgate test CA", key_.get(), nullptr, true, "")) {
    file_ = testing::TempDir() + "webhooks_net_ca_" + std::to_string(::getpid()) + ".pem";
    std::ofstream(file_) << pem(cert_.get());
  }
  ~LocalCa() { std::remove(file_.c_str()); }
  const std::string& file() const { return file_; }

  /// A TLS server context presenting a leaf for `san` ("IP:127.0.0.1", "DNS:localhost"...),
  /// signed by this CA, or self-signed when `self_signed`.
  std::unique_ptr<ssl::context> server_context(const std::string& san,
                                               bool self_signed = false) const {
    PkeyPtr leaf_key = new_key();
    X509Ptr leaf = self_signed
                       ? make_cert(leaf_key.get(), "leaf", leaf_key.get(), nullptr, false, san)
                       : make_cert(leaf_key.get(), "leaf", key_.get(), cert_.get(), false, san);
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    const std::string chain = pem(leaf.get());
    const std::string key = pem(leaf_key.get());
    ctx->use_certificate_chain(asio::buffer(chain));
    ctx->use_private_key(asio::buffer(key), ssl::context::pem);
    return ctx;
  }

 private:
  PkeyPtr key_;
  X509Ptr cert_;
  std::string file_;
};

/// Points OpenSSL's default CA file (what set_default_verify_paths loads) at `file` for a scope.
class TrustOnly {
 public:
  explicit TrustOnly(const std::string& file) { ::setenv("SSL_CERT_FILE", file.c_str(), 1); }
  ~TrustOnly() { ::unsetenv("SSL_CERT_FILE"); }
  TrustOnly(const TrustOnly&) = delete;
  TrustOnly& operator=(const TrustOnly&) = delete;
};

const GuardPolicy kLocalTlsPolicy{.allow_loopback = true, .require_https = true};

TEST(PostGuardedTls, posts_over_verified_tls_to_an_ip_literal_without_sni) {
  LocalCa ca;
  const TrustOnly trust(ca.file());
  const auto ctx = ca.server_context("IP:127.0.0.1");
  TestServer server(Reply::kOk, ctx.get());
  const PostResult r = post_guarded(request_to(server.url()), kLocalTlsPolicy);
  EXPECT_EQ(r.status, 200) << r.error;
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].sni, "");  // RFC 6066: no IP literals in SNI
  EXPECT_EQ(seen[0].body, R"({"type":"proof.verified"})");
}

TEST(PostGuardedTls, sends_sni_and_verifies_a_host_name) {
  LocalCa ca;
  const TrustOnly trust(ca.file());
  const auto ctx = ca.server_context("DNS:localhost");
  TestServer server(Reply::kOk, ctx.get());
  const PostResult r = post_guarded(
      request_to("https://localhost:" + std::to_string(server.port()) + "/hook"), kLocalTlsPolicy);
  EXPECT_EQ(r.status, 200) << r.error;
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].sni, "localhost");
  EXPECT_EQ(seen[0].headers.at("host"), "localhost:" + std::to_string(server.port()));
}

TEST(PostGuardedTls, refuses_a_certificate_from_an_untrusted_issuer) {
  LocalCa ca;  // not trusted: SSL_CERT_FILE is not set
  const auto ctx = ca.server_context("IP:127.0.0.1", /*self_signed=*/true);
  TestServer server(Reply::kOk, ctx.get());
  const PostResult r = post_guarded(request_to(server.url()), kLocalTlsPolicy);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error.rfind("TLS handshake failed: certificate verification: ", 0), 0u) << r.error;
  EXPECT_TRUE(server.requests().empty());
}

TEST(PostGuardedTls, refuses_a_certificate_for_another_name) {
  LocalCa ca;
  const TrustOnly trust(ca.file());
  const auto ip_ctx = ca.server_context("DNS:other.example");
  TestServer ip_server(Reply::kOk, ip_ctx.get());
  const PostResult by_ip = post_guarded(request_to(ip_server.url()), kLocalTlsPolicy);
  EXPECT_EQ(by_ip.status, 0);
  EXPECT_NE(by_ip.error.find("IP address mismatch"), std::string::npos) << by_ip.error;
  EXPECT_TRUE(ip_server.requests().empty());

  const auto name_ctx = ca.server_context("DNS:other.example,IP:127.0.0.1");
  TestServer name_server(Reply::kOk, name_ctx.get());
  const PostResult by_name =
      post_guarded(request_to("https://localhost:" + std::to_string(name_server.port()) + "/hook"),
                   kLocalTlsPolicy);
  EXPECT_EQ(by_name.status, 0);
  EXPECT_NE(by_name.error.find("hostname mismatch"), std::string::npos) << by_name.error;
  EXPECT_TRUE(name_server.requests().empty());
}

TEST(PostGuardedTls, times_out_in_the_handshake_against_a_silent_tcp_server) {
  // A plain TCP listener that accepts and never speaks TLS: the deadline covers the handshake.
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = listener.local_endpoint().port();
  const auto start = std::chrono::steady_clock::now();
  const PostResult r = post_guarded(
      request_to("https://127.0.0.1:" + std::to_string(port) + "/", 300ms), kLocalTlsPolicy);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("timeout after 300 ms (in the TLS handshake)"), std::string::npos)
      << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

}  // namespace
}  // namespace pg::webhooks
