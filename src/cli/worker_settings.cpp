// Worker settings (see worker_settings.hpp).
#include "cli/worker_settings.hpp"

#include <unistd.h>

#include <stdexcept>

#include "core/secrets.hpp"

namespace pg::cli {

webhooks::WorkerSettings worker_settings(const RawSettings& s, const std::string& role) {
  webhooks::WorkerSettings w;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  w.worker_id =
      role + "@" + host + ":" + std::to_string(::getpid()) + ":" + core::uuid_v4().substr(0, 8);
  w.policy.allow_loopback = setting_bool(s, "webhook_allow_loopback");
  w.policy.require_https = !w.policy.allow_loopback;
  w.timeout = std::chrono::milliseconds(setting_uint(s, "webhook_timeout_ms", 100, 60000));
  w.concurrency = setting_uint(s, "webhook_concurrency", 1, 256);
  w.per_client = setting_uint(s, "webhook_per_client", 1, 256);
  w.poll = std::chrono::milliseconds(setting_uint(s, "webhook_poll_ms", 10, 60000));
  w.schedule.clear();
  const std::string& text = s.at("webhook_retry_schedule");
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const double seconds = setting_double({{"webhook_retry_schedule", item}},
                                          "webhook_retry_schedule", 0.001, 7 * 86400.0);
    w.schedule.emplace_back(static_cast<std::int64_t>(seconds * 1000));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (w.schedule.empty() || w.schedule.size() > 30) {
    throw std::runtime_error("webhook_retry_schedule: 1 to 30 comma-separated waits in seconds");
  }
  return w;
}

std::optional<std::array<std::uint8_t, 32>> admin_token_hash(const RawSettings& s) {
  const std::string& h = s.at("admin_token_sha256");
  if (h.empty()) return std::nullopt;
  if (h.size() != 64 || h.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw std::runtime_error(
        "admin_token_sha256: must be 64 lowercase hex digits (proofgate admin new-admin-token "
        "prints it)");
  }
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i)
    out[i] = static_cast<std::uint8_t>(std::stoul(h.substr(2 * i, 2), nullptr, 16));
  return out;
}

}  // namespace pg::cli
