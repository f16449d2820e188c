// The admin use cases (partners, keys, roots, circuit versions, webhook deliveries, the audit trail
// and retention), each writing its audit entry in the same transaction as its change. The CLI
// (`proofgate admin`) and the admin API (/api/admin) are thin callers: parse, call, present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/audit.hpp"
#include "core/errors.hpp"
#include "core/model.hpp"
#include "core/outbox.hpp"
#include "core/outcome.hpp"
#include "core/ports.hpp"
#include "core/roles.hpp"
#include "core/secrets.hpp"
#include "core/usage.hpp"

namespace pg::core {

/// A use case's refusal is core's one error value (errors.hpp): INVALID_REQUEST for a malformed
/// value, NOT_FOUND for an unknown partner or delivery, CONFLICT when the current state refuses the
/// change (a verifier domain another partner holds, a replay already pending). Its answer is an
/// Outcome, as for the partner use cases.

/// Who acts: kActorAdminCli with the OS account, kActorAdminApi with the token's digest prefix,
/// kActorAdminAccount with the admin account's uuid; `role` is what that actor may do (the shell
/// may do everything).
struct Actor {
  std::string type;
  std::string id;
  Role role = Role::kApprover;
};

/// Webhook registration rules, from the outbound-address guard (src/webhooks), filled by the
/// composition root.
class WebhookPolicy {
 public:
  virtual ~WebhookPolicy() = default;
  /// Why `url` cannot be registered (scheme, host, a loopback/private/metadata address, ...), or
  /// nullopt when it can. `allow_loopback`: development and tests only.
  virtual std::optional<std::string> refuse(std::string_view url, bool allow_loopback) const = 0;
  /// A new webhook signing secret.
  virtual std::string new_secret() const = 0;
};

struct NewClient {
  std::string name;
  std::vector<std::string> scopes;   // claim types
  std::vector<std::string> domains;  // lowercase DNS names, each owned by this partner only
  std::string webhook_url;           // empty: none
  bool allow_loopback_webhook = false;
  /// Only a test client (no live side, no domain claimed): a sandbox partner made without an
  /// operator. Otherwise the live client and its test twin are made together.
  bool test_only = false;
};

/// A created client: the only time its API key and secrets are seen.
struct CreatedSide {
  Client client;
  std::string api_key;
  std::string webhook_secret;  // empty without a webhook URL
  std::string client_secret;   // OAuth2 client credentials (core/oauth.hpp)
};
/// A created partner: its live client and that client's test twin (test_only: `test` alone).
struct CreatedClient : CreatedSide {
  std::optional<CreatedSide> test;
};

struct RotatedSecret {
  std::string client_id;
  std::string webhook_secret;  // shown once
  UnixMillis previous_signs_until = 0;
};

struct RevokedKey {
  std::string client_id;
  UnixMillis revoked_at = 0;
  bool already_revoked = false;  // revoked before: nothing changed, nothing audited
};

struct DeliveryDetail {
  Delivery delivery;
  std::vector<DeliveryAttempt> attempts;
};

struct RetentionRun {
  UnixMillis cutoff = 0;
  std::int64_t older_than_days = 0;
  std::size_t archived = 0;
  std::vector<std::string> files;  // what `archive` answered, one per batch
};

struct Anonymised {
  std::string user_id_sha256;  // hex: the audit keeps no personal data
  std::size_t proofs_anonymised = 0;
};

/// One page of partners (list_clients_page); next_cursor empty on the last page.
struct ClientPage {
  std::vector<Client> clients;
  std::string next_cursor;
};

/// A partner with its API keys (never a key itself: prefixes, times).
struct ClientDetail {
  Client client;
  std::vector<ClientKey> keys;
};

/// The fields an update changes; an absent one stays as it is.
struct ClientUpdate {
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> scopes;
  std::optional<std::vector<std::string>> domains;
  std::optional<std::string> webhook_url;
  bool allow_loopback_webhook = false;
};

/// A suspension or resumption; changed false when the partner was in that state already.
struct Suspension {
  std::string client_id;
  bool suspended = false;
  bool changed = false;
  UnixMillis at = 0;
};

/// A new API key, shown once; the previous keys work until previous_expires_at.
struct RotatedKey {
  std::string client_id;
  std::string api_key;
  std::string key_prefix;
  UnixMillis previous_expires_at = 0;
};

/// The ports the admin use cases need. `notify_worker` (may be empty) wakes the webhook worker of
/// this process after an enqueue or a replay.
struct AdminPorts {
  Store& store;
  OutboxStore& outbox;
  AuditStore& audit;
  AdminStore& changes;
  const Clock& clock;
  const MasterKey& master_key;
  const WebhookPolicy& webhooks;
  std::function<void()> notify_worker;
  UsageStore* usage = nullptr;  // the usage report (core/usage.hpp); null: not served
};

class AdminService {
 public:
  explicit AdminService(AdminPorts ports) : p_(std::move(ports)) {}

  /// Checks the spec (name 1..200 chars; known claim types; lowercase DNS domains, none twice and
  /// none held by another partner; a webhook URL the policy accepts), stores the partner with a
  /// new API key (only its prefix and hash kept) and a sealed webhook secret.
  Outcome<CreatedClient> create_client(const Actor& actor, const NewClient& spec);
  std::vector<Client> list_clients();
  /// Partners in (created_at, id) order after `cursor` (empty: from the first; else a
  /// next_cursor this answered), 1..200 of them. A partner created meanwhile sorts after every
  /// page already read, so no partner is skipped or repeated.
  Outcome<ClientPage> list_clients_page(std::string_view cursor, std::size_t limit);
  Outcome<ClientDetail> show_client(std::string_view client_id);
  /// Changes only the given fields, checked as create_client checks them (a domain has one
  /// partner; the webhook policy). A partner without a webhook URL gets its first with
  /// rotate_webhook_secret (which makes its secret).
  Outcome<ClientDetail> update_client(const Actor& actor, std::string_view client_id,
                                      const ClientUpdate& update);
  /// A suspended partner's API calls answer CLIENT_SUSPENDED; its webhooks are held (stay
  /// pending, not attempted) until resume_client.
  Outcome<Suspension> suspend_client(const Actor& actor, std::string_view client_id);
  Outcome<Suspension> resume_client(const Actor& actor, std::string_view client_id);
  /// A new API key; every other live key keeps working for `overlap_seconds` (0..30 days).
  Outcome<RotatedKey> rotate_key(const Actor& actor, std::string_view client_id,
                                 std::int64_t overlap_seconds);
  /// Revokes every API key of the partner at once: the next request with any is refused.
  Outcome<RevokedKey> revoke_key(const Actor& actor, std::string_view client_id);
  /// `root`: a canonical decimal field element; issuer_id > 0; `sandbox`: the issuer's sandbox
  /// chain (test clients only), else its live one.
  Outcome<IssuerRoot> publish_root(const Actor& actor, std::uint32_t issuer_id,
                                   std::string_view root, bool sandbox = false);
  Outcome<bool> set_circuit_enabled(const Actor& actor, std::string_view claim_type,
                                    std::string_view version, bool enabled);
  /// A new secret; the old one keeps signing for `overlap_seconds` (0..30 days). `webhook_url`
  /// (may be empty) replaces the URL; a partner without a URL must be given one.
  Outcome<RotatedSecret> rotate_webhook_secret(const Actor& actor, std::string_view client_id,
                                               std::int64_t overlap_seconds,
                                               std::string_view webhook_url,
                                               bool allow_loopback_webhook);

  /// Deliveries by partner (empty: all; else a partner id) and status (empty: all; else pending,
  /// delivered or dead), newest first, 1..1000 of them.
  Outcome<std::vector<Delivery>> list_deliveries(std::string_view client_id,
                                                 std::string_view status, std::size_t limit);
  Outcome<DeliveryDetail> find_delivery(std::string_view event_id);
  /// Makes a delivered or dead delivery pending again (kConflict when pending already).
  Outcome<Delivery> replay(const Actor& actor, std::string_view event_id);
  /// Enqueues a webhook.test event to the partner: its event id.
  Outcome<OutboxEvent> test_webhook(const Actor& actor, std::string_view client_id);

  /// Entries with from <= at < to, oldest first, at most `limit`.
  Outcome<std::vector<AuditEntry>> export_audit(UnixMillis from, UnixMillis to, std::size_t limit);
  /// The latest `limit` (1..200) entries, newest first: the console's view, not an export.
  Outcome<std::vector<AuditEntry>> latest_audit(std::size_t limit);
  /// Archives then removes every audit entry older than `older_than_days` (0..36600), in batches
  /// of `batch` (1..100000): `archive(rows)` writes a batch durably and returns its name; each
  /// batch's removal is written with its "retention.archived" entry. A run that archives nothing
  /// records one entry saying so.
  Outcome<RetentionRun> retention(
      const Actor& actor, std::int64_t older_than_days, std::size_t batch,
      const std::function<std::string(const std::vector<AuditEntry>&)>& archive);
  /// Keeps the user's proofs but removes their user id.
  Outcome<Anonymised> anonymise_user(const Actor& actor, std::string_view user_id);
  /// The usage report (core/usage.cpp): granularity day or hour, to after from, at most 366 days
  /// by day and 31 by hour; counts below `min_count` suppressed.
  Outcome<UsageReport> usage(UsageQuery query, std::int64_t min_count);

 private:
  AuditEntry entry(const Actor& actor, std::string_view action, std::string details_json) const;
  Outcome<Suspension> set_suspended(const Actor& actor, std::string_view client_id, bool suspend);
  void notify() const;

  AdminPorts p_;
};

/// The host of a URL (no scheme, credentials, port, path or query): what the audit keeps of a
/// webhook URL, whose path may hold a partner's token.
std::string url_host(std::string_view url);
/// A lowercase DNS name: letters, digits, '-' and '.', no empty label, at most 253 characters.
bool is_domain(std::string_view s);
/// CONFLICT naming client_id when `client` is a partner's test twin and that partner is suspended
/// or revoked (a twin is never resumed or re-keyed alone); nullopt otherwise.
std::optional<ApiError> twin_partner_inactive(Store& store, const Client& client);

}  // namespace pg::core
