// Group commit on SQLite (scripts/bench-store.mjs): T threads record proofs as fast as they can
// on one SqliteStore (synchronous FULL or NORMAL) for a few seconds; prints one JSON line with
// the writes per second, the latency of one record_proof and the writes per transaction.
// --max-group 1 gives one transaction per write (no grouping), the baseline of the same run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int usage() {
  std::cerr << "usage: store_commit_bench --dir DIR [--threads T] [--seconds S] [--max-group N] "
               "[--synchronous FULL|NORMAL]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir;
  int threads = 8;
  double seconds = 3;
  std::size_t max_group = 128;
  std::string synchronous = "FULL";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--dir")
      dir = value;
    else if (flag == "--threads")
      threads = std::stoi(value);
    else if (flag == "--seconds")
      seconds = std::stod(value);
    else if (flag == "--max-group")
      max_group = std::stoul(value);
    else if (flag == "--synchronous")
      synchronous = value;
    else
      return usage();
  }
  if (dir.empty() || threads < 1 || threads > 1024 || seconds <= 0 || argc % 2 == 0) return usage();

  std::random_device random;
  const fs::path work = dir / ("store-commit-bench-" + std::to_string(random()));
  fs::create_directories(work);
  int status = 0;
  try {
    pg::store::SqliteStore store(pg::store::SqliteSettings{
        .path = work / "proofgate.db", .synchronous = synchronous, .max_commit_group = max_group});
    pg::core::Client client;
    client.id = "bench";
    client.name = "bench";
    client.key_prefix = "pg_live_bench";
    client.key_hash.fill(1);
    client.scopes = {"age_over_18"};
    client.domains = {"bench.example"};
    client.created_at = 1;
    client.mode = pg::core::Mode::kLive;
    store.insert_client(client);

    std::atomic<bool> go{false};
    std::atomic<bool> stop{false};
    std::vector<std::vector<double>> latencies(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        for (long n = 0; !stop.load(); ++n) {
          pg::core::ProofRecord proof;
          proof.id = "p-" + std::to_string(t) + "-" + std::to_string(n);
          proof.client_id = client.id;
          proof.claim_type = "age_over_18";
          proof.circuit_version = "1.0.0";
          proof.status = "verified";
          proof.public_hash = std::string(64, 'a');
          proof.request_nonce = proof.id;
          proof.created_at = 1'790'000'000'000;
          proof.verified_at = proof.created_at;
          pg::core::IdempotencyRecord answer{client.id,
                                             "k-" + proof.id,
                                             std::string(64, 'b'),
                                             200,
                                             R"({"status":"verified"})",
                                             proof.created_at + 1};
          const auto start = Clock::now();
          if (store.record_proof(proof, nullptr, &answer) != pg::core::RecordOutcome::kStored) {
            std::cerr << "store_commit_bench: nonce taken: " << proof.id << "\n";
            std::exit(1);
          }
          latencies[t].push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
      });
    }
    const auto before = store.commit_stats();
    const auto start = Clock::now();
    go = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& w : workers) w.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const auto after = store.commit_stats();

    std::vector<double> all;
    for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    const auto pct = [&](double p) {
      return all.empty() ? 0.0
                         : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
    };
    const double writes = static_cast<double>(after.writes - before.writes);
    const double groups = static_cast<double>(after.groups - before.groups);
    std::printf(
        "{\"threads\":%d,\"max_group\":%zu,\"synchronous\":\"%s\",\"seconds\":%.2f,"
        "\"writes\":%.0f,\"writes_per_second\":%.1f,\"transactions_per_second\":%.1f,"
        "\"writes_per_transaction\":%.2f,\"latency_p50_us\":%.1f,\"latency_p95_us\":%.1f}\n",
        threads, max_group, synchronous.c_str(), elapsed, writes, writes / elapsed,
        groups / elapsed, groups > 0 ? writes / groups : 0.0, pct(0.50), pct(0.95));
  } catch (const std::exception& e) {
    std::cerr << "store_commit_bench: " << e.what() << "\n";
    status = 1;
  }
  std::error_code ignored;
  fs::remove_all(work, ignored);
  return status;
}
