// Admin accounts for the composition root: core::AccountService over the opened storage, and the
// `proofgate admin create-admin | list-admins | disable-admin` commands.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>

#include "cli/backends.hpp"
#include "cli/config.hpp"
#include "core/accounts.hpp"

namespace pg::cli {

/// core::AccountService over `backends` (whose store must fill core::AccountStore; else
/// std::runtime_error). `backends` and `clock` must outlive it.
std::unique_ptr<core::AccountService> account_service(const Backends& backends,
                                                      const core::Clock& clock,
                                                      const Settings& settings);

/// Adds the account subcommands to `admin`: `storage` adds the storage flags to a subcommand,
/// `open` opens what they name (with the settings), `actor` is who runs the command.
void add_admin_account_commands(CLI::App& admin, int& exit_code,
                                const std::function<void(CLI::App*)>& storage,
                                std::function<std::pair<Backends, Settings>()> open,
                                std::function<core::Actor()> actor);

}  // namespace pg::cli
