// The node URL rule (chain/rpc_url.hpp): https anywhere, plain http only to this machine's
// loopback, whichever way the loopback is written; the refusal never repeats the URL.
#include "chain/rpc_url.hpp"

#include <gtest/gtest.h>

#include "chain/rpc.hpp"

namespace pg::chain {
namespace {

constexpr const char* kOnlyLoopback =
    "http:// is accepted only for a loopback host (127.0.0.0/8, ::1, localhost); use https:// for "
    "any other node";

TEST(RpcUrl, PlainHttpIsAcceptedForEveryLoopbackHost) {
  for (const char* url :
       {"http://127.0.0.1:8545", "http://127.0.0.1", "http://127.255.255.254:1/x?y=z",
        "http://127.1.2.3:8545/", "http://[::1]:8545", "http://localhost:8545",
        "http://LOCALHOST:8545", "HTTP://127.0.0.1:8545"}) {
    EXPECT_EQ(rpc_url_problem(url), std::nullopt) << url;
  }
}

TEST(RpcUrl, PlainHttpToAnyOtherHostIsRefusedWithoutEchoingTheUrl) {
  for (const char* url :
       {"http://node.example:8545/v3/SECRETKEY", "http://128.0.0.1:8545", "http://126.255.255.255",
        "http://10.0.0.1:8545", "http://0.0.0.0:8545", "http://[::2]:8545",
        "http://[::ffff:127.0.0.1]:8545", "http://[::]:8545", "http://localhost.example:8545",
        "http://127.0.0.1.nip.io:8545", "http://anvil:8545"}) {
    const auto problem = rpc_url_problem(url);
    ASSERT_TRUE(problem.has_value()) << url;
    EXPECT_EQ(*problem, kOnlyLoopback) << url;
  }
  // "localhost." is another name to a resolver's search rules: refused (by the rule or the parser).
  EXPECT_TRUE(rpc_url_problem("http://localhost.:8545").has_value());
}

TEST(RpcUrl, HttpsIsAcceptedForAnyHost) {
  for (const char* url : {"https://node.example/v3/KEY", "https://10.0.0.1:8545",
                          "https://127.0.0.1:8545", "https://[2001:db8::1]"}) {
    EXPECT_EQ(rpc_url_problem(url), std::nullopt) << url;
  }
}

TEST(RpcUrl, WhatTheUrlParserRefusesStaysRefused) {
  // A numeric host in another form than the dotted quad is no way around the rule.
  for (const char* url : {"http://127.1:8545", "http://2130706433:8545", "http://0x7f.0.0.1:8545",
                          "ftp://127.0.0.1", "http://user@127.0.0.1:8545", "127.0.0.1:8545", ""}) {
    EXPECT_TRUE(rpc_url_problem(url).has_value()) << url;
  }
}

TEST(RpcUrl, TheClientRefusesPlainHttpToANonLoopbackNode) {
  const auto refused = RpcClient::open("http://node.example:8545/v3/SECRETKEY");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, kOnlyLoopback);
  EXPECT_TRUE(RpcClient::open("http://localhost:8545"));
  EXPECT_TRUE(RpcClient::open("https://node.example:8545/v3/KEY"));
}

TEST(RpcUrl, LoopbackHostsAreLiteralsOrLocalhostOnly) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.255.255.255"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_FALSE(is_loopback_host("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback_host("0:0:0:0:0:0:0:2"));
  EXPECT_FALSE(is_loopback_host("ip6-localhost"));
  EXPECT_FALSE(is_loopback_host(""));
}

}  // namespace
}  // namespace pg::chain
