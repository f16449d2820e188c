// The deployment file (strict parsing, atomic no-overwrite write, mode 0644), import resolution
// for the standard-JSON input, and the compiler subprocess's answers and failures (stand-in
// compilers written by the test; the real solc-js runs in chain_deploy_integration).
#include "chain/deployment.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "chain/registry_sources.hpp"
#include "chain/solc.hpp"

namespace pg::chain {
namespace {

namespace fs = std::filesystem;

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pg-deploy-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const std::string& text, fs::perms mode = fs::perms(0644)) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    fs::permissions(p, mode);
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

using DeploymentFileOnDisk = TempDir;
using Imports = TempDir;

Deployment sample() {
  Deployment d;
  d.chain_id = 31337;
  d.circuit_registry = parse_address("0x5fbdb2315678afecb367f032d93f642f64180aa3", "a").value();
  d.root_registry = parse_address("0xe7f1725e7734ce288f8367e1bb143e90bb3f0512", "a").value();
  d.timelock = parse_address("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "a").value();
  d.safe = parse_address("0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "a").value();
  d.deployed_block = 12;
  d.verifiers.push_back({"age_over_18", "1.0.0",
                         parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "a").value(),
                         5, std::string(64, 'a')});
  return d;
}

TEST(DeploymentFile, RoundTripsWithChecksummedAddresses) {
  const std::string text = deployment_to_json(sample());
  EXPECT_NE(text.find("\"circuit_registry\": \"0x5FbDB2315678afecb367f032d93F642f64180aa3\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"address\": \"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\""),
            std::string::npos);
  const auto parsed = parse_deployment(text);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(deployment_to_json(*parsed), text);
  EXPECT_EQ(parsed->verifiers.at(0).public_inputs, 5u);
}

TEST(DeploymentFile, ParsingNamesTheMemberThatIsWrong) {
  const auto error_of = [](const std::string& text) {
    const auto d = parse_deployment(text);
    EXPECT_FALSE(d) << text;
    return d ? std::string() : d.error().what;
  };
  std::string text = deployment_to_json(sample());
  const auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? t : t.replace(at, from.size(), to);
  };
  EXPECT_EQ(error_of("[]"), "deployment");
  EXPECT_EQ(error_of(replaced("\"chain_id\": 31337", "\"chain_id\": 0")), "chain_id");
  EXPECT_EQ(error_of(replaced("\"chain_id\": 31337", "\"chain_id\": \"31337\"")), "chain_id");
  EXPECT_EQ(error_of(replaced("0x5FbDB2315678afecb367f032d93F642f64180aa3",
                              "0x5fbDB2315678afecb367f032d93F642f64180aa3")),
            "circuit_registry");
  EXPECT_EQ(error_of(replaced("\"timelock\"", "\"time_lock\"")), "timelock");
  EXPECT_EQ(error_of(replaced(std::string(64, 'a'), std::string(64, 'A'))),
            "verifiers[0].vkey_sha256");
  EXPECT_EQ(error_of(replaced("\"public_inputs\": 5", "\"public_inputs\": -5")),
            "verifiers[0].public_inputs");
  // Lowercase addresses are accepted on input.
  EXPECT_TRUE(parse_deployment(replaced("0x5FbDB2315678afecb367f032d93F642f64180aa3",
                                        "0x5fbdb2315678afecb367f032d93f642f64180aa3")));
}

TEST(DeploymentFile, TheVkeyDigestMustDescribeTheBytesCompiled) {
  // sha256("abc"), FIPS 180-2 appendix B.1.
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_TRUE(check_vkey_digest("age_over_18", "1.0.0", "abc", abc));
  const auto changed = check_vkey_digest("age_over_18", "1.0.0", "abd", abc);
  ASSERT_FALSE(changed);
  const std::string text = changed.error().to_string();
  EXPECT_EQ(text.rfind("age_over_18 1.0.0: verification_key.json's SHA-256 is ", 0), 0u) << text;
  EXPECT_NE(text.find("not the manifest's " + abc), std::string::npos) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos);  // one line
  // The digest is compared as written: an uppercase manifest digest is no match for the bytes.
  std::string upper = abc;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(check_vkey_digest("age_over_18", "1.0.0", "abc", upper));
}

TEST_F(DeploymentFileOnDisk, WritesMode0644AtomicallyAndNeverOverwrites) {
  const mode_t old_mask = ::umask(077);
  const fs::path out = dir_ / "deployment.json";
  const auto written = write_deployment_file(out.string(), sample());
  ::umask(old_mask);
  ASSERT_TRUE(written) << written.error().to_string();
  EXPECT_EQ(fs::status(out).permissions() & fs::perms::all, fs::perms(0644));
  const std::string first = read(out);
  EXPECT_EQ(first, deployment_to_json(sample()));

  Deployment other = sample();
  other.chain_id = 1;
  const auto again = write_deployment_file(out.string(), other);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("exists already"), std::string::npos);
  EXPECT_EQ(read(out), first);
  // No temporary file is left behind either way.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(Imports, ResolvesRelativeAndPackageImportsButNotCommentedOnes) {
  const fs::path nm = dir_ / "node_modules";
  write(nm / "@lib/pkg/access/Owned.sol",
        "import {Ctx} from \"../utils/Ctx.sol\";\ncontract Owned {}");
  write(nm / "@lib/pkg/utils/Ctx.sol", "import './More.sol';\ncontract Ctx {}");
  write(nm / "@lib/pkg/utils/More.sol", "contract More {}");
  SourceMap sources{{"contracts/A.sol",
                     "// import \"@lib/pkg/Missing.sol\";\n/* import \"x.sol\"; */\n"
                     "import {Owned} from \"@lib/pkg/access/Owned.sol\";\ncontract A {}"}};
  const auto r = resolve_imports(sources, nm);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(sources.size(), 4u);
  EXPECT_TRUE(sources.contains("@lib/pkg/access/Owned.sol"));
  EXPECT_TRUE(sources.contains("@lib/pkg/utils/Ctx.sol"));
  EXPECT_TRUE(sources.contains("@lib/pkg/utils/More.sol"));
}

TEST_F(Imports, ErrorsNameTheImporter) {
  SourceMap missing{{"contracts/A.sol", "import \"@lib/none/X.sol\";"}};
  const auto r = resolve_imports(missing, dir_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what, "contracts/A.sol");
  EXPECT_NE(r.error().message.find("@lib/none/X.sol"), std::string::npos);
  SourceMap escaping{{"contracts/A.sol", "import \"../../../etc/passwd\";"}};
  EXPECT_FALSE(resolve_imports(escaping, dir_));
}

TEST(RegistrySources, EmbedsBothRegistries) {
  bool circuits = false;
  bool roots = false;
  for (const auto& s : registry_sources()) {
    circuits |= s.path == "contracts/CircuitRegistry.sol" &&
                s.content.find("contract CircuitRegistry") != std::string_view::npos;
    roots |= s.path == "contracts/CredentialRootRegistry.sol" &&
             s.content.find("contract CredentialRootRegistry") != std::string_view::npos;
  }
  EXPECT_TRUE(circuits);
  EXPECT_TRUE(roots);
}

class Compiler : public TempDir {
 protected:
  /// A stand-in compiler: a shell script whose body is `body`.
  std::string script(const std::string& body) {
    const fs::path p = dir_ / "fake-solc";
    write(p, "#!/bin/sh\n" + body + "\n", fs::perms(0755));
    return p.string();
  }
};

TEST_F(Compiler, ReadsTheAnswerAfterANoticeLine) {
  CompileSettings s;
  s.command = script(
      "[ \"$1\" = --standard-json ] || exit 9\ncat >/dev/null\necho '>>> a notice'\n"
      "echo '{\"contracts\":{\"a.sol\":{\"A\":{\"evm\":{\"bytecode\":{\"object\":\"6080\"}}},"
      "\"I\":{\"evm\":{\"bytecode\":{\"object\":\"\"}}}}},\"errors\":[{\"severity\":\"warning\","
      "\"formattedMessage\":\"w\"}]}'");
  const auto out = compile_standard_json({{"a.sol", "contract A {}"}}, s);
  ASSERT_TRUE(out) << out.error().to_string();
  ASSERT_EQ(out->size(), 1u);  // the interface (no code) is left out
  EXPECT_EQ(to_hex(out->at("a.sol:A")), "0x6080");
}

TEST_F(Compiler, ReportsCompilerErrorsExitStatusAndGarbage) {
  CompileSettings s;
  s.command = script(
      "cat >/dev/null\necho "
      "'{\"errors\":[{\"severity\":\"error\",\"formattedMessage\":\"ParserError: "
      "expected pragma\"}]}'");
  auto out = compile_standard_json({{"a.sol", "x"}}, s);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().what, "Solidity compilation");
  EXPECT_NE(out.error().message.find("ParserError: expected pragma"), std::string::npos);

  s.command = script("cat >/dev/null\necho 'out of memory' >&2\nexit 3");
  out = compile_standard_json({{"a.sol", "x"}}, s);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("exited with status 3: out of memory"), std::string::npos)
      << out.error().message;

  s.command = script("echo 'not json'");  // exits without reading its input
  out = compile_standard_json({{"a.sol", std::string(1 << 20, 'x')}}, s);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("did not answer standard JSON"), std::string::npos);

  s.command = (dir_ / "no-such-compiler").string();
  EXPECT_FALSE(compile_standard_json({{"a.sol", "x"}}, s));
}

TEST_F(Compiler, GivesUpAfterTheTimeout) {
  CompileSettings s;
  s.command = script("exec sleep 30");
  s.timeout = std::chrono::seconds(1);
  const auto out = compile_standard_json({{"a.sol", "x"}}, s);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("did not finish within 1 s"), std::string::npos)
      << out.error().message;
}

TEST_F(Compiler, NodeReadsALargeInputAndItsLargeAnswerArrivesWhole) {
  // node makes its standard streams non-blocking: on pipes, readFileSync(0) failed with EAGAIN
  // and `console.log(x); process.exit(0)` cut an answer beyond 64 KiB (solcjs does both).
  CompileSettings s;
  s.command = script(
      "exec node -e \"const n = require('fs').readFileSync(0).length; "
      "console.log(JSON.stringify({contracts: {'a.sol': {A: {evm: {bytecode: "
      "{object: '60'.repeat(2000000 + (n > 3000000 ? 1 : 0))}}}}}})); process.exit(0)\"");
  const auto out = compile_standard_json({{"a.sol", std::string(3 << 20, 'x')}}, s);
  ASSERT_TRUE(out) << out.error().to_string().substr(0, 300);
  EXPECT_EQ(out->at("a.sol:A").size(), 2000001u);  // all of it, and the input was all read
}

TEST_F(Compiler, RefusesAContractOverTheCodeSizeLimit) {
  CompileSettings s;
  const auto answer = [&](std::size_t runtime_bytes) {
    return script(
        "cat >/dev/null\nprintf '{\"contracts\":{\"a.sol\":{\"Big\":{\"evm\":{"
        "\"bytecode\":{\"object\":\"6080\"},\"deployedBytecode\":{\"object\":\"" +
        std::string(2 * runtime_bytes, 'a') + "\"}}}}}}'");
  };
  s.command = answer(24576);
  const auto fits = compile_standard_json({{"a.sol", "x"}}, s);
  ASSERT_TRUE(fits) << fits.error().to_string();
  s.command = answer(24577);
  const auto big = compile_standard_json({{"a.sol", "x"}}, s);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().what, "a.sol:Big");
  EXPECT_EQ(big.error().message,
            "24577 bytes of runtime code, above EIP-170's 24576: it cannot be deployed");
}

TEST_F(Compiler, EndsACompilerThatAnswersTooMuch) {
  CompileSettings s;
  s.max_output = 1 << 20;
  s.command = script("cat >/dev/null\nexec yes");
  const auto out = compile_standard_json({{"a.sol", "x"}}, s);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message, "answered more than 1048576 bytes; ended");
}

TEST_F(Compiler, NothingTheCompilerStartedOutlivesTheRun) {
  CompileSettings s;
  const fs::path pid_file = dir_ / "left-behind.pid";
  s.command = script("cat >/dev/null\nsleep 300 &\necho $! > " + pid_file.string() +
                     "\necho '{\"contracts\":{}}'");
  const auto out = compile_standard_json({{"a.sol", "x"}}, s);
  ASSERT_TRUE(out) << out.error().to_string();
  std::ifstream in(pid_file);
  pid_t left = 0;
  ASSERT_TRUE(in >> left);
  // Killed with the compiler's process group: gone, or a zombie until its new parent reaps it.
  const auto alive = [&] {
    std::ifstream stat("/proc/" + std::to_string(left) + "/stat");
    std::string pid, comm, state;
    return stat >> pid >> comm >> state && state != "Z" && state != "X";
  };
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (alive() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  EXPECT_FALSE(alive()) << "pid " << left << " outlived the compiler's run";
}

}  // namespace
}  // namespace pg::chain
