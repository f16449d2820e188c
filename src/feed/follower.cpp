// Feed followers: long-poll GETs (net::exchange, plain or TLS with the system's CAs), the chain
// check of root_feed.hpp, and the store's publish_feed_root (the root and the keys it announced or
// retired) for every accepted entry.
#include "feed/follower.hpp"

#include <algorithm>
#include <memory>
#include <random>
#include <variant>

#include "core/catalog.hpp"
#include "core/secrets.hpp"
#include "log/log.hpp"
#include "feed/feed_reader.hpp"
#include "webhooks/url.hpp"

namespace pg::feed {

namespace {

bool is_b64url_key(std::string_view key) {
  return key.size() == 43 && std::all_of(key.begin(), key.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto at = text.find(sep, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

/// The keys a follower starts with: the stored chain's keys (announced by the feed, or configured
/// keys it retired) and each configured key the store does not know (the trust anchors). A stored
/// retirement wins: configuration cannot un-retire a key. Each disagreement is logged at warn.
std::vector<TrustedKey> restore_keys(const FeedSource& source,
                                     const std::vector<core::FeedKey>& stored) {
  std::vector<TrustedKey> keys;
  for (const core::FeedKey& k : stored) keys.push_back({k.key_id, k.public_key, k.valid_until});
  std::vector<std::string> configured;
  for (const std::string& k : source.public_keys) {
    const auto raw = core::base64url_decode(k);
    const std::string id = key_id_of(raw ? *raw : std::string());
    configured.push_back(id);
    const auto known =
        std::find_if(keys.begin(), keys.end(), [&](const TrustedKey& t) { return t.key_id == id; });
    if (known == keys.end()) {
      keys.push_back({id, k, 0});
    } else if (known->valid_until != 0) {
      log::warn(
          "issuer_feeds names a key the feed retired; it stays retired",
          {{"issuer", source.issuer}, {"key_id", id}, {"valid_until_ms", known->valid_until}});
    }
  }
  for (const core::FeedKey& k : stored) {
    if (k.valid_until == 0 &&
        std::find(configured.begin(), configured.end(), k.key_id) == configured.end()) {
      log::warn(
          "the feed's current key is not in issuer_feeds; trusted as the stored chain says",
          {{"issuer", source.issuer}, {"key_id", k.key_id}, {"announced_seq", k.announced_seq}});
    }
  }
  return keys;
}

/// The keys `entry` announced or retired: those of `after` that `before` lacks or holds with
/// another end. An announced key carries the entry's seq; a retired one 0 (a stored row keeps its
/// own announced_seq).
std::vector<core::FeedKey> changed_keys(const ChainState& before, const ChainState& after,
                                        const FeedEntry& entry, bool sandbox) {
  std::vector<core::FeedKey> out;
  for (const TrustedKey& k : after.keys()) {
    const auto old = std::find_if(before.keys().begin(), before.keys().end(),
                                  [&](const TrustedKey& t) { return t.key_id == k.key_id; });
    if (old == before.keys().end()) {
      out.push_back({after.issuer_id(), k.key_id, k.public_key, k.valid_until, entry.seq, sandbox});
    } else if (old->valid_until != k.valid_until) {
      out.push_back({after.issuer_id(), k.key_id, k.public_key, k.valid_until, 0, sandbox});
    }
  }
  return out;
}

}  // namespace

crypto::Result<std::vector<FeedSource>, std::string> parse_feed_sources(std::string_view text,
                                                                        bool sandbox) {
  const std::string setting = sandbox ? "sandbox_issuer_feeds: " : "issuer_feeds: ";
  std::vector<FeedSource> out;
  if (text.empty()) return out;
  for (const std::string_view item : split(text, ',')) {
    const auto parts = split(item, '|');
    if (parts.size() != 3) {
      return setting + "\"" + std::string(item) + "\" is not ISSUER|URL|KEY[+KEY...]";
    }
    FeedSource source;
    source.sandbox = sandbox;
    source.issuer = std::string(parts[0]);
    source.issuer_id = core::issuer_id_of(parts[0]);
    if (source.issuer_id == 0) {
      return setting + "\"" + source.issuer + "\" is not an issuer (moha, tu, nrb)";
    }
    if (std::any_of(out.begin(), out.end(),
                    [&](const FeedSource& s) { return s.issuer_id == source.issuer_id; })) {
      return setting + source.issuer + " is named twice";
    }
    const auto url = webhooks::parse_webhook_url(parts[1]);
    if (const auto* e = std::get_if<std::string>(&url)) {
      return setting + source.issuer + ": " + *e;
    }
    if (std::get<webhooks::WebhookUrl>(url).target != "/") {
      return setting + source.issuer + ": the URL must be the issuer node's base URL";
    }
    source.url = std::string(parts[1]);
    while (source.url.ends_with('/')) source.url.pop_back();
    for (const std::string_view key : split(parts[2], '+')) {
      if (!is_b64url_key(key)) {
        return setting + source.issuer + ": a key is not base64url of a 32-byte Ed25519 public key";
      }
      source.public_keys.emplace_back(key);
    }
    out.push_back(std::move(source));
  }
  return out;
}

struct FeedFollower::Issuer {
  FeedSource source;
  webhooks::WebhookUrl url;
  ChainState chain;
  FeedStatus status;
};

FeedFollower::FeedFollower(core::Store& store, const core::Clock& clock,
                           std::vector<FeedSource> sources, FollowerSettings settings)
    : store_(store), clock_(clock), settings_(settings) {
  for (auto& s : sources) {
    // The keys the chain announced or retired before a restart are stored with its roots.
    // A sandbox feed's metrics and log lines name it apart: "moha-sandbox".
    if (s.sandbox) s.issuer += "-sandbox";
    std::vector<TrustedKey> keys = restore_keys(s, store_.feed_keys(s.issuer_id, s.sandbox));
    auto url = std::get<webhooks::WebhookUrl>(webhooks::parse_webhook_url(s.url + "/"));
    const std::uint32_t id = s.issuer_id;
    const bool sandbox = s.sandbox;
    const std::string name = s.issuer;
    issuers_.push_back(std::unique_ptr<Issuer>(
        new Issuer{std::move(s), std::move(url), ChainState(id, std::move(keys)), {}}));
    issuers_.back()->status.issuer = name;
    // Resume after the last entry stored (this process's earlier run or another instance).
    if (const auto last = store_.latest_feed_root(id, sandbox)) {
      issuers_.back()->chain.resume(last->seq, last->root, last->issued_at);
      issuers_.back()->status.seq = last->seq;
      issuers_.back()->status.issued_at = last->issued_at;
    }
  }
}

FeedFollower::~FeedFollower() {
  stop();
}

void FeedFollower::start() {
  for (auto& issuer : issuers_) threads_.emplace_back([this, &i = *issuer] { run(i); });
}

void FeedFollower::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void FeedFollower::backoff(std::chrono::milliseconds& delay) {
  static thread_local std::minstd_rand jitter(std::random_device{}());
  const auto wait = delay / 2 + std::chrono::milliseconds(jitter() % (delay.count() / 2 + 1));
  std::unique_lock lock(mu_);
  stop_cv_.wait_for(lock, wait, [&] { return stopping_.load(); });
  delay = std::min(delay * 2, settings_.max_backoff);
}

void FeedFollower::run(Issuer& issuer) {
  std::chrono::milliseconds delay = settings_.min_backoff;
  while (!stopping_) {
    // Nothing may end this thread but stop(): a storage error (PostgreSQL restarting, SQLite
    // busy) is counted, logged and retried like a failed fetch, never std::terminate.
    try {
      if (follow_once(issuer)) {
        delay = settings_.min_backoff;
      } else {
        backoff(delay);
      }
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mu_);
        ++issuer.status.fetch_errors;
      }
      log::error("feed follower failed; retrying",
                 {{"issuer", issuer.source.issuer}, {"error", e.what()}});
      backoff(delay);
    }
  }
}

bool FeedFollower::follow_once(Issuer& issuer) {
  const std::string target = "/issuer/v1/roots?since=" + std::to_string(issuer.chain.seq()) +
                             "&wait=" + std::to_string(settings_.wait.count());
  const auto started = std::chrono::steady_clock::now();
  Fetched got = fetch_feed(issuer.url, target, settings_.timeout, stopping_);
  if (stopping_) return true;
  std::string problem;
  if (!got.error.empty()) {
    problem = got.error;
  } else if (got.status != 200) {
    problem = "answered HTTP " + std::to_string(got.status);
  }
  if (!problem.empty()) {
    {
      std::lock_guard lock(mu_);
      ++issuer.status.fetch_errors;
    }
    log::warn("feed fetch failed", {{"issuer", issuer.source.issuer}, {"error", problem}});
    return false;
  }
  auto entries = parse_feed_answer(got.body, issuer.source.issuer_id);
  if (!entries) {
    {
      std::lock_guard lock(mu_);
      ++issuer.status.refused[std::string(refusal_name(Refusal::kMalformed))];
    }
    log::error(
        "feed answer refused",
        {{"issuer", issuer.source.issuer}, {"reason", "malformed"}, {"detail", entries.error()}});
    return false;
  }
  if (entries->empty()) {
    // An empty answer well before the wait ended (a node that holds no more long polls answers
    // at once): back off rather than ask again in a tight loop.
    return std::chrono::steady_clock::now() - started >= settings_.wait / 2;
  }
  return apply(issuer, *entries);
}

bool FeedFollower::apply(Issuer& issuer, const std::vector<FeedEntry>& entries) {
  for (const FeedEntry& entry : entries) {
    const auto known = store_.find_root(issuer.source.issuer_id, entry.root, issuer.source.sandbox);
    // Stored already under this seq (another instance took it first): still checked in full.
    const bool same_entry = known && known->seq == entry.seq;
    // The chain moves only once the entry is stored: a storage error leaves it where it was,
    // so the entry is fetched again (else a revocation could be skipped for good).
    ChainState next = issuer.chain;
    auto verdict = next.accept(entry, known && !same_entry);
    if (!verdict.refusal && entry.issued_at > clock_.now_ms() + kMaxClockSkewMs) {
      verdict = {Refusal::kMalformed, "entry seq " + std::to_string(entry.seq) +
                                          ": issued_at is in the future (beyond the allowed skew)"};
    }
    if (verdict.refusal) {
      {
        std::lock_guard lock(mu_);
        ++issuer.status.refused[std::string(refusal_name(*verdict.refusal))];
      }
      log::error("feed entry refused", {{"issuer", issuer.source.issuer},
                                        {"reason", std::string(refusal_name(*verdict.refusal))},
                                        {"detail", verdict.detail}});
      return false;
    }
    if (!same_entry) {
      // The keys the entry announced or retired go in the root's transaction: a restart then
      // trusts exactly what the stored chain does.
      const auto outcome = store_.publish_feed_root(
          core::IssuerRoot{issuer.source.issuer_id, entry.root, 0, 0, entry.seq, entry.issued_at,
                           issuer.source.sandbox},
          changed_keys(issuer.chain, next, entry, issuer.source.sandbox), clock_.now_ms());
      if (outcome == core::PublishOutcome::kReplacedBefore) {
        // An operator's override used this root and replaced it since: never current again.
        log::error("feed root was replaced before; not made current",
                   {{"issuer", issuer.source.issuer}, {"seq", std::to_string(entry.seq)}});
      } else if (outcome == core::PublishOutcome::kOtherSide) {
        // A sandbox root never becomes live, nor a live root sandbox.
        log::error("feed root belongs to the issuer's other side; not made current",
                   {{"issuer", issuer.source.issuer},
                    {"seq", std::to_string(entry.seq)},
                    {"sandbox", issuer.source.sandbox ? "true" : "false"}});
      }
    }
    issuer.chain = std::move(next);
    std::lock_guard lock(mu_);
    ++issuer.status.accepted;
    issuer.status.seq = entry.seq;
    issuer.status.issued_at = entry.issued_at;
  }
  return true;
}

std::vector<FeedStatus> FeedFollower::status() const {
  std::lock_guard lock(mu_);
  std::vector<FeedStatus> out;
  for (const auto& i : issuers_) out.push_back(i->status);
  return out;
}

std::string FeedFollower::render_metrics() const {
  const auto all = status();
  if (all.empty()) return "";
  std::string out;
  out += "# HELP proofgate_feed_seq The last accepted entry of each issuer's signed root feed.\n";
  out += "# TYPE proofgate_feed_seq gauge\n";
  for (const auto& s : all) {
    out += "proofgate_feed_seq{issuer=\"" + s.issuer + "\"} " + std::to_string(s.seq) + "\n";
  }
  out +=
      "# HELP proofgate_feed_root_issued_timestamp_seconds When the issuer signed its last "
      "accepted root.\n";
  out += "# TYPE proofgate_feed_root_issued_timestamp_seconds gauge\n";
  for (const auto& s : all) {
    out += "proofgate_feed_root_issued_timestamp_seconds{issuer=\"" + s.issuer + "\"} " +
           std::to_string(s.issued_at / 1000) + "\n";
  }
  out += "# HELP proofgate_feed_entries_accepted_total Feed entries accepted.\n";
  out += "# TYPE proofgate_feed_entries_accepted_total counter\n";
  for (const auto& s : all) {
    out += "proofgate_feed_entries_accepted_total{issuer=\"" + s.issuer + "\"} " +
           std::to_string(s.accepted) + "\n";
  }
  out +=
      "# HELP proofgate_feed_entries_refused_total Feed entries (or answers) refused, by "
      "reason: the follower kept its last good state.\n";
  out += "# TYPE proofgate_feed_entries_refused_total counter\n";
  for (const auto& s : all) {
    for (const auto& [reason, n] : s.refused) {
      out += "proofgate_feed_entries_refused_total{issuer=\"" + s.issuer + "\",reason=\"" + reason +
             "\"} " + std::to_string(n) + "\n";
    }
  }
  out += "# HELP proofgate_feed_fetch_errors_total Feed fetches that got no usable answer.\n";
  out += "# TYPE proofgate_feed_fetch_errors_total counter\n";
  for (const auto& s : all) {
    out += "proofgate_feed_fetch_errors_total{issuer=\"" + s.issuer + "\"} " +
           std::to_string(s.fetch_errors) + "\n";
  }
  return out;
}

}  // namespace pg::feed
