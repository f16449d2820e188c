// The verifier's side of the signed root feeds: one thread per configured issuer follows its
// feed (long polls), checks every entry's signature and its place in the chain, and publishes
// the roots it accepts into the store the verify path reads. A refused entry changes nothing:
// it is counted, logged at error level, and the follower keeps its last good state.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/ports.hpp"
#include "crypto/result.hpp"
#include "feed/root_feed.hpp"

namespace pg::feed {

/// One issuer's feed as the operator configured it.
struct FeedSource {
  std::uint32_t issuer_id = 0;
  std::string issuer;                    // "moha", "tu", "nrb"
  std::string url;                       // the issuer node's base URL: http(s)://host:port
  std::vector<std::string> public_keys;  // base64url raw Ed25519 keys trusted from the start
  bool sandbox = false;  // a sandbox issuer's feed: its roots are for test clients only
};

/// Parses the `issuer_feeds` setting (or, `sandbox`, `sandbox_issuer_feeds`): comma-separated
/// `ISSUER|URL|KEY[+KEY...]`, e.g. `moha|http://127.0.0.1:7101|3q2-7w...`. Each issuer at most
/// once; the error names the setting and the part.
crypto::Result<std::vector<FeedSource>, std::string> parse_feed_sources(std::string_view text,
                                                                        bool sandbox = false);

struct FollowerSettings {
  std::chrono::seconds wait{25};                                  // the long poll's wait
  std::chrono::milliseconds timeout{35000};                       // one fetch, wait included
  std::chrono::milliseconds min_backoff{100}, max_backoff{5000};  // after a failure
};

/// What /metrics shows of one issuer's feed.
struct FeedStatus {
  std::string issuer;
  std::uint64_t seq = 0;       // the last accepted entry
  std::int64_t issued_at = 0;  // its issue time (ms)
  std::uint64_t accepted = 0;
  std::uint64_t fetch_errors = 0;
  std::map<std::string, std::uint64_t> refused;  // by refusal_name
};

/// Follows every configured feed until stop() (or destruction).
class FeedFollower {
 public:
  /// Resumes each issuer's chain from `store`: after its last stored entry, trusting the stored
  /// keys (a stored retirement wins over the configuration) and each configured key the store
  /// does not know; every disagreement with the configuration is logged at warn level.
  FeedFollower(core::Store& store, const core::Clock& clock, std::vector<FeedSource> sources,
               FollowerSettings settings = {});
  ~FeedFollower();
  FeedFollower(const FeedFollower&) = delete;
  FeedFollower& operator=(const FeedFollower&) = delete;

  void start();
  void stop();

  std::vector<FeedStatus> status() const;
  /// The Prometheus exposition of status().
  std::string render_metrics() const;

 private:
  struct Issuer;
  void run(Issuer& issuer);
  /// One long poll and what came of it; false when the follower should back off.
  bool follow_once(Issuer& issuer);
  /// Applies one answer's entries; false when one was refused (the rest are dropped).
  bool apply(Issuer& issuer, const std::vector<FeedEntry>& entries);
  void backoff(std::chrono::milliseconds& delay);

  core::Store& store_;
  const core::Clock& clock_;
  FollowerSettings settings_;
  std::vector<std::unique_ptr<Issuer>> issuers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;  // guards each Issuer's status and the stop wait
  std::condition_variable stop_cv_;
};

}  // namespace pg::feed
