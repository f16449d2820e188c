// The admin use cases (see admin_service.hpp).
#include "core/admin_service.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "core/catalog.hpp"
#include "core/oauth.hpp"
#include "core/service.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {

constexpr std::int64_t kMaxOverlapSeconds = std::int64_t{30} * 86400;
constexpr std::int64_t kMaxRetentionDays = std::int64_t{100} * 366;
constexpr std::size_t kMaxRetentionBatch = 100000;
constexpr std::size_t kMaxDeliveryLimit = 1000;

}  // namespace

/// A lowercase DNS name: letters, digits, '-' and '.', no empty label, at most 253 characters.
bool is_domain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (const char c : s) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

namespace {

json::array strings(const std::vector<std::string>& values) {
  return json::array(values.begin(), values.end());
}

}  // namespace

std::string url_host(std::string_view url) {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos)
    url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (const auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  if (!url.empty() && url.front() == '[')
    return std::string(url.substr(0, url.find(']') + 1));  // [IPv6]
  return std::string(url.substr(0, url.find(':')));
}

AuditEntry AdminService::entry(const Actor& actor, std::string_view action,
                               std::string details_json) const {
  AuditEntry e;
  e.actor_type = actor.type;
  e.actor_id = actor.id;
  e.action = std::string(action);
  e.details_json = std::move(details_json);
  e.at = p_.clock.now_ms();
  return e;
}

void AdminService::notify() const {
  if (p_.notify_worker) p_.notify_worker();
}

Outcome<CreatedClient> AdminService::create_client(const Actor& actor, const NewClient& spec) {
  if (spec.name.empty() || spec.name.size() > 200)
    return invalid("name", "must be 1 to 200 characters");
  if (spec.scopes.empty()) return invalid("scopes", "at least one claim type");
  for (const auto& s : spec.scopes) {
    if (!is_claim_type(s)) return invalid("scopes", "unknown claim type '" + s + "'");
  }
  if (spec.domains.empty()) return invalid("domains", "at least one verifier domain");
  for (std::size_t i = 0; i < spec.domains.size(); ++i) {
    const std::string& d = spec.domains[i];
    if (!is_domain(d)) return invalid("domains", "'" + d + "' is not a lowercase DNS name");
    if (std::find(spec.domains.begin(), spec.domains.begin() + static_cast<std::ptrdiff_t>(i), d) !=
        spec.domains.begin() + static_cast<std::ptrdiff_t>(i)) {
      return invalid("domains", "'" + d + "' is listed twice");
    }
  }
  if (!spec.webhook_url.empty()) {
    if (const auto refused = p_.webhooks.refuse(spec.webhook_url, spec.allow_loopback_webhook))
      return invalid("webhook_url", *refused);
  }
  const UnixMillis now = p_.clock.now_ms();
  const auto make_side = [&](Mode mode) {
    CreatedSide side;
    Client& c = side.client;
    c.id = uuid_v4();
    c.name = spec.name;
    c.mode = mode;
    const ApiKey key = new_api_key(mode);
    side.api_key = key.text;
    c.key_prefix = key.prefix;
    c.key_hash = key.hash;
    c.scopes = spec.scopes;
    c.domains = spec.domains;
    // The test twin starts without a webhook URL: test events never go to the live URL. The
    // partner gives the twin a URL of its own (rotate-webhook-secret on the twin's id).
    if (mode == Mode::kLive || spec.test_only) c.webhook_url = spec.webhook_url;
    if (!c.webhook_url.empty()) {
      side.webhook_secret = p_.webhooks.new_secret();
      c.webhook_secret_sealed = seal(p_.master_key, side.webhook_secret, c.id);
    }
    const ClientSecret client_secret = new_client_secret();
    side.client_secret = client_secret.text;
    c.client_secret_hash.assign(client_secret.hash.begin(), client_secret.hash.end());
    c.created_at = now;
    return side;
  };
  CreatedClient out;
  static_cast<CreatedSide&>(out) = make_side(spec.test_only ? Mode::kTest : Mode::kLive);
  const Client& c = out.client;
  if (!spec.test_only) {
    out.test = make_side(Mode::kTest);
    out.test->client.live_client_id = c.id;
  }
  // Never the API key, its prefix or the webhook secret; of the webhook URL only its host.
  json::object details{{"client_id", c.id},
                       {"name", c.name},
                       {"mode", mode_name(c.mode)},
                       {"scopes", strings(c.scopes)},
                       {"domains", strings(c.domains)}};
  if (out.test) details["test_client_id"] = out.test->client.id;
  if (!c.webhook_url.empty()) details["webhook_host"] = url_host(c.webhook_url);
  if (const auto taken =
          p_.changes.create_client(c, out.test ? &out.test->client : nullptr,
                                   entry(actor, "client.created", json::serialize(details)))) {
    return conflict("domains", "the verifier domain '" + *taken +
                                   "' belongs to another partner (a domain has one partner)");
  }
  return out;
}

std::vector<Client> AdminService::list_clients() {
  return p_.store.list_clients();
}

Outcome<RevokedKey> AdminService::revoke_key(const Actor& actor, std::string_view client_id) {
  if (client_id.empty()) return invalid("client_id", "must not be empty");
  const UnixMillis now = p_.clock.now_ms();
  // The key itself is not known here (only its hash is stored); the audit names the partner.
  const json::object details{{"client_id", client_id}};
  switch (p_.changes.revoke_key(client_id, now,
                                entry(actor, "client.key_revoked", json::serialize(details)))) {
    case RevokeOutcome::kUnknownClient:
      return not_found("client_id", "no partner with this id");
    case RevokeOutcome::kAlreadyRevoked:
      return RevokedKey{std::string(client_id), 0, true};
    case RevokeOutcome::kRevoked:
      break;
  }
  return RevokedKey{std::string(client_id), now, false};
}

Outcome<IssuerRoot> AdminService::publish_root(const Actor& actor, std::uint32_t issuer_id,
                                               std::string_view root, bool sandbox) {
  if (issuer_id == 0) return invalid("issuer_id", "must be positive");
  if (auto parsed = crypto::snarkjs::fr_from_decimal(json::value(json::string_view(root)), "root");
      !parsed) {
    return invalid("root", parsed.error().message);
  }
  const UnixMillis now = p_.clock.now_ms();
  IssuerRoot published{issuer_id, std::string(root), now, 0, 0, now, sandbox};
  json::object details{{"issuer_id", issuer_id}, {"root", root}};
  if (sandbox) details["sandbox"] = true;
  const auto outcome = p_.changes.publish_root(
      published, now, entry(actor, "root.published", json::serialize(details)));
  if (outcome == PublishOutcome::kReplacedBefore) {
    // Making an old root current again would un-revoke every credential revoked since.
    return ApiError{ErrorCode::kConflict, "root",
                    "was a root of issuer " + std::to_string(issuer_id) +
                        " before and was replaced; a replaced root never becomes current again"};
  }
  if (outcome == PublishOutcome::kOtherSide) {
    return ApiError{ErrorCode::kConflict, "root",
                    std::string("is already a ") + (sandbox ? "live" : "sandbox") +
                        " root of issuer " + std::to_string(issuer_id) +
                        "; a root belongs to one side, never to both sandbox and live"};
  }
  return published;
}

Outcome<bool> AdminService::set_circuit_enabled(const Actor& actor, std::string_view claim_type,
                                                std::string_view version, bool enabled) {
  if (!is_claim_type(claim_type))
    return invalid("claim_type", "unknown claim type '" + std::string(claim_type) + "'");
  if (!is_semver(version)) return invalid("version", "must be MAJOR.MINOR.PATCH");
  p_.changes.set_circuit_enabled(
      claim_type, version, enabled, p_.clock.now_ms(),
      entry(actor, "circuit.enabled_set",
            json::serialize(json::object{
                {"claim_type", claim_type}, {"version", version}, {"enabled", enabled}})));
  return enabled;
}

Outcome<RotatedSecret> AdminService::rotate_webhook_secret(const Actor& actor,
                                                           std::string_view client_id,
                                                           std::int64_t overlap_seconds,
                                                           std::string_view webhook_url,
                                                           bool allow_loopback_webhook) {
  if (overlap_seconds < 0 || overlap_seconds > kMaxOverlapSeconds)
    return invalid("overlap_seconds", "must be 0 to 2592000 (30 days)");
  const auto target = p_.outbox.webhook_target(client_id);
  if (!target) return not_found("client_id", "no partner with this id");
  if (!webhook_url.empty()) {
    if (const auto refused = p_.webhooks.refuse(webhook_url, allow_loopback_webhook))
      return invalid("webhook_url", *refused);
  } else if (target->url.empty()) {
    return invalid("webhook_url", "the partner has no webhook URL yet; give one");
  }
  RotatedSecret out{std::string(client_id), p_.webhooks.new_secret(),
                    p_.clock.now_ms() + overlap_seconds * 1000};
  json::object details{{"client_id", client_id},
                       {"overlap_seconds", overlap_seconds},
                       {"previous_secret_signs_until", rfc3339(out.previous_signs_until)}};
  if (!webhook_url.empty()) details["new_webhook_host"] = url_host(webhook_url);
  if (!p_.changes.rotate_webhook_secret(
          client_id, seal(p_.master_key, out.webhook_secret, client_id), out.previous_signs_until,
          webhook_url, entry(actor, "webhook_secret.rotated", json::serialize(details)))) {
    return not_found("client_id", "no partner with this id");
  }
  return out;
}

Outcome<std::vector<Delivery>> AdminService::list_deliveries(std::string_view client_id,
                                                             std::string_view status,
                                                             std::size_t limit) {
  if (!client_id.empty() && !is_uuid(client_id))
    return invalid("client_id", "must be a partner id");
  if (!status.empty() && status != kDeliveryPending && status != kDeliveryDelivered &&
      status != kDeliveryDead) {
    return invalid("status", "must be pending, delivered or dead");
  }
  if (limit < 1 || limit > kMaxDeliveryLimit)
    return invalid("limit", "must be an integer from 1 to 1000");
  return p_.outbox.list_deliveries(client_id, status, limit);
}

Outcome<DeliveryDetail> AdminService::find_delivery(std::string_view event_id) {
  auto d = p_.outbox.find_delivery(event_id);
  if (!d) return not_found("event_id", "no delivery with this event id");
  DeliveryDetail out{std::move(*d), {}};
  out.attempts = p_.outbox.delivery_attempts(out.delivery.event.event_id);
  return out;
}

Outcome<Delivery> AdminService::replay(const Actor& actor, std::string_view event_id) {
  const auto d = p_.outbox.find_delivery(event_id);
  if (!d) return not_found("event_id", "no delivery with this event id");
  const json::object details{{"event_id", d->event.event_id},
                             {"client_id", d->event.client_id},
                             {"event_type", d->event.event_type},
                             {"previous_status", d->status},
                             {"attempts", d->attempts}};
  if (!p_.changes.replay(d->event.event_id, p_.clock.now_ms(),
                         entry(actor, "delivery.replayed", json::serialize(details)))) {
    return conflict("event_id", "the delivery is pending already");
  }
  notify();
  const auto now_pending = p_.outbox.find_delivery(d->event.event_id);
  if (!now_pending) return not_found("event_id", "no delivery with this event id");
  return *now_pending;
}

Outcome<OutboxEvent> AdminService::test_webhook(const Actor& actor, std::string_view client_id) {
  const auto target = is_uuid(client_id) ? p_.outbox.webhook_target(client_id) : std::nullopt;
  if (!target) return not_found("client_id", "no partner with this id");
  if (target->url.empty()) return invalid("client_id", "the partner has no webhook URL");
  const UnixMillis now = p_.clock.now_ms();
  OutboxEvent e;
  e.event_id = uuid_v4();
  e.client_id = std::string(client_id);
  e.event_type = "webhook.test";
  const auto client = p_.store.find_client(client_id);
  e.payload = json::serialize(json::object{{"event", "webhook.test"},
                                           {"mode", mode_name(client ? client->mode : Mode::kLive)},
                                           {"event_id", e.event_id},
                                           {"ts", rfc3339(now)}});
  e.created_at = now;
  p_.changes.enqueue_event(
      e, now,
      entry(actor, "webhook.test_sent",
            json::serialize(json::object{{"client_id", client_id}, {"event_id", e.event_id}})));
  notify();
  return e;
}

Outcome<std::vector<AuditEntry>> AdminService::export_audit(UnixMillis from, UnixMillis to,
                                                            std::size_t limit) {
  if (to < from) return invalid("to", "before from");
  if (limit < 1) return invalid("limit", "must be at least 1");
  return p_.audit.list_audit(from, to, limit);
}

Outcome<std::vector<AuditEntry>> AdminService::latest_audit(std::size_t limit) {
  if (limit < 1 || limit > 200) return invalid("limit", "must be 1 to 200");
  return p_.audit.latest_audit(limit);
}

Outcome<RetentionRun> AdminService::retention(
    const Actor& actor, std::int64_t older_than_days, std::size_t batch,
    const std::function<std::string(const std::vector<AuditEntry>&)>& archive) {
  if (older_than_days < 0 || older_than_days > kMaxRetentionDays)
    return invalid("older_than_days", "must be 0 to 36600");
  if (batch < 1 || batch > kMaxRetentionBatch) return invalid("batch", "must be 1 to 100000");
  RetentionRun run;
  run.older_than_days = older_than_days;
  run.cutoff = p_.clock.now_ms() - older_than_days * 86'400'000;
  const auto details = [&](std::size_t archived, const std::string* file) {
    json::object o{{"cutoff", rfc3339(run.cutoff)},
                   {"older_than_days", older_than_days},
                   {"archived", archived}};
    if (file != nullptr) o["file"] = *file;
    return json::serialize(o);
  };
  run.archived =
      p_.changes.archive_audit_before(run.cutoff, batch, [&](const std::vector<AuditEntry>& rows) {
        run.files.push_back(archive(rows));
        return entry(actor, "retention.archived", details(rows.size(), &run.files.back()));
      });
  // Nothing changed: the run is still on record.
  if (run.archived == 0)
    p_.audit.record_audit(entry(actor, "retention.archived", details(0, nullptr)));
  return run;
}

Outcome<Anonymised> AdminService::anonymise_user(const Actor& actor, std::string_view user_id) {
  if (user_id.empty()) return invalid("user_id", "must not be empty");
  Anonymised out{hex(sha256(user_id)), 0};
  out.proofs_anonymised = p_.changes.anonymise_user(user_id, [&](std::size_t changed) {
    return entry(actor, "user.anonymised",
                 json::serialize(json::object{{"user_id_sha256", out.user_id_sha256},
                                              {"proofs_anonymised", changed}}));
  });
  return out;
}

}  // namespace pg::core
