// One-shot reads of an issuer's signed root feed: the GET the follower's long polls use, and the
// whole chain from seq 1 checked entry by entry as the follower checks it (signatures, keys
// announced and retired, seq, prev_root, roots never repeating). Used where no store keeps the
// chain between runs (`proofgate chain publish-roots`).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "crypto/result.hpp"
#include "feed/follower.hpp"
#include "feed/root_feed.hpp"
#include "webhooks/url.hpp"

namespace pg::feed {

/// How far ahead of the reader's clock an entry's issued_at may be: a signer cannot date an entry
/// into the future to stretch a retiring key's overlap.
inline constexpr std::int64_t kMaxClockSkewMs = 5 * 60 * 1000;

struct Fetched {
  int status = 0;
  std::string body;
  std::string error;  // empty when an HTTP answer came
};

/// One GET of `target` on the feed's node (plain, or TLS with the system's CAs) under a deadline;
/// returns early (error "stopped") when `stopping` becomes true.
Fetched fetch_feed(const webhooks::WebhookUrl& url, const std::string& target,
                   std::chrono::milliseconds timeout, const std::atomic<bool>& stopping);

/// Every entry of the source's feed from seq 1, each checked against the chain before it with the
/// configured keys as the trust anchors and a reused root refused. The error names the issuer and
/// the first entry refused (or the fetch that failed); nothing of a refused chain is returned.
crypto::Result<std::vector<FeedEntry>, std::string> read_verified_chain(
    const FeedSource& source, std::chrono::milliseconds timeout, std::int64_t now_ms);

}  // namespace pg::feed
