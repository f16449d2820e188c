// `proofgate chain publish-roots`: reads each configured issuer's signed root feed (checked in full
// from seq 1 with the configured keys, as `serve` checks it) and proposes the entries the root
// registry lacks through the Safe and the timelock (src/chain/root_publisher.hpp). Prints one JSON
// line per step and a summary line; exit 0 when every issuer is in step or on its way, 1 when an
// issuer's feed was refused or disagrees with the registry or another run holds the key's lock
// ("<key-file>.lock"), 2 on malformed input or a chain error.
#include <boost/json.hpp>
#include <chrono>
#include <iostream>

#include "chain/deployment.hpp"
#include "chain/key_lock.hpp"
#include "chain/root_publisher.hpp"
#include "chain/rpc_chain_port.hpp"
#include "chain/rpc_url.hpp"
#include "cli/commands.hpp"
#include "feed/feed_reader.hpp"

namespace pg::cli {
namespace {

namespace json = boost::json;

struct PublishOptions {
  std::string rpc_url;
  std::string key_file;
  std::string deployment;
  std::string issuer_feeds;
  unsigned timeout_ms = 30000;
  std::string max_fee_gwei = "500";
  bool repropose_cancelled = false;
};

json::object step_json(const chain::PublishStep& s) {
  return {{"issuer", s.issuer}, {"seq", s.seq}, {"action", s.action}, {"detail", s.detail}};
}

int run_publish(const PublishOptions& o) {
  if (auto problem = chain::rpc_url_problem(o.rpc_url)) {
    std::cerr << "--rpc-url: " << *problem << "\n";
    return kExitMalformed;
  }
  auto sources = feed::parse_feed_sources(o.issuer_feeds);
  if (!sources) {
    std::cerr << "--issuer-feeds: " << sources.error() << "\n";
    return kExitMalformed;
  }
  auto deployment = chain::read_deployment_file(o.deployment);
  if (!deployment) {
    std::cerr << "--deployment: " << deployment.error().to_string() << "\n";
    return kExitMalformed;
  }
  auto max_fee = chain::parse_gwei(o.max_fee_gwei, "--max-fee-gwei");
  if (!max_fee) {
    std::cerr << max_fee.error().to_string() << "\n";
    return kExitMalformed;
  }
  const std::uint64_t chain_id = deployment->chain_id;
  const chain::GovernanceAddresses at{deployment->root_registry, deployment->timelock,
                                      deployment->safe, deployment->deployed_block};
  // One run per key for the whole run: a second one would sign the same nonces.
  auto run_lock = chain::KeyLock::acquire(o.key_file);
  if (!run_lock) {
    std::cerr << run_lock.error().error.to_string() << "\n";
    return run_lock.error().reason == chain::KeyLockRefusal::kHeld ? kExitInvalid : kExitMalformed;
  }
  auto port = chain::RpcChainPort::open(o.rpc_url, o.key_file,
                                        std::chrono::milliseconds(o.timeout_ms), *max_fee);
  if (!port) {
    std::cerr << port.error().to_string() << "\n";
    return kExitMalformed;
  }
  if ((*port)->chain_id() != chain_id) {
    std::cerr << "--rpc-url: the node's chain id " << (*port)->chain_id()
              << " is not the deployment's " << chain_id << "\n";
    return kExitMalformed;
  }

  // Every feed is read and checked before anything is sent: a refused feed proposes nothing.
  std::vector<chain::IssuerChain> chains;
  json::array refused;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const feed::FeedSource& s : *sources) {
    auto entries = feed::read_verified_chain(s, std::chrono::milliseconds(o.timeout_ms), now_ms);
    if (!entries) {
      std::cerr << entries.error() << "\n";
      refused.push_back(json::object{{"issuer", s.issuer}, {"error", entries.error()}});
      continue;
    }
    chains.push_back({s.issuer, std::move(*entries)});
  }

  auto report = chain::publish_roots(**port, at, chains, {o.repropose_cancelled});
  if (!report) {
    std::cerr << report.error().to_string() << "\n";
    return kExitMalformed;
  }
  for (const auto& step : report->steps) std::cout << json::serialize(step_json(step)) << "\n";
  json::array issuers;
  bool failed = !refused.empty();
  for (const auto& i : report->issuers) {
    json::object line{
        {"issuer", i.issuer}, {"feed_seq", i.feed_seq}, {"registry_seq", i.registry_seq}};
    if (!i.error.empty()) {
      line["error"] = i.error;
      std::cerr << "issuer " << i.issuer << ": " << i.error << "\n";
      failed = true;
    }
    issuers.push_back(std::move(line));
  }
  std::cout << json::serialize(
                   json::object{{"issuers", std::move(issuers)}, {"refused", std::move(refused)}})
            << "\n";
  return failed ? kExitInvalid : kExitValid;
}

}  // namespace

void add_chain_publish_command(CLI::App& chain_app, int& exit_code) {
  auto opts = std::make_shared<PublishOptions>();
  auto* cmd = chain_app.add_subcommand(
      "publish-roots",
      "Propose the issuers' new feed roots to the root registry through the Safe and the "
      "timelock");
  cmd->add_option("--rpc-url", opts->rpc_url,
                  "the chain node's JSON-RPC URL (https, or http to a loopback host)")
      ->required();
  cmd->add_option("--key-file", opts->key_file,
                  "this Safe owner's private key: 64 hex digits, mode 0600")
      ->required();
  cmd->add_option(
         "--deployment", opts->deployment,
         "the deployment file written by `chain deploy` (chain_id, root_registry, timelock, safe)")
      ->required();
  cmd->add_option("--issuer-feeds", opts->issuer_feeds,
                  "ISSUER|URL|KEY[+KEY...],... as serve's issuer_feeds (and its environment "
                  "variable): the feeds and their trusted keys")
      ->envname("PROOFGATE_ISSUER_FEEDS")
      ->required();
  cmd->add_option("--timeout-ms", opts->timeout_ms, "deadline of each feed read and RPC call")
      ->check(CLI::Range(100u, 600000u));
  cmd->add_option("--max-fee-gwei", opts->max_fee_gwei,
                  "refuse to sign when the node suggests a higher fee cap or tip per gas")
      ->capture_default_str();
  cmd->add_flag("--repropose-cancelled", opts->repropose_cancelled,
                "propose again an entry whose publication the Safe cancelled (by default such an "
                "issuer stops there)");
  cmd->callback([opts, &exit_code] { exit_code = run_publish(*opts); });
}

}  // namespace pg::cli
