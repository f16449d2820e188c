// proofgate command line: the composition root that wires the subcommands.
#include <csignal>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config.hpp"

int main(int argc, char** argv) {
  // A peer that closes its socket (a partner's receiver, Redis, PostgreSQL) must give an error on
  // that write, not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"proofgate: verifies zero-knowledge proofs of identity claims (Groth16, BN254)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "proofgate 0.1.0");
  int exit_code = 0;
  pg::cli::add_verify_command(app, exit_code);
  pg::cli::add_bench_command(app, exit_code);
  pg::cli::add_serve_command(app, exit_code);
  pg::cli::add_worker_command(app, exit_code);
  pg::cli::add_migrate_command(app, exit_code);
  pg::cli::add_admin_command(app, exit_code);
  pg::cli::add_release_command(app, exit_code);
  pg::cli::add_settings_command(app, exit_code);
  pg::cli::add_sandbox_authority_command(app, exit_code);
  pg::cli::add_issuer_command(app, exit_code);
  CLI::App* chain =
      app.add_subcommand("chain", "On-chain mode: verifier contracts (docs/onchain.md)");
  chain->require_subcommand(1);
  pg::cli::add_chain_verifier_command(*chain, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors are malformed input: exit 2 with one line.
    std::cerr << "usage: " << e.what() << " (see proofgate --help)\n";
    return pg::cli::kExitMalformed;
  } catch (const std::exception& e) {
    // Out of memory or no randomness: still one line and a contract exit code, never an abort.
    std::cerr << "error: " << e.what() << "\n";
    return pg::cli::kExitMalformed;
  }
  return exit_code;
}
