// `proofgate chain verifier --vkey F [--manifest M] [--small-input I:BITS]... [--name N]
// [--license SPDX] [--out FILE]`: writes the Solidity Groth16 verifier for a verification key
// (src/chain/solidity_verifier.hpp), to stdout by default. --manifest takes the small inputs from
// the circuit's public signal names, --small-input names them by position. A bad key, manifest,
// input or name: exit 2 with one line naming the field.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "chain/solidity_verifier.hpp"
#include "cli/commands.hpp"
#include "cli/files.hpp"

namespace pg::cli {

namespace {

struct VerifierArgs {
  std::string vkey;
  std::string manifest;
  std::vector<std::string> small_inputs;  // "I:BITS"
  std::string out;
  chain::VerifierOptions options;
};

/// "I:BITS" with decimal I and BITS, or nothing.
std::optional<chain::SmallInput> parse_small_input(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto number = [](std::string_view digits, auto& value) {
    if (digits.empty() || digits.size() > 6) return false;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return ec == std::errc{} && end == digits.data() + digits.size();
  };
  chain::SmallInput in;
  if (!number(text.substr(0, colon), in.index) || !number(text.substr(colon + 1), in.bits))
    return std::nullopt;
  return in;
}

/// The manifest's "public_signals" names, or an error sentence.
std::optional<std::vector<std::string>> manifest_signal_names(const std::string& path,
                                                              std::string& error) {
  const auto text = read_file(path, error);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(*text, ec);
  const auto* names =
      !ec && doc.is_object() ? doc.as_object().if_contains("public_signals") : nullptr;
  if (names == nullptr || !names->is_array()) {
    error = "not a circuit manifest: no public_signals array";
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& name : names->as_array()) {
    if (!name.is_string()) {
      error = "public_signals: every entry must be a string";
      return std::nullopt;
    }
    out.emplace_back(name.as_string());
  }
  return out;
}

int run_chain_verifier(VerifierArgs args) {
  std::string error;
  const auto text = read_file(args.vkey, error);
  if (!text) {
    std::cerr << "vkey: " << error << "\n";
    return kExitMalformed;
  }
  if (!args.manifest.empty()) {
    const auto names = manifest_signal_names(args.manifest, error);
    if (!names) {
      std::cerr << "manifest: " << error << "\n";
      return kExitMalformed;
    }
    // The manifest must be the key's: as many public signals as the key has inputs.
    boost::system::error_code ec;
    const boost::json::value key = boost::json::parse(*text, ec);
    const auto* ic = !ec && key.is_object() ? key.as_object().if_contains("IC") : nullptr;
    if (ic != nullptr && ic->is_array() && ic->as_array().size() != names->size() + 1) {
      std::cerr << "manifest: " << names->size() << " public signals, the key has "
                << (ic->as_array().empty() ? 0 : ic->as_array().size() - 1) << "\n";
      return kExitMalformed;
    }
    args.options.small_inputs = chain::small_inputs_for(*names);
  }
  std::vector<std::size_t> given_indexes;
  for (const std::string& given : args.small_inputs) {
    const auto in = parse_small_input(given);
    if (!in) {
      std::cerr << "small-input: \"" << given << "\" is not INDEX:BITS\n";
      return kExitMalformed;
    }
    if (std::find(given_indexes.begin(), given_indexes.end(), in->index) != given_indexes.end()) {
      std::cerr << "small-input: input " << in->index << " is given twice\n";
      return kExitMalformed;
    }
    given_indexes.push_back(in->index);
    std::erase_if(args.options.small_inputs,
                  [&](const chain::SmallInput& s) { return s.index == in->index; });
    if (in->bits != 0) args.options.small_inputs.push_back(*in);  // I:0: no table for I
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
  cmd->add_option("--manifest", args->manifest,
                  "the circuit's manifest.json: its small public inputs (today, min_level, "
                  "fiscal_year, threshold) are summed from precomputed tables");
  cmd->add_option("--small-input", args->small_inputs,
                  "INDEX:BITS, a public input (from 0) summed from tables below 2^BITS (BITS 0: "
                  "no table); repeatable, overrides --manifest for that input");
  cmd->add_option("--name", args->options.contract_name, "contract name (a Solidity identifier)")
      ->capture_default_str();
  cmd->add_option("--license", args->options.spdx_license, "SPDX licence identifier of the output")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "write the contract here instead of stdout");
  cmd->callback([args, &exit_code] { exit_code = run_chain_verifier(*args); });
}

}  // namespace pg::cli
