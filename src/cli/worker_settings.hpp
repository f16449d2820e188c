// Reading the webhook worker's settings (shared by `serve`, which runs a worker inside, and
// `worker`, which runs one on its own).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "cli/config.hpp"
#include "webhooks/worker.hpp"

namespace pg::cli {

/// The worker settings from resolved raw settings; `role` names the process in the lease owner
/// ("serve" or "worker"). Throws std::runtime_error naming a malformed setting.
webhooks::WorkerSettings worker_settings(const RawSettings& s, const std::string& role);

/// The admin token's SHA-256 from `admin_token_sha256` (64 hex digits), nullopt when empty.
std::optional<std::array<std::uint8_t, 32>> admin_token_hash(const RawSettings& s);

}  // namespace pg::cli
