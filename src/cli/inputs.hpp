// The three snarkjs documents that `verify` and `bench` take: their options, and reading and
// strictly decoding them into a prepared key, a proof and public signals.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/groth16.hpp"

namespace pg::cli {

struct InputFiles {
  std::string vkey, proof, pub;
};

/// Adds the required --vkey, --proof and --public options.
void add_input_options(CLI::App& cmd, InputFiles& files);

struct Inputs {
  std::string proof_text, public_text;
  std::shared_ptr<const crypto::PreparedVerifyingKey> key;
  crypto::Proof proof;
  std::vector<crypto::Fr> publics;
  double prepare_key_us = 0;  // reading excluded: decoding, checks and preparation of the key
};

/// The decoded inputs, or nullopt with `error` set to the one line naming what is wrong (an
/// unreadable file, a field refused by the decoder, or a count of public signals that does not
/// match the key).
std::optional<Inputs> load_inputs(const InputFiles& files, std::string& error);

}  // namespace pg::cli
