// `proofgate chain status --rpc-url U --deployment F [--issuer ID]... [--json]`: what the chain
// says about a deployment file: code at every address, the registries' owners, each verifier's
// registration, the root registry's grace and each issuer's current root.
// Exit codes: 0 everything in the file is on chain as written; 1 something is not (no code, not
// registered, another owner, another chain); 2 the file or the node cannot be read.
#include <boost/json.hpp>
#include <iostream>
#include <memory>

#include "chain/deployment.hpp"
#include "chain/governance_check.hpp"
#include "chain/rpc.hpp"
#include "chain/rpc_url.hpp"
#include "cli/commands.hpp"

namespace pg::cli {
namespace {
namespace json = boost::json;

struct StatusArgs {
  std::string rpc_url;
  std::string deployment;
  std::vector<std::string> issuers{"moha", "tu", "nrb"};
  std::uint64_t min_delay_seconds = 86400;
  bool json = false;
};

chain::Word word_of(const chain::Hash32& h) {
  chain::Word w{};
  std::copy(h.begin(), h.end(), w.begin());
  return w;
}

int run_status(const StatusArgs& a) {
  const auto malformed = [](const chain::Error& e) {
    std::cerr << "chain status: " << e.to_string() << "\n";
    return kExitMalformed;
  };
  if (auto problem = chain::rpc_url_problem(a.rpc_url))
    return malformed(chain::Error{"--rpc-url", *problem});
  auto d = chain::read_deployment_file(a.deployment);
  if (!d) return malformed(d.error());
  auto rpc = chain::RpcClient::open(a.rpc_url);
  if (!rpc) return malformed(chain::Error{"--rpc-url", rpc.error().message});
  auto chain_id = rpc->chain_id();
  if (!chain_id) return malformed(chain_id.error());

  std::vector<std::string> problems;
  json::object report{{"chain_id", *chain_id}, {"deployment_chain_id", d->chain_id}};
  if (*chain_id != d->chain_id) {
    problems.push_back("the node is chain " + std::to_string(*chain_id) +
                       ", the deployment is on chain " + std::to_string(d->chain_id));
  }
  const auto has_code = [&](const chain::Address& addr,
                            const std::string& what) -> chain::Result<bool> {
    auto code = rpc->code(addr);
    if (!code) return code.error();
    if (code->empty()) problems.push_back(what + " " + addr.to_checksum() + ": no contract code");
    return !code->empty();
  };

  json::object contracts;
  for (const auto& [addr, name] :
       {std::pair{d->circuit_registry, "circuit_registry"},
        std::pair{d->root_registry, "root_registry"}, std::pair{d->timelock, "timelock"},
        std::pair{d->safe, "safe"}}) {
    auto code = has_code(addr, name);
    if (!code) return malformed(code.error());
    json::object c{{"address", addr.to_checksum()}, {"has_code", *code}};
    const bool registry = std::string_view(name).ends_with("registry");
    if (registry && *code) {
      auto owner = chain::call_view(*rpc, addr, "owner()", {}, "(address)");
      if (!owner) {
        problems.push_back(std::string(name) + ": " + owner.error().to_string());
      } else {
        const chain::Address o = owner->at(0).as_address();
        c["owner"] = o.to_checksum();
        c["owned_by_timelock"] = o == d->timelock;
        if (o != d->timelock)
          problems.push_back(std::string(name) + ": owner " + o.to_checksum() +
                             " is not the timelock");
      }
    }
    if (std::string_view(name) == "root_registry" && *code) {
      if (auto grace = chain::call_view(*rpc, addr, "graceSeconds()", {}, "(uint64)"))
        c["grace_seconds"] = *grace->at(0).as_u64();
    }
    contracts[name] = std::move(c);
  }
  report["contracts"] = std::move(contracts);

  const auto live = [&](const char* name) {
    return report["contracts"].as_object()[name].as_object()["has_code"].as_bool();
  };
  if (live("timelock") && live("safe")) {
    auto g = chain::check_governance(*rpc, d->safe, d->timelock, {}, a.min_delay_seconds);
    if (!g) return malformed(g.error());
    json::array owners;
    for (const auto& o : g->facts.owners) owners.push_back(json::value(o.to_checksum()));
    report["governance"] = json::object{{"min_delay", g->facts.min_delay},
                                        {"threshold", g->facts.threshold},
                                        {"owners", std::move(owners)},
                                        {"ok", g->problems.empty()}};
    problems.insert(problems.end(), g->problems.begin(), g->problems.end());
  }

  const bool circuits_live =
      report["contracts"].as_object()["circuit_registry"].as_object()["has_code"].as_bool();
  json::array verifiers;
  for (const auto& v : d->verifiers) {
    const std::string what = "verifier " + v.claim_type + " " + v.version;
    auto code = has_code(v.address, what);
    if (!code) return malformed(code.error());
    json::object o{{"claim_type", v.claim_type},
                   {"version", v.version},
                   {"address", v.address.to_checksum()},
                   {"has_code", *code}};
    if (circuits_live) {
      auto entry =
          chain::call_view(*rpc, d->circuit_registry, "circuit(bytes32,string)",
                           {chain::AbiValue::bytes32(word_of(chain::keccak256(v.claim_type))),
                            chain::AbiValue::string(v.version)},
                           "(address,bool)");
      if (!entry) {
        problems.push_back(what + ": " + entry.error().to_string());
      } else {
        const chain::Address registered = entry->at(0).as_address();
        o["registered"] = registered == v.address;
        o["registered_address"] = registered.to_checksum();
        o["enabled"] = entry->at(1).as_bool();
        if (registered != v.address) {
          problems.push_back(what + ": the CircuitRegistry names " + registered.to_checksum());
        }
      }
    }
    verifiers.push_back(std::move(o));
  }
  report["verifiers"] = std::move(verifiers);

  json::array roots;
  if (report["contracts"].as_object()["root_registry"].as_object()["has_code"].as_bool()) {
    for (const auto& issuer : a.issuers) {
      auto current = chain::call_view(*rpc, d->root_registry, "current(bytes32)",
                                      {chain::AbiValue::bytes32(word_of(chain::keccak256(issuer)))},
                                      "(uint256,uint64,uint64)");
      if (!current) {
        problems.push_back("issuer " + issuer + ": " + current.error().to_string());
        continue;
      }
      roots.push_back(json::object{{"issuer", issuer},
                                   {"root", chain::word_to_decimal(current->at(0).word)},
                                   {"seq", *current->at(1).as_u64()},
                                   {"published_at", *current->at(2).as_u64()}});
    }
  }
  report["roots"] = std::move(roots);
  json::array problem_list;
  for (const auto& p : problems) problem_list.push_back(json::value(p));
  report["ok"] = problems.empty();
  report["problems"] = std::move(problem_list);

  if (a.json) {
    std::cout << json::serialize(report) << "\n";
  } else {
    std::cout << "chain " << *chain_id << " (deployment file: chain " << d->chain_id << ")\n";
    for (const auto& [name, c] : report["contracts"].as_object()) {
      const auto& o = c.as_object();
      std::cout << name << " " << std::string_view(o.at("address").as_string())
                << (o.at("has_code").as_bool() ? "" : " NO CODE");
      if (const auto* owner = o.if_contains("owner")) {
        std::cout << " owner " << std::string_view(owner->as_string())
                  << (o.at("owned_by_timelock").as_bool() ? " (the timelock)"
                                                          : " (NOT the timelock)");
      }
      if (const auto* grace = o.if_contains("grace_seconds"))
        std::cout << " grace_seconds " << grace->as_uint64();
      std::cout << "\n";
    }
    if (const auto* g = report.if_contains("governance")) {
      const auto& o = g->as_object();
      std::cout << "governance min_delay " << o.at("min_delay").as_uint64() << " s, safe "
                << o.at("threshold").as_uint64() << " of " << o.at("owners").as_array().size()
                << " owners" << (o.at("ok").as_bool() ? "" : " (PROBLEM)") << "\n";
    }
    for (const auto& v : report["verifiers"].as_array()) {
      const auto& o = v.as_object();
      std::cout << "verifier " << std::string_view(o.at("claim_type").as_string()) << " "
                << std::string_view(o.at("version").as_string()) << " "
                << std::string_view(o.at("address").as_string())
                << (o.at("has_code").as_bool() ? "" : " NO CODE");
      if (const auto* r = o.if_contains("registered")) {
        std::cout << (r->as_bool() ? " registered" : " NOT registered")
                  << (o.at("enabled").as_bool() ? " enabled" : " disabled");
      }
      std::cout << "\n";
    }
    for (const auto& r : report["roots"].as_array()) {
      const auto& o = r.as_object();
      std::cout << "root " << std::string_view(o.at("issuer").as_string()) << " seq "
                << o.at("seq").as_uint64() << " root " << std::string_view(o.at("root").as_string())
                << " published_at " << o.at("published_at").as_uint64() << "\n";
    }
    for (const auto& p : problems) std::cout << "PROBLEM: " << p << "\n";
  }
  return problems.empty() ? kExitValid : kExitInvalid;
}

}  // namespace

void add_chain_status_command(CLI::App& chain_app, int& exit_code) {
  auto a = std::make_shared<StatusArgs>();
  CLI::App* cmd =
      chain_app.add_subcommand("status", "What the chain says about a deployment file.");
  cmd->add_option("--rpc-url", a->rpc_url,
                  "the chain's JSON-RPC URL (https, or http to a loopback host)")
      ->required();
  cmd->add_option("--deployment", a->deployment, "the deployment file written by `chain deploy`")
      ->required();
  cmd->add_option("--issuer", a->issuers, "an issuer id whose current root to show (repeatable)")
      ->capture_default_str();
  cmd->add_option("--min-delay-seconds", a->min_delay_seconds,
                  "a PROBLEM when the timelock's getMinDelay() is shorter")
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "one JSON object instead of text");
  cmd->callback([a, &exit_code] { exit_code = run_status(*a); });
}

}  // namespace pg::cli
