// `proofgate chain deploy`: a Groth16 verifier per enabled circuit version (our generator,
// src/chain/solidity_verifier.hpp), the CircuitRegistry and CredentialRootRegistry (sources built
// into the binary), every version registered, the grace set, ownership handed to the timelock,
// the result checked on chain, and the deployment file written (docs/onchain.md).
// Exit codes: 0 deployed; 1 a chain step failed (RPC, a reverted transaction, a failed check) or
// another run holds the key's lock; 2 bad input (flags, key file, artifacts, compilation), before
// any transaction is sent.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include "artifacts/filesystem_artifacts.hpp"
#include "chain/deployment.hpp"
#include "chain/governance_check.hpp"
#include "chain/key_lock.hpp"
#include "chain/registry_sources.hpp"
#include "chain/rpc.hpp"
#include "chain/rpc_url.hpp"
#include "chain/solc.hpp"
#include "chain/solidity_verifier.hpp"
#include "cli/backends.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "core/catalog.hpp"
#include "core/lifecycle.hpp"
#include "core/ports.hpp"

namespace pg::cli {
namespace {

using namespace std::chrono_literals;

struct DeployArgs {
  std::string rpc_url;
  std::string key_file;
  std::string artifacts;
  std::string safe;
  std::string timelock;
  std::string out;
  std::string solc = "solc";
  std::string node_modules = "node_modules";
  std::string data_dir;
  std::string database_url;
  std::optional<std::uint64_t> grace_seconds;
  std::uint64_t chain_id = 0;
  std::uint64_t min_delay_seconds = 86400;
  std::string max_fee_gwei = "500";
  bool insecure_development_keys = false;
  unsigned wait_seconds = 300;
};

/// One version to put on chain.
struct Planned {
  std::string claim_type;
  std::string version;
  std::string vkey_json;
  std::string vkey_sha256;
  std::size_t public_inputs = 0;
  std::vector<chain::SmallInput> small_inputs;  // from the manifest's public signal names
  std::string source_path;                      // "verifiers/<claim_type>_<version>.sol"
  std::string contract_name;                    // "AgeOver18V1_0_0"
};

/// "age_over_18", "1.0.0" -> "AgeOver18V1_0_0".
std::string contract_name_of(std::string_view claim_type, std::string_view version) {
  std::string name;
  bool upper = true;
  for (const char c : claim_type) {
    if (c == '_') {
      upper = true;
      continue;
    }
    name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  name += "V";
  for (const char c : version) name += c == '.' ? '_' : c;
  return name;
}

chain::Hash32 key_of(std::string_view text) {
  return chain::keccak256(text);
}
chain::Word word_of(const chain::Hash32& h) {
  chain::Word w{};
  std::copy(h.begin(), h.end(), w.begin());
  return w;
}

/// The versions to deploy: every version of the catalog (what serve loads from --artifacts),
/// narrowed with a storage to the lifecycle's verifying set (a version without a row counts as
/// enabled, as on the server). Throws std::runtime_error naming the problem.
std::vector<Planned> plan(const DeployArgs& a) {
  core::KeyPolicy policy;
  policy.allow_development_keys = a.insecure_development_keys;
  std::shared_ptr<core::LifecycleStore> lifecycle;
  Backends backends;
  const bool with_storage = !a.data_dir.empty() || !a.database_url.empty();
  if (with_storage) {
    RawSettings flags;
    if (!a.data_dir.empty()) flags["data_dir"] = a.data_dir;
    if (!a.database_url.empty()) flags["database_url"] = a.database_url;
    static const core::SystemClock clock;
    const Settings s = resolve_settings(flags, std::nullopt);
    auto keys = core::parse_release_keys(s.release_public_keys);
    if (!keys) throw std::runtime_error("release_public_keys: " + keys.error());
    policy.release_keys = std::move(*keys);
    backends = open_backends(s, clock, /*with_cache=*/false);
    lifecycle = backends.lifecycle;
  }
  const artifacts::FilesystemArtifacts files{std::filesystem::path(a.artifacts)};
  const core::CircuitCatalog catalog = core::CircuitCatalog::load(files, policy);
  const core::UnixMillis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  std::vector<Planned> out;
  for (const core::Circuit* c : catalog.all()) {
    if (lifecycle) {
      const auto state = lifecycle->find_circuit_state(c->claim_type, c->version);
      if (state && !state->verifies_at(now)) continue;
    }
    Planned p;
    p.claim_type = c->claim_type;
    p.version = c->version;
    const auto vkey =
        files.read(c->claim_type, c->version, "verification_key.json", 4 * 1024 * 1024);
    if (!vkey)
      throw std::runtime_error(files.describe(c->claim_type, c->version, "verification_key.json") +
                               ": missing");
    p.vkey_json = *vkey;
    const auto sha = c->sha256.find("verification_key.json");
    if (sha == c->sha256.end())
      throw std::runtime_error(c->claim_type + " " + c->version + ": no vkey digest");
    p.vkey_sha256 = sha->second;
    // The bytes compiled are the ones the deployment file's digest describes: this read, not the
    // catalog's earlier one, must match it (the server trusts the digest as "this very key").
    if (auto same = chain::check_vkey_digest(c->claim_type, c->version, p.vkey_json, p.vkey_sha256);
        !same) {
      throw std::runtime_error(same.error().to_string());
    }
    p.public_inputs = c->public_signals.size();
    p.small_inputs = chain::small_inputs_for(c->public_signals);
    p.contract_name = contract_name_of(c->claim_type, c->version);
    p.source_path = "verifiers/" + c->claim_type + "_" + c->version + ".sol";
    out.push_back(std::move(p));
  }
  if (out.empty())
    throw std::runtime_error("--artifacts " + a.artifacts + ": no circuit version to deploy");
  return out;
}

class Deployer {
 public:
  Deployer(chain::RpcClient& rpc, const chain::PrivateKey& key, std::uint64_t chain_id,
           std::chrono::seconds wait, std::uint64_t max_fee_per_gas)
      : rpc_(rpc), key_(key), chain_id_(chain_id), wait_(wait), max_fee_(max_fee_per_gas) {}

  chain::Result<chain::Receipt> send(chain::Send s) {
    s.max_fee_per_gas_cap = max_fee_;
    auto r = chain::send_and_wait(rpc_, key_, chain_id_, s, wait_, nonces_);
    if (r) {
      if (!first_block_) first_block_ = r->block_number;
      std::cerr << s.label << ": tx " << chain::to_hex(r->transaction_hash) << " (block "
                << r->block_number << ", gas " << r->gas_used << ")\n";
    }
    return r;
  }

  chain::Result<chain::Address> create(const chain::Bytes& bytecode, const chain::Bytes& args,
                                       const std::string& label) {
    chain::Bytes code = bytecode;
    code.insert(code.end(), args.begin(), args.end());
    auto r = send({std::nullopt, std::move(code), {}, std::nullopt, label});
    if (!r) return r.error();
    if (!r->contract_address) return chain::Error{label, "the receipt names no contract address"};
    return *r->contract_address;
  }

  chain::Result<chain::Receipt> call(const chain::Address& to, std::string_view signature,
                                     const std::vector<chain::AbiValue>& args,
                                     const std::string& label) {
    auto data = chain::encode_call(signature, args);
    if (!data) return data.error();
    return send({to, std::move(*data), {}, std::nullopt, label});
  }

  std::uint64_t first_block() const { return first_block_.value_or(0); }

 private:
  chain::RpcClient& rpc_;
  const chain::PrivateKey& key_;
  std::uint64_t chain_id_;
  std::chrono::seconds wait_;
  std::uint64_t max_fee_;
  chain::NonceCounter nonces_;  // read once, then counted: one nonce per transaction of the run
  std::optional<std::uint64_t> first_block_;
};

chain::Result<chain::Ok> require_code(chain::RpcClient& rpc, const chain::Address& a,
                                      const std::string& what, std::uint64_t chain_id) {
  auto code = rpc.code(a);
  if (!code) return code.error();
  if (code->empty()) {
    return chain::Error{what, "no contract at " + a.to_checksum() + " on chain " +
                                  std::to_string(chain_id) + " (wrong address or wrong chain?)"};
  }
  return chain::Ok{};
}

int fail(const chain::Error& e, int code) {
  std::cerr << "chain deploy: " << e.to_string() << "\n";
  return code;
}

int run_deploy(const DeployArgs& a) {
  // Input first: nothing is sent before every input (and the chain it goes to) has been checked.
  if (auto problem = chain::rpc_url_problem(a.rpc_url))
    return fail({"--rpc-url", *problem}, kExitMalformed);
  if (std::filesystem::exists(a.out)) {
    return fail({"--out " + a.out, "exists already; a deployment file is never overwritten"},
                kExitMalformed);
  }
  if (!a.database_url.empty() && a.insecure_development_keys) {
    return fail({"--insecure-development-keys", "refused with --database-url (production storage)"},
                kExitMalformed);
  }
  // Anyone can forge proofs for a development key: its verifiers, registered enabled, would
  // accept them. Only on a local development chain (the node is held to --chain-id below).
  if (a.insecure_development_keys && a.chain_id != 31337 && a.chain_id != 1337) {
    return fail({"--insecure-development-keys",
                 "refused on chain " + std::to_string(a.chain_id) +
                     ": only on a local development chain (--chain-id 31337 or 1337)"},
                kExitMalformed);
  }
  {
    // Its directory must take the file now, not after every transaction has been sent.
    const std::filesystem::path out_dir = std::filesystem::path(a.out).has_parent_path()
                                              ? std::filesystem::path(a.out).parent_path()
                                              : std::filesystem::path(".");
    if (!std::filesystem::is_directory(out_dir) || ::access(out_dir.c_str(), W_OK) != 0) {
      return fail({"--out " + a.out, "its directory does not exist or is not writable"},
                  kExitMalformed);
    }
  }
  if (!a.data_dir.empty() && !std::filesystem::is_directory(a.data_dir)) {
    // Opening it would create a new, empty data directory and master key.
    return fail({"--data-dir " + a.data_dir, "is not a directory (the server's data directory)"},
                kExitMalformed);
  }
  auto safe = chain::parse_address(a.safe, "--safe");
  if (!safe) return fail(safe.error(), kExitMalformed);
  auto timelock = chain::parse_address(a.timelock, "--timelock");
  if (!timelock) return fail(timelock.error(), kExitMalformed);
  if (timelock->is_zero() || safe->is_zero())
    return fail({"--timelock/--safe", "must not be the zero address"}, kExitMalformed);
  if (a.grace_seconds && *a.grace_seconds > 86400) {
    return fail({"--grace-seconds", "at most 86400 (the registry's MAX_GRACE_SECONDS)"},
                kExitMalformed);
  }
  auto max_fee = chain::parse_gwei(a.max_fee_gwei, "--max-fee-gwei");
  if (!max_fee) return fail(max_fee.error(), kExitMalformed);
  // One run per key for the whole run: a second one would sign the same nonces.
  auto run_lock = chain::KeyLock::acquire(a.key_file);
  if (!run_lock) {
    return fail(run_lock.error().error, run_lock.error().reason == chain::KeyLockRefusal::kHeld
                                            ? kExitInvalid
                                            : kExitMalformed);
  }
  auto key = chain::PrivateKey::from_file(a.key_file);
  if (!key) return fail(key.error(), kExitMalformed);
  std::vector<Planned> planned;
  try {
    planned = plan(a);
  } catch (const std::exception& e) {
    return fail({"circuits", e.what()}, kExitMalformed);
  }

  // The chain: the right one, and the governance present on it.
  auto rpc = chain::RpcClient::open(a.rpc_url);
  if (!rpc) return fail({"--rpc-url", rpc.error().message}, kExitMalformed);
  auto chain_id = rpc->chain_id();
  if (!chain_id) return fail(chain_id.error(), kExitInvalid);
  if (a.chain_id != *chain_id) {
    return fail(
        {"--chain-id", "the node at " + rpc->url() + " is chain " + std::to_string(*chain_id) +
                           ", not " + std::to_string(a.chain_id)},
        kExitInvalid);
  }
  for (const auto& [addr, what] :
       {std::pair{*safe, "--safe"}, std::pair{*timelock, "--timelock"}}) {
    if (auto ok = require_code(*rpc, addr, what, *chain_id); !ok)
      return fail(ok.error(), kExitInvalid);
  }
  // Handing the registries over is irreversible: the governance must be as docs/onchain.md says.
  auto governance =
      chain::check_governance(*rpc, *safe, *timelock, {key->address()}, a.min_delay_seconds);
  if (!governance) return fail(governance.error(), kExitInvalid);
  if (!governance->problems.empty()) {
    for (const auto& p : governance->problems) std::cerr << "chain deploy: " << p << "\n";
    return fail({"governance", "refused; nothing was sent"}, kExitInvalid);
  }

  chain::SourceMap sources;
  for (const auto& s : chain::registry_sources())
    sources.emplace(std::string(s.path), std::string(s.content));
  if (!sources.contains("contracts/CircuitRegistry.sol") ||
      !sources.contains("contracts/CredentialRootRegistry.sol")) {
    return fail({"registry sources", "this build embeds no CircuitRegistry/CredentialRootRegistry"},
                kExitMalformed);
  }
  for (const auto& p : planned) {
    chain::VerifierOptions options;
    options.contract_name = p.contract_name;
    options.spdx_license = "UNLICENSED";
    options.small_inputs = p.small_inputs;
    auto source = chain::solidity_verifier(p.vkey_json, options);
    if (!source)
      return fail({p.claim_type + " " + p.version, source.error().to_string()}, kExitMalformed);
    sources.emplace(p.source_path, std::move(*source));
  }
  if (auto resolved = chain::resolve_imports(sources, a.node_modules); !resolved)
    return fail(resolved.error(), kExitMalformed);
  chain::CompileSettings compile;
  compile.command = a.solc;
  std::cerr << "compiling " << sources.size() << " Solidity sources with " << a.solc
            << " --standard-json\n";
  auto compiled = chain::compile_standard_json(sources, compile);
  if (!compiled) return fail(compiled.error(), kExitMalformed);
  const auto bytecode = [&](const std::string& id) -> const chain::Bytes* {
    const auto it = compiled->find(id);
    return it == compiled->end() ? nullptr : &it->second;
  };
  const chain::Bytes* circuit_registry_code =
      bytecode("contracts/CircuitRegistry.sol:CircuitRegistry");
  const chain::Bytes* root_registry_code =
      bytecode("contracts/CredentialRootRegistry.sol:CredentialRootRegistry");
  if (!circuit_registry_code || !root_registry_code)
    return fail({"--solc", "produced no registry bytecode"}, kExitMalformed);
  for (const auto& p : planned) {
    if (!bytecode(p.source_path + ":" + p.contract_name)) {
      return fail({"--solc", "produced no bytecode for " + p.contract_name}, kExitMalformed);
    }
  }

  std::cerr << "deploying from " << key->address().to_checksum() << " on chain " << *chain_id
            << "\n";

  Deployer d(*rpc, *key, *chain_id, std::chrono::seconds(a.wait_seconds), *max_fee);
  chain::Deployment out;
  out.chain_id = *chain_id;
  out.safe = *safe;
  out.timelock = *timelock;
  for (const auto& p : planned) {
    auto at = d.create(*bytecode(p.source_path + ":" + p.contract_name), {},
                       "deploy verifier " + p.claim_type + " " + p.version);
    if (!at) return fail(at.error(), kExitInvalid);
    out.verifiers.push_back({p.claim_type, p.version, *at, p.public_inputs, p.vkey_sha256});
  }
  const chain::Bytes owner_arg = chain::encode({chain::AbiValue::address(key->address())});
  auto circuits = d.create(*circuit_registry_code, owner_arg, "deploy CircuitRegistry");
  if (!circuits) return fail(circuits.error(), kExitInvalid);
  out.circuit_registry = *circuits;
  auto roots = d.create(*root_registry_code, owner_arg, "deploy CredentialRootRegistry");
  if (!roots) return fail(roots.error(), kExitInvalid);
  out.root_registry = *roots;
  out.deployed_block = d.first_block();

  for (const auto& v : out.verifiers) {
    auto r = d.call(out.circuit_registry, "setCircuit(bytes32,address,string,bool)",
                    {chain::AbiValue::bytes32(word_of(key_of(v.claim_type))),
                     chain::AbiValue::address(v.address), chain::AbiValue::string(v.version),
                     chain::AbiValue::boolean(true)},
                    "setCircuit " + v.claim_type + " " + v.version);
    if (!r) return fail(r.error(), kExitInvalid);
  }
  if (a.grace_seconds) {
    auto r = d.call(out.root_registry, "setGraceSeconds(uint64)",
                    {chain::AbiValue::uint(*a.grace_seconds)},
                    "setGraceSeconds " + std::to_string(*a.grace_seconds));
    if (!r) return fail(r.error(), kExitInvalid);
  }
  for (const auto& [registry, name] : {std::pair{out.circuit_registry, "CircuitRegistry"},
                                       std::pair{out.root_registry, "CredentialRootRegistry"}}) {
    auto r = d.call(registry, "transferOwnership(address)", {chain::AbiValue::address(*timelock)},
                    std::string("transferOwnership of ") + name + " to the timelock");
    if (!r) return fail(r.error(), kExitInvalid);
  }

  // Check what the chain now says, not what the receipts said.
  for (const auto& v : out.verifiers) {
    if (auto ok =
            require_code(*rpc, v.address, "verifier " + v.claim_type + " " + v.version, *chain_id);
        !ok) {
      return fail(ok.error(), kExitInvalid);
    }
    auto entry = chain::call_view(*rpc, out.circuit_registry, "circuit(bytes32,string)",
                                  {chain::AbiValue::bytes32(word_of(key_of(v.claim_type))),
                                   chain::AbiValue::string(v.version)},
                                  "(address,bool)");
    if (!entry) return fail(entry.error(), kExitInvalid);
    if (entry->at(0).as_address() != v.address || !entry->at(1).as_bool()) {
      return fail(
          {"CircuitRegistry", v.claim_type + " " + v.version + " is not registered as deployed"},
          kExitInvalid);
    }
  }
  for (const auto& [registry, name] : {std::pair{out.circuit_registry, "CircuitRegistry"},
                                       std::pair{out.root_registry, "CredentialRootRegistry"}}) {
    if (auto ok = require_code(*rpc, registry, name, *chain_id); !ok)
      return fail(ok.error(), kExitInvalid);
    auto owner = chain::call_view(*rpc, registry, "owner()", {}, "(address)");
    if (!owner) return fail(owner.error(), kExitInvalid);
    if (owner->at(0).as_address() != *timelock) {
      return fail(
          {name, "owner() is " + owner->at(0).as_address().to_checksum() + ", not the timelock"},
          kExitInvalid);
    }
  }
  if (auto written = chain::write_deployment_file(a.out, out); !written)
    return fail(written.error(), kExitInvalid);
  std::cout << "deployed " << out.verifiers.size() << " verifier(s), CircuitRegistry "
            << out.circuit_registry.to_checksum() << ", CredentialRootRegistry "
            << out.root_registry.to_checksum() << ", owned by the timelock "
            << out.timelock.to_checksum() << "; wrote " << a.out << "\n";
  return kExitValid;
}

}  // namespace

void add_chain_deploy_command(CLI::App& chain_app, int& exit_code) {
  auto a = std::make_shared<DeployArgs>();
  CLI::App* cmd = chain_app.add_subcommand(
      "deploy",
      "Deploy the verifiers of the enabled circuits and the registries, owned by the timelock.");
  cmd->add_option("--rpc-url", a->rpc_url,
                  "the chain's JSON-RPC URL (https, or http to a loopback host)")
      ->required();
  cmd->add_option("--key-file", a->key_file, "the deployer's private key: 64 hex digits, mode 0600")
      ->required();
  cmd->add_option("--artifacts", a->artifacts,
                  "the circuits directory the server loads (artifacts_dir)")
      ->required();
  cmd->add_option("--safe", a->safe, "the Safe that proposes to the timelock")->required();
  cmd->add_option("--timelock", a->timelock, "the TimelockController that will own the registries")
      ->required();
  cmd->add_option("--out", a->out, "the deployment file to write (never overwritten)")->required();
  cmd->add_option("--solc", a->solc,
                  "a standard-JSON Solidity compiler command (solc, or node_modules/.bin/solcjs)")
      ->capture_default_str();
  cmd->add_option("--node-modules", a->node_modules,
                  "where the contracts' imports (@openzeppelin/...) are found")
      ->capture_default_str();
  cmd->add_option("--data-dir", a->data_dir,
                  "the server's data directory: deploy only the versions it verifies");
  cmd->add_option("--database-url", a->database_url,
                  "the server's PostgreSQL: deploy only the versions it verifies");
  cmd->add_option("--grace-seconds", a->grace_seconds,
                  "the root registry's grace for replaced roots (<= 86400)");
  cmd->add_option("--chain-id", a->chain_id,
                  "the chain to deploy on: the node must be this chain (signed into every "
                  "transaction)")
      ->required();
  cmd->add_option("--min-delay-seconds", a->min_delay_seconds,
                  "refuse a timelock whose getMinDelay() is shorter")
      ->capture_default_str();
  cmd->add_option("--max-fee-gwei", a->max_fee_gwei,
                  "refuse to sign when the node suggests a higher fee cap or tip per gas")
      ->capture_default_str();
  cmd->add_option("--wait-seconds", a->wait_seconds, "how long to wait for each receipt")
      ->capture_default_str();
  cmd->add_flag(
      "--insecure-development-keys", a->insecure_development_keys,
      "DEVELOPMENT ONLY: also deploy versions whose keys are not from a production ceremony "
      "(--chain-id 31337 or 1337 only)");
  cmd->callback([a, &exit_code] { exit_code = run_deploy(*a); });
}

}  // namespace pg::cli
