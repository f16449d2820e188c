// RLP, the secp256k1 signer, key files and transactions: the Yellow Paper's and EIP-155's
// published examples, and transactions signed by ethers (tests/vectors/chain.json).
#include "chain/signer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chain/rlp.hpp"
#include "chain/transaction.hpp"
#include "chain_vectors.hpp"

namespace pg::chain {
namespace {

namespace json = boost::json;

using test::load_vectors;
using test::unhex;
Bytes text(std::string_view s) {
  return {s.begin(), s.end()};
}

std::uint64_t u64(const json::value& v) {
  return std::stoull(std::string(v.as_string()));
}

const char* const kAnvilKey = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

// ethereum.org/developers/docs/data-structures-and-encoding/rlp, "Examples".
TEST(Rlp, EncodesTheDocumentedExamples) {
  EXPECT_EQ(to_hex(rlp::encode_bytes(text("dog"))), "0x83646f67");
  EXPECT_EQ(
      to_hex(rlp::encode_list({rlp::encode_bytes(text("cat")), rlp::encode_bytes(text("dog"))})),
      "0xc88363617483646f67");
  EXPECT_EQ(to_hex(rlp::encode_bytes({})), "0x80");
  EXPECT_EQ(to_hex(rlp::encode_list({})), "0xc0");
  EXPECT_EQ(to_hex(rlp::encode_uint(0)), "0x80");
  EXPECT_EQ(to_hex(rlp::encode_bytes(Bytes{0x00})), "0x00");
  EXPECT_EQ(to_hex(rlp::encode_uint(15)), "0x0f");
  EXPECT_EQ(to_hex(rlp::encode_uint(1024)), "0x820400");
  const Bytes empty = rlp::encode_list({});
  const Bytes one = rlp::encode_list({empty});
  EXPECT_EQ(to_hex(rlp::encode_list({empty, one, rlp::encode_list({empty, one})})),
            "0xc7c0c1c0c3c0c1c0");
  const Bytes lorem =
      rlp::encode_bytes(text("Lorem ipsum dolor sit amet, consectetur adipisicing elit"));
  EXPECT_EQ(to_hex(std::span(lorem).first(2)), "0xb838");
  EXPECT_EQ(lorem.size(), 58u);
}

TEST(PrivateKey, DerivesAnvilsFirstDevelopmentAddress) {
  const auto key = PrivateKey::from_bytes(unhex(kAnvilKey));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->address().to_checksum(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
}

TEST(PrivateKey, RefusesZeroAndOutOfRangeKeys) {
  EXPECT_FALSE(PrivateKey::from_bytes(Bytes(32, 0)));
  EXPECT_FALSE(PrivateKey::from_bytes(Bytes(32, 0xff)));
  EXPECT_FALSE(PrivateKey::from_bytes(Bytes(31, 1)));
}

TEST(PrivateKey, SignaturesAreLowS) {
  const auto key = PrivateKey::from_bytes(unhex(kAnvilKey));
  ASSERT_TRUE(key);
  // n/2 = 7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0 (SEC 2 §2.4.1, EIP-2).
  const Bytes half = unhex("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
  for (int i = 0; i < 64; ++i) {
    const Signature sig = key->sign(keccak256(std::to_string(i)));
    EXPECT_TRUE(
        std::lexicographical_compare(sig.s.begin(), sig.s.end(), half.begin(), half.end()) ||
        std::equal(sig.s.begin(), sig.s.end(), half.begin()))
        << i;
    EXPECT_TRUE(sig.recovery_id == 0 || sig.recovery_id == 1);
  }
}

// eips.ethereum.org/EIPS/eip-155, "Example".
TEST(Transaction, SignsTheEip155Example) {
  const auto key = PrivateKey::from_bytes(Bytes(32, 0x46));
  ASSERT_TRUE(key);
  LegacyTransaction tx;
  tx.chain_id = 1;
  tx.nonce = 9;
  tx.gas_price = 20'000'000'000;
  tx.gas_limit = 21000;
  tx.to = parse_address("0x3535353535353535353535353535353535353535", "to").value();
  tx.value = word_from_decimal("1000000000000000000", "value").value();
  EXPECT_EQ(to_hex(tx.signing_hash()),
            "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
  EXPECT_EQ(to_hex(tx.sign(*key)),
            "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7640000"
            "8025a028ef61"
            "340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b"
            "3800ccf555c9"
            "f3dc64214b297fb1966a3b6d83");
}

TEST(Transaction, Eip1559MatchesEthersSignedBytes) {
  const auto vectors = load_vectors();
  const auto key = PrivateKey::from_bytes(unhex(vectors.at("key").at("private_key").as_string()));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->address().to_checksum(), vectors.at("key").at("address").as_string());
  ASSERT_EQ(vectors.at("transactions").as_array().size(), 3u);
  for (const auto& v : vectors.at("transactions").as_array()) {
    Eip1559Transaction tx;
    tx.chain_id = u64(v.at("chainId"));
    tx.nonce = u64(v.at("nonce"));
    tx.max_priority_fee_per_gas = u64(v.at("maxPriorityFeePerGas"));
    tx.max_fee_per_gas = u64(v.at("maxFeePerGas"));
    tx.gas_limit = u64(v.at("gasLimit"));
    if (!v.at("to").is_null()) tx.to = parse_address(v.at("to").as_string(), "to").value();
    tx.value = word_from_decimal(v.at("value").as_string(), "value").value();
    tx.data = unhex(v.at("data").as_string());
    const Bytes raw = tx.sign(*key);
    EXPECT_EQ(to_hex(raw), v.at("raw").as_string());
    EXPECT_EQ(to_hex(transaction_hash(raw)), v.at("hash").as_string());
  }
}

TEST(Transaction, CreateAddressMatchesEthers) {
  const auto vectors = load_vectors();
  const auto sender = parse_address(vectors.at("key").at("address").as_string(), "from").value();
  for (const auto& v : vectors.at("key").at("create_addresses").as_array()) {
    EXPECT_EQ(
        create_address(sender, static_cast<std::uint64_t>(v.at("nonce").as_int64())).to_checksum(),
        v.at("address").as_string());
  }
}

class KeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ =
        (std::filesystem::temp_directory_path() / ("pg-key-" + std::to_string(getpid()))).string();
    link_ = path_ + ".link";
  }
  void TearDown() override {
    std::filesystem::remove(path_);
    std::filesystem::remove(link_);
  }
  void write(const std::string& content, mode_t mode) {
    std::filesystem::remove(path_);
    std::ofstream(path_) << content;
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  std::string path_;
  std::string link_;
};

TEST_F(KeyFile, LoadsAnOwnerOnlyHexKey) {
  write(std::string("0x") + kAnvilKey + "\n", 0600);
  const auto key = PrivateKey::from_file(path_);
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(key->address().to_checksum(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  write(kAnvilKey, 0400);
  EXPECT_TRUE(PrivateKey::from_file(path_));
}

TEST_F(KeyFile, RefusesAFileOthersCanReadWithoutShowingTheKey) {
  write(kAnvilKey, 0644);
  const auto key = PrivateKey::from_file(path_);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("0644"), std::string::npos) << key.error().message;
  EXPECT_EQ(key.error().to_string().find("ac0974"), std::string::npos);
  write(kAnvilKey, 0640);
  const auto group = PrivateKey::from_file(path_);
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().to_string(), "key file " + path_ +
                                           ": has mode 0640; it must be readable by its owner "
                                           "only (chmod 600)");
}

TEST_F(KeyFile, RefusesASymlinkEvenToAGoodFile) {
  write(kAnvilKey, 0600);
  ASSERT_TRUE(PrivateKey::from_file(path_));  // the target itself is fine
  std::filesystem::create_symlink(path_, link_);
  const auto key = PrivateKey::from_file(link_);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().to_string(),
            "key file " + link_ + ": is a symbolic link; give the key file itself");
  EXPECT_EQ(key.error().to_string().find("ac0974"), std::string::npos);
}

TEST_F(KeyFile, RefusesWhatIsNotARegularFileAndAMissingFile) {
  std::filesystem::create_directory(link_);
  ::chmod(link_.c_str(), 0700);
  auto key = PrivateKey::from_file(link_);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().to_string(), "key file " + link_ + ": is not a regular file");
  std::filesystem::remove(link_);
  // A FIFO neither hangs the open nor is read.
  ASSERT_EQ(::mkfifo(link_.c_str(), 0600), 0);
  key = PrivateKey::from_file(link_);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().to_string(), "key file " + link_ + ": is not a regular file");
  std::filesystem::remove(link_);
  key = PrivateKey::from_file(link_);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().to_string(), "key file " + link_ + ": does not exist");
}

TEST_F(KeyFile, RefusesAFileOfAnotherOwner) {
  write(kAnvilKey, 0600);
  if (::geteuid() != 0) GTEST_SKIP() << "giving a file to another user needs root";
  // root reading another user's 0600 file: the mode alone would let it through.
  ASSERT_EQ(::chown(path_.c_str(), 65534, static_cast<gid_t>(-1)), 0);
  const auto key = PrivateKey::from_file(path_);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().to_string(),
            "key file " + path_ +
                ": is owned by uid 65534, not by the user running this command (uid 0)");
}

TEST_F(KeyFile, RefusesMalformedContentWithoutEchoingIt) {
  write(std::string(kAnvilKey).substr(0, 62) + "zz", 0600);
  const auto key = PrivateKey::from_file(path_);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().to_string().find("ac0974"), std::string::npos);
  write("", 0600);
  EXPECT_FALSE(PrivateKey::from_file(path_));
  EXPECT_FALSE(PrivateKey::from_file(path_ + ".missing"));
}

}  // namespace
}  // namespace pg::chain
