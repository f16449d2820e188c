// Compiling Solidity through a standard-JSON compiler subprocess (docs.soliditylang.org,
// "Compiler Input and Output JSON Description"): native `solc --standard-json` and solc-js's
// `solcjs --standard-json` both read the input on stdin. Imports are put into the input by us
// (resolve_imports), so the compiler needs no file access, no callback and no include paths.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "chain/error.hpp"
#include "chain/hex.hpp"

namespace pg::chain {

/// Source path -> Solidity text, as the standard-JSON input's "sources".
using SourceMap = std::map<std::string, std::string, std::less<>>;

/// Adds every file `sources` import, transitively: relative imports ("./X.sol", "../a/X.sol")
/// against the importing path, others ("@openzeppelin/contracts/access/Ownable.sol") from
/// `node_modules`. The error names the import and the file that wants it.
Result<Ok> resolve_imports(SourceMap& sources, const std::filesystem::path& node_modules);

struct CompileSettings {
  std::string command = "solc";  // run as `<command> --standard-json` by /bin/sh
  std::string evm_version = "cancun";
  unsigned optimizer_runs = 200;
  std::chrono::seconds timeout{300};
  /// The most the compiler may write to stdout and stderr together; beyond, it is ended.
  std::size_t max_output = std::size_t{256} << 20;
};

/// Compiles `sources`; returns "<path>:<contract>" -> creation bytecode for every contract with
/// code. A contract whose runtime code is over EIP-170's 24,576 bytes is an Error naming it.
/// Compiler errors (severity "error") come back in one Error with their formatted messages; a
/// compiler that cannot be run, fails or answers something else is an Error saying so.
Result<std::map<std::string, Bytes>> compile_standard_json(const SourceMap& sources,
                                                           const CompileSettings& settings);

}  // namespace pg::chain
