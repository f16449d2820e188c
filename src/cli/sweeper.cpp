// Running the sweeps (see sweeper.hpp).
#include "cli/sweeper.hpp"

#include <chrono>

#include "log/log.hpp"

namespace pg::cli {

namespace {
constexpr std::int64_t kDayMs = 86'400'000;
}

core::SweepWindows sweep_windows(const Settings& s) {
  core::SweepWindows w;
  w.request_keep_ms = static_cast<std::int64_t>(s.sweep_request_keep_days) * kDayMs;
  w.nonce_keep_ms = static_cast<std::int64_t>(s.sweep_nonce_keep_days) * kDayMs;
  w.delivered_keep_ms = static_cast<std::int64_t>(s.sweep_delivered_keep_days) * kDayMs;
  w.dead_keep_ms = static_cast<std::int64_t>(s.sweep_dead_keep_days) * kDayMs;
  return w;
}

core::SweepBudget sweep_budget(const Settings& s) {
  return {static_cast<std::size_t>(s.sweep_batch), s.sweep_max_rows,
          std::chrono::seconds(s.sweep_max_seconds)};
}

boost::json::object sweep_counts_json(const core::SweepCounts& c) {
  return {{"proof_requests", c.proof_requests},
          {"idempotency_keys", c.idempotency_keys},
          {"proof_nonces", c.proof_nonces},
          {"outbox_delivered", c.outbox_delivered},
          {"outbox_dead", c.outbox_dead},
          {"webhook_attempts", c.webhook_attempts},
          {"more", c.more},
          {"busy", c.busy}};
}

core::SweepCounts Sweeper::run() {
  const auto started = std::chrono::steady_clock::now();
  core::SweepCounts c;
  try {
    c = core::run_sweep(
        store_, [this] { return clock_.now_ms(); }, windows_, budget_, /*dry_run=*/false);
  } catch (...) {
    runs_failed_++;  // batches committed before the failure stay done (and uncounted here)
    throw;
  }
  requests_ += c.proof_requests;
  idempotency_ += c.idempotency_keys;
  nonces_ += c.proof_nonces;
  delivered_ += c.outbox_delivered;
  dead_ += c.outbox_dead;
  attempts_ += c.webhook_attempts;
  (c.busy ? runs_busy_ : runs_done_)++;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  // Counts only: never an id, a nonce or a partner.
  log::info("sweep", {{"proof_requests", c.proof_requests},
                      {"idempotency_keys", c.idempotency_keys},
                      {"proof_nonces", c.proof_nonces},
                      {"outbox_delivered", c.outbox_delivered},
                      {"outbox_dead", c.outbox_dead},
                      {"webhook_attempts", c.webhook_attempts},
                      {"more", c.more},
                      {"busy", c.busy},
                      {"duration_ms", static_cast<std::int64_t>(ms)}});
  return c;
}

std::string Sweeper::render_metrics() const {
  std::string out =
      "# HELP proofgate_sweep_rows_total Rows this process's sweeps deleted, by kind.\n"
      "# TYPE proofgate_sweep_rows_total counter\n";
  const auto line = [&out](std::string_view kind, const std::atomic<std::uint64_t>& v) {
    out += "proofgate_sweep_rows_total{kind=\"" + std::string(kind) + "\"} " +
           std::to_string(v.load()) + "\n";
  };
  line("proof_requests", requests_);
  line("idempotency_keys", idempotency_);
  line("proof_nonces", nonces_);
  line("outbox_delivered", delivered_);
  line("outbox_dead", dead_);
  line("webhook_attempts", attempts_);
  out +=
      "# HELP proofgate_sweep_runs_total Sweep runs of this process: done, busy (another "
      "instance held the sweep lock) or failed (a storage error).\n"
      "# TYPE proofgate_sweep_runs_total counter\n"
      "proofgate_sweep_runs_total{result=\"done\"} " +
      std::to_string(runs_done_.load()) + "\nproofgate_sweep_runs_total{result=\"busy\"} " +
      std::to_string(runs_busy_.load()) + "\nproofgate_sweep_runs_total{result=\"failed\"} " +
      std::to_string(runs_failed_.load()) + "\n";
  return out;
}

}  // namespace pg::cli
