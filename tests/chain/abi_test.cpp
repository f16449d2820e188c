// Keccak-256, selectors, EIP-55 and the Solidity ABI against ethers' values
// (tests/vectors/chain.json), the Solidity ABI spec's own examples, and the strict decoder's
// refusals.
#include "chain/abi.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "chain/keccak.hpp"
#include "chain_vectors.hpp"

namespace pg::chain {
namespace {

namespace json = boost::json;

using test::load_vectors;
using test::unhex;

std::string hex_of(const Hash32& h) {
  return to_hex(h);
}

/// The value of `v` (as gen-chain-vectors.mjs writes it) for parameter type `t`.
AbiValue value_from_json(const AbiType& t, const json::value& v) {
  using Kind = AbiType::Kind;
  switch (t.kind) {
    case Kind::kUint:
      return AbiValue::uint(word_from_decimal(v.as_string(), "v").value());
    case Kind::kBool:
      return AbiValue::boolean(v.as_bool());
    case Kind::kAddress:
      return AbiValue::address(parse_address(v.as_string(), "v").value());
    case Kind::kFixedBytes:
      return AbiValue::fixed_bytes(unhex(v.as_string()));
    case Kind::kBytes:
      return AbiValue::bytes(unhex(v.as_string()));
    case Kind::kString:
      return AbiValue::string(v.as_string());
    case Kind::kFixedArray:
    case Kind::kArray: {
      std::vector<AbiValue> items;
      for (const auto& item : v.as_array()) items.push_back(value_from_json(t.members[0], item));
      return t.kind == Kind::kArray ? AbiValue::array(std::move(items))
                                    : AbiValue::fixed_array(std::move(items));
    }
    case Kind::kTuple: {
      std::vector<AbiValue> items;
      for (std::size_t i = 0; i < t.members.size(); ++i)
        items.push_back(value_from_json(t.members[i], v.as_array()[i]));
      return AbiValue::tuple(std::move(items));
    }
  }
  return {};
}

TEST(Keccak256, MatchesTheKnownDigests) {
  EXPECT_EQ(hex_of(keccak256("")),
            "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  EXPECT_EQ(hex_of(keccak256("abc")),
            "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  EXPECT_EQ(hex_of(keccak256("The quick brown fox jumps over the lazy dog")),
            "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}

TEST(Keccak256, MatchesEthersAroundTheRateBoundary) {
  const auto vectors = load_vectors();
  ASSERT_GE(vectors.at("keccak").as_array().size(), 10u);
  for (const auto& v : vectors.at("keccak").as_array()) {
    const Bytes input = unhex(v.at("input").as_string());
    EXPECT_EQ(hex_of(keccak256(input)), v.at("keccak256").as_string()) << input.size() << " bytes";
  }
}

TEST(Keccak256, IncrementalUpdatesEqualOneCall) {
  Bytes data(500);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 13);
  const Hash32 whole = keccak256(data);
  for (const std::size_t cut : {1u, 135u, 136u, 137u, 300u}) {
    Keccak256 h;
    h.update(std::span(data).first(cut));
    h.update(std::span(data).subspan(cut));
    EXPECT_EQ(h.finish(), whole) << cut;
  }
}

TEST(Selector, MatchesEthers) {
  EXPECT_EQ(to_hex(selector("transfer(address,uint256)").value()), "0xa9059cbb");
  EXPECT_EQ(to_hex(selector("transfer(address,uint)").value()), "0xa9059cbb");
  const auto vectors = load_vectors();
  for (const auto& v : vectors.at("selectors").as_array()) {
    EXPECT_EQ(to_hex(selector(v.at("signature").as_string()).value()),
              v.at("selector").as_string());
  }
}

TEST(Selector, RefusesMalformedSignatures) {
  EXPECT_FALSE(selector("transfer"));
  EXPECT_FALSE(selector("(uint256)"));
  EXPECT_FALSE(selector("f(uint256"));
  EXPECT_FALSE(selector("f(int256)"));
  EXPECT_FALSE(selector("f(uint7)"));
  EXPECT_FALSE(selector("f(bytes33)"));
  EXPECT_FALSE(selector("f(uint256[0])"));
  EXPECT_FALSE(selector("f(uint256 x)"));
}

TEST(Address, ChecksumMatchesEip55AndEthers) {
  EXPECT_EQ(parse_address("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", "a")->to_checksum(),
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359");  // EIP-55's own example
  const auto vectors = load_vectors();
  for (const auto& v : vectors.at("addresses").as_array()) {
    const auto lower = parse_address(v.at("lower").as_string(), "a");
    ASSERT_TRUE(lower);
    EXPECT_EQ(lower->to_checksum(), v.at("checksum").as_string());
    const auto checksummed = parse_address(v.at("checksum").as_string(), "a");
    ASSERT_TRUE(checksummed) << checksummed.error().to_string();
    EXPECT_EQ(*checksummed, *lower);
  }
}

TEST(Address, AcceptsOneCaseButRefusesAWrongMixedCaseChecksum) {
  EXPECT_TRUE(parse_address("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", "safe"));
  const auto typo = parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "safe");
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().what, "safe");
  EXPECT_NE(typo.error().message.find("checksum"), std::string::npos);
  EXPECT_FALSE(parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", "a"));   // 39 digits
  EXPECT_FALSE(parse_address("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00", "a"));  // no 0x
  EXPECT_FALSE(parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "a"));  // not hex
}

TEST(Abi, EncodesAndDecodesLikeEthers) {
  const auto vectors = load_vectors();
  ASSERT_GE(vectors.at("abi").as_array().size(), 10u);
  for (const auto& v : vectors.at("abi").as_array()) {
    const std::string types(v.at("types").as_string());
    const auto t = parse_abi_type(types);
    ASSERT_TRUE(t) << t.error().to_string();
    EXPECT_EQ(t->canonical(), types);
    const AbiValue values = value_from_json(*t, v.at("values"));
    const auto encoded = encode_checked(types, values.items);
    ASSERT_TRUE(encoded) << types << ": " << encoded.error().to_string();
    EXPECT_EQ(to_hex(*encoded), v.at("encoded").as_string()) << types;
    const auto decoded = decode(types, *encoded, "result");
    ASSERT_TRUE(decoded) << types << ": " << decoded.error().to_string();
    EXPECT_EQ(encode(*decoded), *encoded) << types;
  }
}

// docs.soliditylang.org/en/latest/abi-spec.html, "Examples": sam("dave", true, [1, 2, 3]).
TEST(Abi, EncodesTheSpecsSamExample) {
  const auto call =
      encode_call("sam(bytes,bool,uint256[])",
                  {AbiValue::bytes({'d', 'a', 'v', 'e'}), AbiValue::boolean(true),
                   AbiValue::array({AbiValue::uint(1), AbiValue::uint(2), AbiValue::uint(3)})});
  ASSERT_TRUE(call);
  EXPECT_EQ(to_hex(*call),
            "0xa5643bf2"
            "0000000000000000000000000000000000000000000000000000000000000060"
            "0000000000000000000000000000000000000000000000000000000000000001"
            "00000000000000000000000000000000000000000000000000000000000000a0"
            "0000000000000000000000000000000000000000000000000000000000000004"
            "6461766500000000000000000000000000000000000000000000000000000000"
            "0000000000000000000000000000000000000000000000000000000000000003"
            "0000000000000000000000000000000000000000000000000000000000000001"
            "0000000000000000000000000000000000000000000000000000000000000002"
            "0000000000000000000000000000000000000000000000000000000000000003");
}

TEST(Abi, EncodeCallRefusesAValueOfTheWrongType) {
  const auto wrong_kind = encode_call("setCircuit(bytes32,address,string,bool)",
                                      {AbiValue::bytes32({}), AbiValue::string("x"),
                                       AbiValue::string("1.0.0"), AbiValue::boolean(true)});
  ASSERT_FALSE(wrong_kind);
  EXPECT_NE(wrong_kind.error().what.find("[1]"), std::string::npos)
      << wrong_kind.error().to_string();
  EXPECT_FALSE(encode_call(
      "f(uint64)", {AbiValue::uint(word_from_decimal("18446744073709551616", "v").value())}));
  EXPECT_FALSE(encode_call("f(uint256[2])", {AbiValue::fixed_array({AbiValue::uint(1)})}));
  EXPECT_FALSE(encode_call("f(uint256,uint256)", {AbiValue::uint(1)}));
  EXPECT_FALSE(encode_call("f(bytes32)", {AbiValue::fixed_bytes(Bytes(33, 1))}));
  EXPECT_TRUE(encode_call("f(bytes32)", {AbiValue::fixed_bytes(Bytes(32, 1))}));
}

Bytes words(std::initializer_list<std::uint64_t> values) {
  Bytes out;
  for (const auto v : values) {
    const Word w = word_from_u64(v);
    out.insert(out.end(), w.begin(), w.end());
  }
  return out;
}

TEST(Abi, DecodeRefusesWrongLengthsNamingTheData) {
  const Bytes three = words({1, 2, 3});
  ASSERT_TRUE(decode("(uint256,uint64,uint64)", three, "current() result"));
  const auto short_data =
      decode("(uint256,uint64,uint64)", std::span(three).first(95), "current() result");
  ASSERT_FALSE(short_data);
  EXPECT_EQ(short_data.error().what, "current() result[2]");
  Bytes longer = three;
  longer.push_back(0);
  const auto long_data = decode("(uint256,uint64,uint64)", longer, "current() result");
  ASSERT_FALSE(long_data);
  EXPECT_EQ(long_data.error().what, "current() result");
  EXPECT_NE(long_data.error().message.find("97 bytes"), std::string::npos)
      << long_data.error().message;
  EXPECT_FALSE(decode("(bool)", Bytes{}, "verifyProof result"));
}

TEST(Abi, DecodeRefusesOutOfRangeWords) {
  EXPECT_FALSE(decode("(bool)", words({2}), "r"));
  EXPECT_TRUE(decode("(bool)", words({1}), "r"));
  Bytes big = words({0});
  big[23] = 1;  // 2^64
  EXPECT_FALSE(decode("(uint64)", big, "r"));
  EXPECT_TRUE(decode("(uint256)", big, "r"));
  Bytes dirty_address = words({0});
  dirty_address[11] = 1;
  EXPECT_FALSE(decode("(address)", dirty_address, "r"));
  Bytes dirty_bytes4 = words({0});
  dirty_bytes4[4] = 1;
  EXPECT_FALSE(decode("(bytes4)", dirty_bytes4, "r"));
}

TEST(Abi, DecodeRefusesBadOffsetsLengthsAndPadding) {
  const Bytes good = encode({AbiValue::string("1.0.0")});
  ASSERT_TRUE(decode("(string)", good, "r"));
  EXPECT_EQ(decode("(string)", good, "r")->at(0).as_string(), "1.0.0");
  Bytes bad_offset = good;
  bad_offset[31] = 0x40;
  EXPECT_FALSE(decode("(string)", bad_offset, "r"));
  Bytes unaligned = good;
  unaligned[31] = 0x21;
  EXPECT_FALSE(decode("(string)", unaligned, "r"));
  Bytes too_long = good;
  too_long[63] = 0x21;
  EXPECT_FALSE(decode("(string)", too_long, "r"));
  Bytes huge = good;
  huge[32] = 0xff;
  EXPECT_FALSE(decode("(string)", huge, "r"));
  Bytes dirty = good;
  dirty[64 + 5] = 'x';
  const auto padding = decode("(string)", dirty, "r");
  ASSERT_FALSE(padding);
  EXPECT_EQ(padding.error().what, "r[0]");
  Bytes huge_array = encode({AbiValue::array({AbiValue::uint(1)})});
  huge_array[32] = 0xff;
  EXPECT_FALSE(decode("(uint256[])", huge_array, "r"));
}

TEST(Abi, DecodesCircuitResultIntoTypedValues) {
  const Address a = parse_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "a").value();
  const auto d = decode("(address,bool)", encode({AbiValue::address(a), AbiValue::boolean(true)}),
                        "circuit() result");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->at(0).as_address(), a);
  EXPECT_TRUE(d->at(1).as_bool());
  EXPECT_EQ(
      word_to_decimal(
          word_from_decimal(
              "21888242871839275222246405745257275088548364400416034343698204186575808495617", "r")
              .value()),
      "21888242871839275222246405745257275088548364400416034343698204186575808495617");
  EXPECT_EQ(word_to_decimal(Word{}), "0");
}

TEST(Hex, QuantitiesAreStrict) {
  EXPECT_EQ(quantity_to_u64("0x0"), 0u);
  EXPECT_EQ(quantity_to_u64("0x7a69"), 31337u);
  EXPECT_FALSE(quantity_to_u64("0x"));
  EXPECT_FALSE(quantity_to_u64("0x07"));
  EXPECT_FALSE(quantity_to_u64("7a69"));
  EXPECT_FALSE(quantity_to_u64("0x10000000000000000"));
  EXPECT_EQ(u64_to_quantity(0), "0x0");
  EXPECT_EQ(u64_to_quantity(31337), "0x7a69");
}

}  // namespace
}  // namespace pg::chain
