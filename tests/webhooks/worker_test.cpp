// The webhook worker against a failing outbox: every storage error it goes past is counted and
// logged, and /metrics reads the counts through core::DeliveryCounters.
#include "webhooks/worker.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "http/metrics.hpp"
#include "log/log.hpp"

namespace pg::webhooks {
namespace {

using namespace std::chrono_literals;

/// An outbox whose calls fail as told; one due row when `due_row` is set.
class FailingOutbox final : public core::OutboxStore {
 public:
  bool fail_claim = false, fail_next_due = false, fail_finish = false, due_row = false;
  std::atomic<int> finish_calls{0};

  std::optional<core::WebhookTarget> webhook_target(std::string_view client_id) override {
    core::WebhookTarget t;
    t.client_id = std::string(client_id);  // no URL: the attempt fails without a network call
    return t;
  }
  void rotate_webhook_secret(std::string_view, std::string_view, core::UnixMillis,
                             std::string_view) override {}
  void enqueue_event(const core::OutboxEvent&, core::UnixMillis) override {}
  std::vector<core::Delivery> claim_due(std::string_view, core::UnixMillis, std::size_t,
                                        std::int64_t, std::size_t) override {
    if (fail_claim) throw core::StoreError("database is locked");
    std::lock_guard lock(mu_);
    if (!due_row) return {};
    due_row = false;
    core::Delivery d;
    d.event.event_id = "evt_\"1\"";
    d.event.client_id = "c1";
    d.status = "pending";
    return {d};
  }
  bool finish_attempt(std::string_view, const core::AttemptOutcome&) override {
    finish_calls++;
    if (fail_finish) throw core::StoreError("disk I/O error");
    return true;
  }
  std::optional<core::UnixMillis> next_due() override {
    if (fail_next_due) throw core::StoreError("connection lost\n");
    return std::nullopt;
  }
  std::vector<core::Delivery> list_deliveries(std::string_view, std::string_view,
                                              std::size_t) override {
    return {};
  }
  std::optional<core::Delivery> find_delivery(std::string_view) override { return std::nullopt; }
  std::vector<core::DeliveryAttempt> delivery_attempts(std::string_view) override { return {}; }
  bool replay(std::string_view, core::UnixMillis) override { return false; }
  std::vector<std::pair<std::string, std::int64_t>> count_by_status() override { return {}; }

 private:
  std::mutex mu_;
};

class WorkerStorageErrors : public ::testing::Test {
 protected:
  WorkerStorageErrors() { log::init(log::Level::kInfo, events_, requests_); }
  ~WorkerStorageErrors() override { log::init(log::Level::kInfo); }

  /// Runs the worker until `done` holds (5 s at most), then stops it.
  template <typename Pred>
  bool run_until(Worker& w, Pred done) {
    std::atomic<bool> stop{false};
    std::thread t([&] { w.run(stop); });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    bool ok = false;
    while (!(ok = done()) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);  // a polling step, not a wait for the worker
    stop = true;
    w.notify();
    t.join();
    return ok;
  }

  std::vector<boost::json::object> error_lines() const {
    std::vector<boost::json::object> out;
    std::istringstream in(events_.str());
    std::string line;
    while (std::getline(in, line)) {
      auto o = boost::json::parse(line).as_object();
      if (o.at("level") == "error") out.push_back(o);
    }
    return out;
  }

  WorkerSettings settings() const {
    WorkerSettings s;
    s.worker_id = "test-worker";
    s.poll = 10ms;
    s.concurrency = 1;
    return s;
  }

  std::ostringstream events_, requests_;
  core::SystemClock clock_;
  core::MasterKey key_{};
};

TEST_F(WorkerStorageErrors, failed_claims_and_next_due_reads_are_counted_and_logged) {
  FailingOutbox outbox;
  outbox.fail_claim = true;
  outbox.fail_next_due = true;
  Worker w(outbox, clock_, key_, settings());
  ASSERT_TRUE(run_until(w, [&] { return w.delivery_counts().storage_errors >= 4; }));
  const auto counts = w.delivery_counts();
  const auto lines = error_lines();
  ASSERT_EQ(lines.size(), counts.storage_errors);
  std::set<std::string> calls;
  for (const auto& l : lines) {
    EXPECT_EQ(l.at("msg"), "webhook worker: storage call failed");
    EXPECT_EQ(l.at("worker_id"), "test-worker");
    calls.insert(std::string(l.at("call").as_string()));
  }
  EXPECT_EQ(calls, (std::set<std::string>{"claim_due", "next_due"}));
  EXPECT_EQ(lines.back().at("call") == "next_due" ? lines.back().at("error")
                                                  : lines.at(lines.size() - 2).at("error"),
            "connection lost\n");
}

TEST_F(WorkerStorageErrors, a_failed_finish_is_counted_with_its_event_and_shown_in_metrics) {
  FailingOutbox outbox;
  outbox.due_row = true;
  outbox.fail_finish = true;
  Worker w(outbox, clock_, key_, settings());
  ASSERT_TRUE(run_until(w, [&] { return w.delivery_counts().storage_errors >= 1; }));
  const auto counts = w.delivery_counts();
  EXPECT_EQ(counts.storage_errors, 1u);
  EXPECT_EQ(counts.attempts_failed, 0u);  // not recorded: the lease expires, the row is retried
  const auto lines = error_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("call"), "finish_attempt");
  EXPECT_EQ(lines[0].at("event_id"), "evt_\"1\"");
  EXPECT_EQ(lines[0].at("error"), "disk I/O error");

  http::Metrics metrics;
  const core::DeliveryCounters& counters = w;
  metrics.worker = &counters;
  const core::ServiceCounters service{};
  const std::string text = metrics.render(service);
  EXPECT_NE(text.find("\nproofgate_webhook_storage_errors_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nproofgate_webhook_attempts_total{result=\"failed\"} 0\n"),
            std::string::npos);
}

}  // namespace
}  // namespace pg::webhooks
