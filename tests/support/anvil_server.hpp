// One throwaway anvil (a local EVM node, npm @foundry-rs/anvil-linux-amd64) for a whole test
// binary: started on a free loopback port, ready once eth_chainId answers, killed at the end.
// Register with ::testing::AddGlobalTestEnvironment(new pg::test::AnvilServer); when it does not
// start, every test fails on its own (none is skipped). Needs PROOFGATE_SOURCE_DIR and pg_chain.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "chain/rpc.hpp"

extern char** environ;

namespace pg::test {

class AnvilServer : public ::testing::Environment {
 public:
  /// anvil's first public development key (the "test test ... junk" mnemonic): test ether only.
  static constexpr const char* kDevKey =
      "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
  static constexpr const char* kDevKey2 =
      "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

  void SetUp() override {
    const std::string bin =
        std::string(PROOFGATE_SOURCE_DIR) + "/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";
    log_ = std::filesystem::temp_directory_path() /
           ("proofgate-anvil-" + std::to_string(getpid()) + ".log");
    // stdout to a file, not a pipe: anvil logs every request and would block on a full pipe.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args{bin, "--host", "127.0.0.1", "--port", "0", "--chain-id", "31337"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, bin.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = 0;
      ADD_FAILURE() << "cannot start " << bin;
      return;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string port;
    while (port.empty() && std::chrono::steady_clock::now() < until) {
      std::ifstream in(log_);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string out = ss.str();
      const std::string marker = "Listening on 127.0.0.1:";
      if (const auto at = out.find(marker); at != std::string::npos) {
        const auto end = out.find_first_not_of("0123456789", at + marker.size());
        if (end != std::string::npos)
          port = out.substr(at + marker.size(), end - at - marker.size());
      }
      if (port.empty()) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = 0;
          ADD_FAILURE() << "anvil exited before listening:\n" << out;
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (port.empty()) {
      ADD_FAILURE() << "anvil did not print its address within 60 s";
      return;
    }
    const std::string url = "http://127.0.0.1:" + port;
    // Ready when it answers: it prints the address just before it serves.
    while (std::chrono::steady_clock::now() < until) {
      auto rpc = chain::RpcClient::open(url);
      if (rpc && rpc->chain_id()) {
        url_ = url;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "anvil at " << url << " did not answer eth_chainId within 60 s";
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove(log_, ec);
  }

  /// http://127.0.0.1:PORT; empty when anvil did not start.
  static const std::string& url() { return url_; }

 private:
  pid_t pid_ = 0;
  std::filesystem::path log_;
  static inline std::string url_;
};

}  // namespace pg::test
