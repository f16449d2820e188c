// One-shot feed reads: the GET shared with the follower, and a whole chain read and checked.
#include "feed/feed_reader.hpp"

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <set>
#include <variant>

#include "core/secrets.hpp"
#include "net/http_exchange.hpp"

namespace pg::feed {
namespace asio = boost::asio;

namespace {

/// The largest feed answer read (500 entries of about 450 bytes, with room to spare).
constexpr std::uint64_t kMaxAnswer = 1 << 20;

}  // namespace

Fetched fetch_feed(const webhooks::WebhookUrl& url, const std::string& target,
                   std::chrono::milliseconds timeout, const std::atomic<bool>& stopping) {
  Fetched out;
  std::unique_ptr<asio::ssl::context> tls;
  if (url.scheme == "https") {
    auto made = net::client_tls_context();
    if (auto* problem = std::get_if<std::string>(&made)) {
      out.error = std::move(*problem);
      return out;
    }
    tls = std::move(std::get<std::unique_ptr<asio::ssl::context>>(made));
  }
  const net::Peer peer{url.host, url.port, url.host_is_ip, url.host_header(), {}};
  const net::Request req{"GET", target, {{"User-Agent", "proofgate-feed/1"}}, ""};
  net::Limits limits;
  limits.timeout = timeout;
  limits.max_body = kMaxAnswer;
  limits.stop = &stopping;
  net::Answer answer = net::exchange(peer, req, tls.get(), limits);
  if (!answer.answered) {
    out.error = net::describe(answer, peer, timeout);
    return out;
  }
  out.status = answer.status;
  out.body = std::move(answer.body);
  return out;
}

crypto::Result<std::vector<FeedEntry>, std::string> read_verified_chain(
    const FeedSource& source, std::chrono::milliseconds timeout, std::int64_t now_ms) {
  const std::string who = "issuer " + source.issuer + " feed";
  const auto parsed_url = webhooks::parse_webhook_url(source.url + "/");
  if (const auto* e = std::get_if<std::string>(&parsed_url)) return who + ": url: " + *e;
  const auto& url = std::get<webhooks::WebhookUrl>(parsed_url);

  std::vector<TrustedKey> keys;
  for (const std::string& k : source.public_keys) {
    const auto raw = core::base64url_decode(k);
    if (!raw || raw->size() != 32) return who + ": a configured key is not a 32-byte Ed25519 key";
    keys.push_back({key_id_of(*raw), k, 0});
  }
  ChainState chain(source.issuer_id, std::move(keys));
  std::set<std::string> roots;
  std::vector<FeedEntry> out;
  const std::atomic<bool> never_stop{false};
  for (;;) {
    const std::string target = "/issuer/v1/roots?since=" + std::to_string(chain.seq());
    const Fetched got = fetch_feed(url, target, timeout, never_stop);
    if (!got.error.empty()) return who + ": " + got.error;
    if (got.status != 200) return who + ": answered HTTP " + std::to_string(got.status);
    auto entries = parse_feed_answer(got.body, source.issuer_id);
    if (!entries) return who + ": malformed answer: " + entries.error();
    if (entries->empty()) return out;
    for (const FeedEntry& entry : *entries) {
      auto verdict = chain.accept(entry, roots.contains(entry.root));
      if (!verdict.refusal && entry.issued_at > now_ms + kMaxClockSkewMs) {
        verdict = {Refusal::kMalformed, "issued_at is in the future (beyond the allowed skew)"};
      }
      if (verdict.refusal) {
        return who + ": entry seq " + std::to_string(entry.seq) + " refused (" +
               std::string(refusal_name(*verdict.refusal)) + "): " + verdict.detail;
      }
      roots.insert(entry.root);
      out.push_back(entry);
    }
  }
}

}  // namespace pg::feed
