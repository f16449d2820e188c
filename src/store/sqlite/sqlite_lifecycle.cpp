// Pending approvals and circuit version states on SQLite (see sqlite_lifecycle.hpp). Admin-rate
// operations: statements are prepared per call; the verify path reads through core::CircuitGate's
// cache.
#include "store/sqlite/sqlite_lifecycle.hpp"

#include "store/json_columns.hpp"
#include "store/lifecycle_rows.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace pg::store {

namespace {

using sqlite::kStoreName;
using sqlite::prepare;
using sqlite::Query;
using sqlite::Row;

constexpr std::string_view kInsertApproval = R"sql(
  INSERT INTO pending_actions (id, kind, params, requested_by_type, requested_by_id, requested_at,
                               expires_at, state)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending'))sql";
constexpr std::string_view kApprovalColumns =
    "SELECT id, kind, params, requested_by_type, requested_by_id, requested_at, expires_at, "
    "state, decided_by_type, decided_by_id, decided_at, approvals_json FROM pending_actions ";
constexpr std::string_view kFinishApproval = R"sql(
  UPDATE pending_actions SET state = ?2, decided_by_type = ?3, decided_by_id = ?4, decided_at = ?5
  WHERE id = ?1 AND state = 'pending' RETURNING 1)sql";
// The compare-and-set of add_approval_vote: only over the approvals the caller read.
constexpr std::string_view kAddVote = R"sql(
  UPDATE pending_actions SET approvals_json = ?3
  WHERE id = ?1 AND state = 'pending' AND approvals_json = ?2 RETURNING 1)sql";
constexpr std::string_view kAddDecidingVote = R"sql(
  UPDATE pending_actions SET approvals_json = ?3, state = 'approved', decided_by_type = ?4,
                             decided_by_id = ?5, decided_at = ?6
  WHERE id = ?1 AND state = 'pending' AND approvals_json = ?2 RETURNING 1)sql";
constexpr std::string_view kWriteCircuit = R"sql(
  INSERT INTO circuit_versions (claim_type, semver, enabled, updated_at, state, sunset_at,
                                successor, deprecated_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
  ON CONFLICT (claim_type, semver) DO UPDATE SET
    enabled = excluded.enabled, updated_at = excluded.updated_at, state = excluded.state,
    sunset_at = excluded.sunset_at, successor = excluded.successor,
    deprecated_at = excluded.deprecated_at)sql";
// The partner's test twin follows it.
constexpr std::string_view kResumeClient =
    "UPDATE api_clients SET suspended_at = NULL "
    "WHERE (id = ?1 OR live_client_id = ?1) AND suspended_at IS NOT NULL";
constexpr std::string_view kCircuitColumns =
    "SELECT claim_type, semver, enabled, updated_at, state, sunset_at, successor, deprecated_at "
    "FROM circuit_versions ";
constexpr std::string_view kUsage = R"sql(
  SELECT claim_type, circuit_version, verifier_id, count(*) AS proofs FROM proofs
  GROUP BY claim_type, circuit_version, verifier_id ORDER BY 1, 2, 3)sql";

constexpr std::string_view kClientExists = "SELECT 1 FROM api_clients WHERE id = ?1";
constexpr std::string_view kSetMinVersion = R"sql(
  INSERT INTO partner_min_versions (client_id, claim_type, min_version, updated_at)
  VALUES (?1, ?2, ?3, ?4)
  ON CONFLICT (client_id, claim_type)
  DO UPDATE SET min_version = excluded.min_version, updated_at = excluded.updated_at)sql";
constexpr std::string_view kClearMinVersion =
    "DELETE FROM partner_min_versions WHERE client_id = ?1 AND claim_type = ?2";
constexpr std::string_view kMinVersions =
    "SELECT claim_type, min_version FROM partner_min_versions WHERE client_id = ?1";

core::PendingAction approval_from_row(const Row& r) {
  core::PendingAction a;
  a.id = r.text("id");
  a.kind = r.text("kind");
  a.params_json = r.text("params");
  a.requested_by = {r.text("requested_by_type"), r.text("requested_by_id")};
  a.requested_at = r.integer("requested_at");
  a.expires_at = r.integer("expires_at");
  a.state = r.text("state");
  a.decided_by = {r.text("decided_by_type"), r.text("decided_by_id")};
  a.decided_at = r.is_null("decided_at") ? 0 : r.integer("decided_at");
  a.approvals = json_to_votes(r.text("approvals_json"), kStoreName);
  return a;
}

core::CircuitState circuit_from_row(const Row& r) {
  return lifecycle_rows::circuit_state(r.text("claim_type"), r.text("semver"),
                                       r.integer("enabled") != 0, r.text("state"),
                                       r.integer("sunset_at"), r.text("successor"),
                                       r.integer("deprecated_at"), r.integer("updated_at"));
}

void write_change(sqlite3* db, const core::LifecycleChange& change, core::UnixMillis now,
                  const SideWrites& side, std::string_view operation) {
  if (const auto& c = change.circuit) {
    const auto statement = prepare(db, kWriteCircuit, operation, false);
    Query(db, statement, operation)
        .text(1, c->claim_type)
        .text(2, c->version)
        .integer(3, lifecycle_rows::enabled_column(c->state) ? 1 : 0)
        .integer(4, c->updated_at ? c->updated_at : now)
        .text(5, c->state)
        .integer(6, c->sunset_at)
        .nullable_text(7, c->successor)
        .integer(8, c->deprecated_at)
        .run();
  }
  if (!change.resume_client.empty()) {
    const auto statement = prepare(db, kResumeClient, operation, false);
    Query(db, statement, operation).text(1, change.resume_client).run();
  }
  for (const auto& e : change.events) side.event(e, e.created_at ? e.created_at : now);
  for (const auto& a : change.audit) side.audit(a);
}

}  // namespace

void SqliteLifecycleStore::create_approval(const core::PendingAction& a,
                                           const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "create_approval";
  store_.with_connection(kOperation, true, [&](sqlite3* db, const SideWrites& side) {
    const auto statement = prepare(db, kInsertApproval, kOperation, false);
    Query(db, statement, kOperation)
        .text(1, a.id)
        .text(2, a.kind)
        .text(3, a.params_json.empty() ? std::string_view("{}") : a.params_json)
        .text(4, a.requested_by.type)
        .text(5, a.requested_by.id)
        .integer(6, a.requested_at)
        .integer(7, a.expires_at)
        .run();
    side.audit(audit);
    return true;
  });
}

std::optional<core::PendingAction> SqliteLifecycleStore::find_approval(std::string_view id) {
  constexpr std::string_view kOperation = "find_approval";
  std::optional<core::PendingAction> out;
  store_.with_connection(kOperation, false, [&](sqlite3* db, const SideWrites&) {
    const auto statement =
        prepare(db, std::string(kApprovalColumns) + "WHERE id = ?1", kOperation, false);
    Query query(db, statement, kOperation);
    query.text(1, id);
    if (query.step()) out = approval_from_row(Row(query));
    return true;
  });
  return out;
}

std::vector<core::PendingAction> SqliteLifecycleStore::list_approvals(std::string_view state,
                                                                      std::size_t limit) {
  constexpr std::string_view kOperation = "list_approvals";
  std::vector<core::PendingAction> out;
  store_.with_connection(kOperation, false, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db,
                                   std::string(kApprovalColumns) +
                                       "WHERE ?1 = '' OR state = ?1 "
                                       "ORDER BY requested_at DESC, id LIMIT ?2",
                                   kOperation, false);
    Query query(db, statement, kOperation);
    query.text(1, state).integer(2,
                                 static_cast<std::int64_t>(std::min<std::size_t>(limit, 1000000)));
    while (query.step()) out.push_back(approval_from_row(Row(query)));
    return true;
  });
  return out;
}

bool SqliteLifecycleStore::finish_approval(std::string_view id, std::string_view state,
                                           const core::Actor& by, core::UnixMillis at,
                                           const core::LifecycleChange& change) {
  constexpr std::string_view kOperation = "finish_approval";
  return store_.with_connection(kOperation, true, [&](sqlite3* db, const SideWrites& side) {
    {
      const auto statement = prepare(db, kFinishApproval, kOperation, false);
      Query query(db, statement, kOperation);
      query.text(1, id)
          .text(2, state)
          .nullable_text(3, by.type)
          .nullable_text(4, by.id)
          .integer(5, at);
      if (!query.step()) return false;  // not pending any more: rolls back
    }
    write_change(db, change, at, side, kOperation);
    return true;
  });
}

bool SqliteLifecycleStore::add_approval_vote(std::string_view id,
                                             const std::vector<core::ApprovalVote>& seen,
                                             const core::ApprovalVote& vote, bool decide,
                                             const core::LifecycleChange& change) {
  constexpr std::string_view kOperation = "add_approval_vote";
  std::vector<core::ApprovalVote> votes = seen;
  votes.push_back(vote);
  const std::string expected = votes_to_json(seen), written = votes_to_json(votes);
  return store_.with_connection(kOperation, true, [&](sqlite3* db, const SideWrites& side) {
    {
      const auto statement = prepare(db, decide ? kAddDecidingVote : kAddVote, kOperation, false);
      Query query(db, statement, kOperation);
      query.text(1, id).text(2, expected).text(3, written);
      if (decide) query.text(4, vote.actor.type).text(5, vote.actor.id).integer(6, vote.at);
      if (!query.step()) return false;  // decided, or voted on since `seen`: rolls back
    }
    write_change(db, change, vote.at, side, kOperation);
    return true;
  });
}

void SqliteLifecycleStore::apply_lifecycle(const core::LifecycleChange& change) {
  constexpr std::string_view kOperation = "apply_lifecycle";
  const core::UnixMillis now = change.circuit ? change.circuit->updated_at : 0;
  store_.with_connection(kOperation, true, [&](sqlite3* db, const SideWrites& side) {
    write_change(db, change, now, side, kOperation);
    return true;
  });
}

std::optional<core::CircuitState> SqliteLifecycleStore::find_circuit_state(
    std::string_view claim_type, std::string_view version) {
  constexpr std::string_view kOperation = "find_circuit_state";
  std::optional<core::CircuitState> out;
  store_.with_connection(kOperation, false, [&](sqlite3* db, const SideWrites&) {
    const auto statement =
        prepare(db, std::string(kCircuitColumns) + "WHERE claim_type = ?1 AND semver = ?2",
                kOperation, false);
    Query query(db, statement, kOperation);
    query.text(1, claim_type).text(2, version);
    if (query.step()) out = circuit_from_row(Row(query));
    return true;
  });
  return out;
}

std::vector<core::CircuitState> SqliteLifecycleStore::list_circuit_states() {
  constexpr std::string_view kOperation = "list_circuit_states";
  std::vector<core::CircuitState> out;
  store_.with_connection(kOperation, false, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db, std::string(kCircuitColumns) + "ORDER BY claim_type, semver",
                                   kOperation, false);
    Query query(db, statement, kOperation);
    while (query.step()) out.push_back(circuit_from_row(Row(query)));
    return true;
  });
  return out;
}

std::vector<core::CircuitUsage> SqliteLifecycleStore::circuit_usage() {
  constexpr std::string_view kOperation = "circuit_usage";
  std::vector<core::CircuitUsage> out;
  store_.with_connection(kOperation, false, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db, kUsage, kOperation, false);
    Query query(db, statement, kOperation);
    while (query.step()) {
      const Row r(query);
      out.push_back({r.text("claim_type"), r.text("circuit_version"), r.text("verifier_id"),
                     r.integer("proofs")});
    }
    return true;
  });
  return out;
}

bool SqliteLifecycleStore::set_min_version(std::string_view client_id, std::string_view claim_type,
                                           std::string_view min_version, core::UnixMillis now,
                                           const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "set_min_version";
  return store_.with_connection(kOperation, true, [&](sqlite3* db, const SideWrites& side) {
    {
      const auto exists = prepare(db, kClientExists, kOperation, false);
      Query query(db, exists, kOperation);
      if (!query.text(1, client_id).step()) return false;
    }
    if (min_version.empty()) {
      const auto statement = prepare(db, kClearMinVersion, kOperation, false);
      Query(db, statement, kOperation).text(1, client_id).text(2, claim_type).run();
    } else {
      const auto statement = prepare(db, kSetMinVersion, kOperation, false);
      Query(db, statement, kOperation)
          .text(1, client_id)
          .text(2, claim_type)
          .text(3, min_version)
          .integer(4, now)
          .run();
    }
    side.audit(audit);
    return true;
  });
}

std::map<std::string, std::string> SqliteLifecycleStore::min_versions(std::string_view client_id) {
  constexpr std::string_view kOperation = "min_versions";
  std::map<std::string, std::string> out;
  store_.with_connection(kOperation, false, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db, kMinVersions, kOperation, false);
    Query query(db, statement, kOperation);
    query.text(1, client_id);
    while (query.step()) {
      const Row r(query);
      out.emplace(r.text("claim_type"), r.text("min_version"));
    }
    return true;
  });
  return out;
}

}  // namespace pg::store
