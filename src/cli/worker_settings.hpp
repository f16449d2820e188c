// Settings turned into what the adapters take: the webhook worker's (shared by `serve`, which runs
// a worker inside, and `worker`, which runs one on its own) and the hashed tokens.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cli/config.hpp"
#include "webhooks/worker.hpp"

namespace pg::cli {

/// The worker settings; `role` names the process in the lease owner ("serve" or "worker").
webhooks::WorkerSettings worker_settings(const Settings& s, const std::string& role);

/// A kSha256Hex setting's bytes (resolve_settings checked its form), nullopt when empty.
std::optional<std::array<std::uint8_t, 32>> sha256_setting(std::string_view hex);

/// The admin token's SHA-256 from `admin_token_sha256`, nullopt when empty.
inline std::optional<std::array<std::uint8_t, 32>> admin_token_hash(const Settings& s) {
  return sha256_setting(s.admin_token_sha256);
}

}  // namespace pg::cli
