// Settings precedence of `proofgate serve`: flag > PROOFGATE_* environment > TOML file > default,
// and the refusals of malformed files and values.
#include "cli/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace pg::cli {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest()
      : file_(fs::temp_directory_path() / ("pg-config-" + std::to_string(::getpid()) + ".toml")) {}
  ~ConfigTest() override {
    fs::remove(file_);
    ::unsetenv("PROOFGATE_LISTEN");
    ::unsetenv("PROOFGATE_RATE_LIMIT");
  }
  void write(const std::string& text) { std::ofstream(file_) << text; }
  fs::path file_;
};

TEST_F(ConfigTest, defaults_apply_with_nothing_given) {
  const RawSettings s = resolve_settings({}, std::nullopt);
  EXPECT_EQ(s.at("listen"), "127.0.0.1:8080");
  EXPECT_EQ(s.at("data_dir"), "./data");
  EXPECT_EQ(s.at("sqlite_synchronous"), "FULL");
}

TEST_F(ConfigTest, flag_beats_environment_beats_file_beats_default) {
  write("listen = \"127.0.0.1:1111\"\nrate_limit = 7\ndata_dir = \"/srv/pg\"\ndemo = true\n");
  ::setenv("PROOFGATE_LISTEN", "127.0.0.1:2222", 1);
  ::setenv("PROOFGATE_RATE_LIMIT", "9", 1);
  RawSettings s = resolve_settings({{"listen", "127.0.0.1:3333"}}, file_);
  EXPECT_EQ(s.at("listen"), "127.0.0.1:3333");  // flag
  EXPECT_EQ(s.at("rate_limit"), "9");           // environment
  EXPECT_EQ(s.at("data_dir"), "/srv/pg");       // file
  EXPECT_TRUE(setting_bool(s, "demo"));         // file, boolean
  EXPECT_EQ(s.at("body_limit"), "65536");       // default
  ::unsetenv("PROOFGATE_LISTEN");
  s = resolve_settings({}, file_);
  EXPECT_EQ(s.at("listen"), "127.0.0.1:1111");
}

TEST_F(ConfigTest, refuses_unknown_keys_malformed_files_and_wrong_types) {
  write("lisen = \"x\"\n");
  EXPECT_THROW(resolve_settings({}, file_), std::runtime_error);
  write("listen = \n");
  EXPECT_THROW(resolve_settings({}, file_), std::runtime_error);
  write("listen = [1, 2]\n");
  EXPECT_THROW(resolve_settings({}, file_), std::runtime_error);
  EXPECT_THROW(resolve_settings({}, fs::path("/nonexistent/proofgate.toml")), std::runtime_error);
}

TEST_F(ConfigTest, typed_readers_name_the_setting_they_refuse) {
  const RawSettings s{{"n", "12x"}, {"d", "abc"}, {"b", "maybe"}, {"ok", "5"}};
  try {
    (void)setting_uint(s, "n", 0, 100);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("n:"), std::string::npos);
  }
  EXPECT_THROW((void)setting_uint(s, "ok", 6, 10), std::runtime_error);
  EXPECT_EQ(setting_uint(s, "ok", 0, 10), 5u);
  EXPECT_THROW((void)setting_double(s, "d", 0, 1), std::runtime_error);
  EXPECT_THROW((void)setting_bool(s, "b"), std::runtime_error);
}

}  // namespace
}  // namespace pg::cli
