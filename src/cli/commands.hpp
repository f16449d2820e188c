// The subcommands of the proofgate binary, each in its own file; main wires them to CLI11.
#pragma once

#include <CLI/CLI.hpp>

namespace pg::cli {

/// Exit codes of the command-line contract.
inline constexpr int kExitValid = 0;
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitMalformed = 2;

/// `proofgate verify --vkey F --proof F --public F`.
void add_verify_command(CLI::App& app, int& exit_code);

/// `proofgate bench --vkey F --proof F --public F [--iterations N] [--batch K]`.
void add_bench_command(CLI::App& app, int& exit_code);

/// `proofgate serve [--listen HOST:PORT] [--data-dir DIR] [--demo] ...`.
void add_serve_command(CLI::App& app, int& exit_code);

/// `proofgate worker [--data-dir DIR]`: the webhook outbox worker on its own.
void add_worker_command(CLI::App& app, int& exit_code);

/// `proofgate migrate [--data-dir DIR | --database-url URL]`.
void add_migrate_command(CLI::App& app, int& exit_code);

/// `proofgate admin create-client | list-clients | publish-root | set-circuit |
/// rotate-webhook-secret | new-admin-token | audit | retention | anonymise-user`.
void add_admin_command(CLI::App& app, int& exit_code);
/// Under `admin`: approvals, approve, cancel-approval, circuits, request-enable, disable-circuit,
/// deprecate-circuit, set-min-version, upload-circuit (admin_lifecycle_command.cpp).
void add_admin_lifecycle_commands(CLI::App& admin, int& exit_code);

/// `proofgate admin sweep` (sweep_command.cpp).
void add_admin_sweep_command(CLI::App& admin, int& exit_code);

/// `proofgate release keygen --out KEY | sign --key KEY DIR | verify --public-key K DIR`.
void add_release_command(CLI::App& app, int& exit_code);

/// `proofgate sandbox-authority --kind moha|tu|nrb --listen H:P --data-dir D [--records N]
/// --ca CA.pem --cert authority.pem --key authority.key` (tests and demos only).
void add_sandbox_authority_command(CLI::App& app, int& exit_code);
/// `proofgate issuer serve`: an issuer node (docs/issuers.md).
void add_issuer_command(CLI::App& app, int& exit_code);

/// Under `chain`: `verifier --vkey F [--name N] [--out FILE]` (chain_verifier_command.cpp).
void add_chain_verifier_command(CLI::App& chain, int& exit_code);
/// Under `chain`: `deploy --rpc-url U --key-file K --artifacts DIR --safe A --timelock A --out F
/// ...` (chain_deploy_command.cpp) and `status --rpc-url U --deployment F`
/// (chain_status_command.cpp).
void add_chain_deploy_command(CLI::App& chain_app, int& exit_code);
void add_chain_status_command(CLI::App& chain_app, int& exit_code);
/// Under `chain`: `publish-roots --rpc-url U --key-file K --deployment F --issuer-feeds ...`
/// (chain_publish_command.cpp).
void add_chain_publish_command(CLI::App& chain_app, int& exit_code);

}  // namespace pg::cli
