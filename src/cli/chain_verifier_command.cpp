// `proofgate chain verifier --vkey F [--name N] [--license SPDX] [--out FILE]`: writes the
// Solidity Groth16 verifier for a verification key (src/chain/solidity_verifier.hpp), to stdout
// by default. A bad key or name: exit 2 with one line naming the field.
#include <fstream>
#include <iostream>
#include <memory>

#include "chain/solidity_verifier.hpp"
#include "cli/commands.hpp"
#include "cli/files.hpp"

namespace pg::cli {

namespace {

struct VerifierArgs {
  std::string vkey;
  std::string out;
  chain::VerifierOptions options;
};

int run_chain_verifier(const VerifierArgs& args) {
  std::string error;
  const auto text = read_file(args.vkey, error);
  if (!text) {
    std::cerr << "vkey: " << error << "\n";
    return kExitMalformed;
  }
  const auto source = chain::solidity_verifier(*text, args.options);
  if (!source) {
    std::cerr << source.error().to_string() << "\n";
    return kExitMalformed;
  }
  if (args.out.empty()) {
    std::cout << *source << std::flush;
    return std::cout ? kExitValid : kExitMalformed;
  }
  std::ofstream out(args.out, std::ios::binary | std::ios::trunc);
  out << *source;
  out.close();
  if (!out) {
    std::cerr << "out: cannot write " << args.out << "\n";
    return kExitMalformed;
  }
  return kExitValid;
}

}  // namespace

void add_chain_verifier_command(CLI::App& chain, int& exit_code) {
  auto args = std::make_shared<VerifierArgs>();
  CLI::App* cmd = chain.add_subcommand(
      "verifier", "Write a Solidity Groth16 verifier contract for a verification_key.json.");
  cmd->add_option("--vkey", args->vkey, "verification_key.json (snarkjs format)")->required();
  cmd->add_option("--name", args->options.contract_name, "contract name (a Solidity identifier)")
      ->capture_default_str();
  cmd->add_option("--license", args->options.spdx_license, "SPDX licence identifier of the output")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "write the contract here instead of stdout");
  cmd->callback([args, &exit_code] { exit_code = run_chain_verifier(*args); });
}

}  // namespace pg::cli
