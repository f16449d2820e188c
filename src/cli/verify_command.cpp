// `proofgate verify`: exit 0 for a valid proof, 1 for an invalid one, 2 for malformed input
// (one line on stderr naming the field at fault).
#include <iostream>

#include "cli/commands.hpp"
#include "cli/inputs.hpp"

namespace pg::cli {

namespace {

int run_verify(const InputFiles& files) {
  std::string error;
  const auto in = load_inputs(files, error);
  if (!in) {
    std::cerr << error << "\n";
    return kExitMalformed;
  }
  if (in->key->verify(in->proof, in->publics)) {
    std::cout << "valid\n";
    return kExitValid;
  }
  std::cout << "invalid\n";
  return kExitInvalid;
}

}  // namespace

void add_verify_command(CLI::App& app, int& exit_code) {
  auto files = std::make_shared<InputFiles>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Verify a Groth16 proof (snarkjs JSON). Exit 0 valid, 1 invalid, 2 malformed.");
  add_input_options(*cmd, *files);
  cmd->callback([files, &exit_code] { exit_code = run_verify(*files); });
}

}  // namespace pg::cli
