// The audit-trail port: who did what to the service's state (admin actions, retention runs), kept
// for the retention window, exportable as JSON lines, and archived then removed when it expires.
// Also the account-anonymisation step retention needs (proofs kept, user_id nulled), and the admin
// changes that write their audit entry in the same transaction as the change (AdminStore).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "core/outbox.hpp"

namespace pg::core {

/// Who acted.
inline constexpr std::string_view kActorAdminCli = "admin_cli";
inline constexpr std::string_view kActorAdminApi = "admin_api";
inline constexpr std::string_view kActorAdminAccount = "admin_account";  // id: the admin's uuid
inline constexpr std::string_view kActorSystem = "system";

/// One audit row.
struct AuditEntry {
  std::int64_t id = 0;     // assigned by the store (record_audit ignores it); ascending
  std::string actor_type;  // kActorAdminCli | kActorAdminApi | kActorSystem
  std::string actor_id;    // e.g. the OS user running the CLI; empty when unknown
  std::string action;      // "client.created", "client.key_revoked", "webhook_secret.rotated",
                           // "circuit.enabled_set", "root.published", "delivery.replayed",
                           // "webhook.test_sent", "retention.archived", "user.anonymised"
  /// A JSON object ("" reads as "{}"). Never secrets: no API keys, webhook secrets, tokens, nor
  /// personal data. Read back as the same object (member order and spacing may differ: PostgreSQL
  /// keeps jsonb).
  std::string details_json;
  UnixMillis at = 0;
  /// The hash chain (core/audit_chain.hpp), set by the store when it writes the entry
  /// (record_audit ignores them): position from 1 without gaps, the predecessor's hash (64 zeros
  /// for seq 1) and this entry's. The store makes details_json canonical and never lets `at` go
  /// before its predecessor's.
  std::int64_t seq = 0;
  std::string prev_hash, hash;
};

/// Audit storage. Every method is safe to call from several threads at once and throws
/// StoreError when the storage fails.
class AuditStore {
 public:
  virtual ~AuditStore() = default;

  /// Appends `entry` (its id is ignored). Throws StoreError when actor_type or action is empty or
  /// details_json is not a JSON object; nothing is written then.
  virtual void record_audit(const AuditEntry& entry) = 0;

  /// Entries with from <= at < to, oldest first (by seq), at most `limit`, each with its chain
  /// fields.
  virtual std::vector<AuditEntry> list_audit(UnixMillis from, UnixMillis to, std::size_t limit) = 0;
  /// The latest `limit` entries, newest first (by seq), each with its chain fields.
  virtual std::vector<AuditEntry> latest_audit(std::size_t limit) = 0;

  /// Moves every entry with at < cutoff out of the store, oldest first, in batches of at most
  /// `batch` (> 0): per batch, one transaction reads the rows, calls `archive(rows)` and then
  /// deletes exactly those rows. `archive` must have written them durably when it returns; when
  /// it throws, the batch's transaction rolls back (nothing deleted) and the exception propagates.
  /// A crash between `archive` returning and the commit leaves that batch in the store, so the
  /// next run archives it again: at-least-once, at most one batch twice. `archive` runs while the
  /// store holds its lock (SQLite: the database's write lock): it must not call this store, and
  /// should be quick. Returns how many entries were archived and removed.
  virtual std::size_t take_audit_before(
      UnixMillis cutoff, std::size_t batch,
      const std::function<void(const std::vector<AuditEntry>&)>& archive) = 0;

  /// Account anonymisation: sets proofs.user_id to NULL on every proof of `user_id` (the proofs
  /// stay). Returns how many proofs changed. An empty user_id changes nothing.
  virtual std::size_t anonymise_user(std::string_view user_id) = 0;
};

/// What revoking a partner's API key found.
enum class RevokeOutcome { kRevoked, kAlreadyRevoked, kUnknownClient };
/// What a change of a partner's state found (suspend, resume, rotate-key).
enum class ClientChange { kChanged, kUnchanged, kUnknownClient };

/// The admin changes (core::AdminService's use cases), each written together with its audit entry
/// in one transaction: both or neither. The audit entry is checked like AuditStore::record_audit
/// but only after the change ran inside the transaction, so a refused or failing audit write
/// rolls the change back. Every method is safe to call from several threads at once and throws
/// StoreError when the storage fails (nothing written then).
class AdminStore {
 public:
  virtual ~AdminStore() = default;

  /// Stores the partner and claims each of its verifier domains for it. When another partner
  /// holds one of client.domains already, returns that domain and writes nothing (a domain
  /// belongs to one partner: two partners on one domain would get the same nullifier for one
  /// person). nullopt: stored with its audit entry.
  /// `test_twin` (may be null): the partner's test client (mode test, live_client_id the
  /// partner), stored in the same transaction; a test client claims no domain.
  virtual std::optional<std::string> create_client(const Client& client, const Client* test_twin,
                                                   const AuditEntry& audit) = 0;
  std::optional<std::string> create_client(const Client& client, const AuditEntry& audit) {
    return create_client(client, nullptr, audit);
  }

  /// Revokes every live API key of the partner (and of its test twin) at `now`: from then on
  /// find_client_by_prefix finds none of them. The audit entry is written only for kRevoked.
  virtual RevokeOutcome revoke_key(std::string_view client_id, UnixMillis now,
                                   const AuditEntry& audit) = 0;

  /// Writes name, scopes, domains and webhook_url of `client` (found by id; the rest is kept;
  /// its test twin takes the same scopes and domains), the domains claimed as create_client does: a
  /// domain another partner holds is returned and nothing written. Throws StoreError for an unknown
  /// partner.
  virtual std::optional<std::string> update_client(const Client& client,
                                                   const AuditEntry& audit) = 0;
  /// suspended_at > 0 suspends the partner and its test twin (kUnchanged when suspended
  /// already), 0 resumes them (kUnchanged when active). The audit entry is written only for
  /// kChanged.
  virtual ClientChange set_client_suspended(std::string_view client_id, UnixMillis suspended_at,
                                            const AuditEntry& audit) = 0;
  /// Adds `key` as the partner's current key; every other live key expires at `old_expires_at`
  /// (a key expiring sooner keeps its expiry). kUnknownClient writes nothing.
  virtual ClientChange rotate_key(std::string_view client_id, const ClientKey& key,
                                  UnixMillis old_expires_at, const AuditEntry& audit) = 0;

  /// As Store::publish_root and Store::set_circuit_enabled, with the audit entry.
  /// kReplacedBefore and kOtherSide write nothing, not even the audit entry (the caller refuses
  /// the request).
  virtual PublishOutcome publish_root(const IssuerRoot& root, UnixMillis now,
                                      const AuditEntry& audit) = 0;
  PublishOutcome publish_root(std::uint32_t issuer_id, std::string_view root, UnixMillis now,
                              const AuditEntry& audit) {
    return publish_root(IssuerRoot{issuer_id, std::string(root), 0, 0, 0, 0}, now, audit);
  }
  virtual void set_circuit_enabled(std::string_view claim_type, std::string_view version,
                                   bool enabled, UnixMillis now, const AuditEntry& audit) = 0;

  /// As OutboxStore::rotate_webhook_secret; false (nothing written) for an unknown partner.
  virtual bool rotate_webhook_secret(std::string_view client_id, std::string_view new_secret_sealed,
                                     UnixMillis previous_until, std::string_view url,
                                     const AuditEntry& audit) = 0;
  /// As OutboxStore::replay; false (nothing written) when there is no such row or it is pending.
  virtual bool replay(std::string_view event_id, UnixMillis now, const AuditEntry& audit) = 0;
  /// As OutboxStore::enqueue_event.
  virtual void enqueue_event(const OutboxEvent& event, UnixMillis now, const AuditEntry& audit) = 0;

  /// As AuditStore::anonymise_user; `audit(changed)` gives the entry written with the change.
  virtual std::size_t anonymise_user(
      std::string_view user_id, const std::function<AuditEntry(std::size_t changed)>& audit) = 0;

  /// As AuditStore::take_audit_before, with `archive(rows)` returning the entry that records the
  /// batch's archiving: it is written in the batch's transaction, with the batch's deletion.
  virtual std::size_t archive_audit_before(
      UnixMillis cutoff, std::size_t batch,
      const std::function<AuditEntry(const std::vector<AuditEntry>&)>& archive) = 0;
};

}  // namespace pg::core
