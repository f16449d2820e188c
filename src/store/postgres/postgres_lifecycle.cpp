// Pending approvals and circuit version states on PostgreSQL (see postgres_lifecycle.hpp).
#include "store/postgres/postgres_lifecycle.hpp"

#include <algorithm>

#include "store/column_index.hpp"
#include "store/json_columns.hpp"
#include "store/lifecycle_rows.hpp"
#include "store/postgres/connection.hpp"

namespace pg::store {

namespace {

using postgres::Connection;
using postgres::Params;
using postgres::Result;
using postgres::Statement;

constexpr std::string_view kStore = "postgres store";

constexpr Statement kInsertApproval{"lifecycle_insert_approval", R"sql(
  INSERT INTO pending_actions (id, kind, params, requested_by_type, requested_by_id, requested_at,
                               expires_at, state)
  VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, 'pending'))sql",
                                    false};
constexpr Statement kFindApproval{"lifecycle_find_approval", R"sql(
  SELECT id, kind, params::text AS params, requested_by_type, requested_by_id, requested_at,
         expires_at, state, decided_by_type, decided_by_id, decided_at, approvals_json
  FROM pending_actions WHERE id = $1)sql",
                                  false};
constexpr Statement kListApprovals{"lifecycle_list_approvals", R"sql(
  SELECT id, kind, params::text AS params, requested_by_type, requested_by_id, requested_at,
         expires_at, state, decided_by_type, decided_by_id, decided_at, approvals_json
  FROM pending_actions WHERE $1 = '' OR state = $1
  ORDER BY requested_at DESC, id LIMIT $2)sql",
                                   false};
constexpr Statement kFinishApproval{"lifecycle_finish_approval", R"sql(
  UPDATE pending_actions SET state = $2, decided_by_type = $3, decided_by_id = $4, decided_at = $5
  WHERE id = $1 AND state = 'pending' RETURNING 1)sql",
                                    false};
// The compare-and-set of add_approval_vote: only over the approvals the caller read (a
// concurrent UPDATE of the row re-checks the condition on the row it committed, so it loses).
constexpr Statement kAddVote{"lifecycle_add_vote", R"sql(
  UPDATE pending_actions SET approvals_json = $3
  WHERE id = $1 AND state = 'pending' AND approvals_json = $2 RETURNING 1)sql",
                             false};
constexpr Statement kAddDecidingVote{"lifecycle_add_deciding_vote", R"sql(
  UPDATE pending_actions SET approvals_json = $3, state = 'approved', decided_by_type = $4,
                             decided_by_id = $5, decided_at = $6
  WHERE id = $1 AND state = 'pending' AND approvals_json = $2 RETURNING 1)sql",
                                     false};
constexpr Statement kWriteCircuit{"lifecycle_write_circuit", R"sql(
  INSERT INTO circuit_versions (claim_type, semver, enabled, updated_at, state, sunset_at,
                                successor, deprecated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (claim_type, semver) DO UPDATE SET
    enabled = excluded.enabled, updated_at = excluded.updated_at, state = excluded.state,
    sunset_at = excluded.sunset_at, successor = excluded.successor,
    deprecated_at = excluded.deprecated_at)sql",
                                  false};
// The partner's test twin follows it.
constexpr Statement kResumeClient{
    "lifecycle_resume_client",
    "UPDATE api_clients SET suspended_at = NULL "
    "WHERE (id = $1 OR live_client_id = $1) AND suspended_at IS NOT NULL",
    false};
constexpr Statement kFindCircuit{"lifecycle_find_circuit", R"sql(
  SELECT claim_type, semver, enabled, updated_at, state, sunset_at, successor, deprecated_at
  FROM circuit_versions WHERE claim_type = $1 AND semver = $2)sql",
                                 true};
constexpr Statement kListCircuits{"lifecycle_list_circuits", R"sql(
  SELECT claim_type, semver, enabled, updated_at, state, sunset_at, successor, deprecated_at
  FROM circuit_versions ORDER BY claim_type, semver)sql",
                                  false};
constexpr Statement kUsage{"lifecycle_usage", R"sql(
  SELECT claim_type, circuit_version, verifier_id::text AS verifier_id, count(*) AS proofs
  FROM proofs GROUP BY claim_type, circuit_version, verifier_id ORDER BY 1, 2, 3)sql",
                           false};

constexpr Statement kClientExists{"lifecycle_client_exists",
                                  "SELECT 1 FROM api_clients WHERE id = $1", false};
constexpr Statement kSetMinVersion{"lifecycle_set_min_version", R"sql(
  INSERT INTO partner_min_versions (client_id, claim_type, min_version, updated_at)
  VALUES ($1, $2, $3, $4)
  ON CONFLICT (client_id, claim_type)
  DO UPDATE SET min_version = excluded.min_version, updated_at = excluded.updated_at)sql",
                                   false};
constexpr Statement kClearMinVersion{
    "lifecycle_clear_min_version",
    "DELETE FROM partner_min_versions WHERE client_id = $1 AND claim_type = $2", false};
constexpr Statement kMinVersions{
    "lifecycle_min_versions",
    "SELECT claim_type, min_version FROM partner_min_versions WHERE client_id = $1", true};

/// Reads result rows by column name.
class Reader {
 public:
  Reader(const Result& result, std::string_view operation)
      : result_(result), columns_(result.column_names()), operation_(operation) {}
  int rows() const noexcept { return result_.rows(); }
  std::string text(int row, std::string_view name) const {
    const int c = at(name);
    return result_.is_null(row, c) ? std::string() : result_.text(row, c);
  }
  std::int64_t integer(int row, std::string_view name) const {
    const int c = at(name);
    return result_.is_null(row, c) ? 0 : result_.integer(row, c);
  }
  bool boolean(int row, std::string_view name) const { return result_.boolean(row, at(name)); }

 private:
  int at(std::string_view name) const { return columns_.at(name, operation_, kStore); }
  const Result& result_;
  ColumnIndex columns_;
  std::string_view operation_;
};

core::PendingAction approval_at(const Reader& r, int i) {
  core::PendingAction a;
  a.id = r.text(i, "id");
  a.kind = r.text(i, "kind");
  a.params_json = r.text(i, "params");
  a.requested_by = {r.text(i, "requested_by_type"), r.text(i, "requested_by_id")};
  a.requested_at = r.integer(i, "requested_at");
  a.expires_at = r.integer(i, "expires_at");
  a.state = r.text(i, "state");
  a.decided_by = {r.text(i, "decided_by_type"), r.text(i, "decided_by_id")};
  a.decided_at = r.integer(i, "decided_at");
  a.approvals = json_to_votes(r.text(i, "approvals_json"), kStore);
  return a;
}

core::CircuitState circuit_at(const Reader& r, int i) {
  return lifecycle_rows::circuit_state(r.text(i, "claim_type"), r.text(i, "semver"),
                                       r.boolean(i, "enabled"), r.text(i, "state"),
                                       r.integer(i, "sunset_at"), r.text(i, "successor"),
                                       r.integer(i, "deprecated_at"), r.integer(i, "updated_at"));
}

void write_change(Connection& c, const core::LifecycleChange& change, core::UnixMillis now,
                  const SideWrites& side, std::string_view operation) {
  if (const auto& s = change.circuit) {
    c.run(kWriteCircuit,
          Params()
              .text(s->claim_type)
              .text(s->version)
              .boolean(lifecycle_rows::enabled_column(s->state))
              .integer(s->updated_at ? s->updated_at : now)
              .text(s->state)
              .integer(s->sunset_at)
              .nullable_text(s->successor)
              .integer(s->deprecated_at),
          operation);
  }
  if (!change.resume_client.empty())
    c.run(kResumeClient, Params().text(change.resume_client), operation);
  for (const auto& e : change.events) side.event(e, e.created_at ? e.created_at : now);
  for (const auto& a : change.audit) side.audit(a);
}

}  // namespace

void PostgresLifecycleStore::create_approval(const core::PendingAction& a,
                                             const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "create_approval";
  store_.with_connection(kOperation, true, [&](Connection& c, const SideWrites& side) {
    c.run(kInsertApproval,
          Params()
              .text(a.id)
              .text(a.kind)
              .text(a.params_json.empty() ? std::string_view("{}") : a.params_json)
              .text(a.requested_by.type)
              .text(a.requested_by.id)
              .integer(a.requested_at)
              .integer(a.expires_at),
          kOperation);
    side.audit(audit);
    return true;
  });
}

std::optional<core::PendingAction> PostgresLifecycleStore::find_approval(std::string_view id) {
  constexpr std::string_view kOperation = "find_approval";
  std::optional<core::PendingAction> out;
  store_.with_connection(kOperation, false, [&](Connection& c, const SideWrites&) {
    const Result result = c.run(kFindApproval, Params().text(id), kOperation);
    const Reader r(result, kOperation);
    if (r.rows() > 0) out = approval_at(r, 0);
    return true;
  });
  return out;
}

std::vector<core::PendingAction> PostgresLifecycleStore::list_approvals(std::string_view state,
                                                                        std::size_t limit) {
  constexpr std::string_view kOperation = "list_approvals";
  std::vector<core::PendingAction> out;
  store_.with_connection(kOperation, false, [&](Connection& c, const SideWrites&) {
    const Result result = c.run(kListApprovals,
                                Params().text(state).integer(static_cast<std::int64_t>(
                                    std::min<std::size_t>(limit, 1000000))),
                                kOperation);
    const Reader r(result, kOperation);
    for (int i = 0; i < r.rows(); ++i) out.push_back(approval_at(r, i));
    return true;
  });
  return out;
}

bool PostgresLifecycleStore::finish_approval(std::string_view id, std::string_view state,
                                             const core::Actor& by, core::UnixMillis at,
                                             const core::LifecycleChange& change) {
  constexpr std::string_view kOperation = "finish_approval";
  return store_.with_connection(kOperation, true, [&](Connection& c, const SideWrites& side) {
    const Result done =
        c.run(kFinishApproval,
              Params().text(id).text(state).nullable_text(by.type).nullable_text(by.id).integer(at),
              kOperation);
    if (done.rows() == 0) return false;  // not pending any more: rolls back
    write_change(c, change, at, side, kOperation);
    return true;
  });
}

bool PostgresLifecycleStore::add_approval_vote(std::string_view id,
                                               const std::vector<core::ApprovalVote>& seen,
                                               const core::ApprovalVote& vote, bool decide,
                                               const core::LifecycleChange& change) {
  constexpr std::string_view kOperation = "add_approval_vote";
  std::vector<core::ApprovalVote> votes = seen;
  votes.push_back(vote);
  const std::string expected = votes_to_json(seen), written = votes_to_json(votes);
  return store_.with_connection(kOperation, true, [&](Connection& c, const SideWrites& side) {
    Params params;
    params.text(id).text(expected).text(written);
    if (decide) params.text(vote.actor.type).text(vote.actor.id).integer(vote.at);
    const Result done = c.run(decide ? kAddDecidingVote : kAddVote, params, kOperation);
    if (done.rows() == 0) return false;  // decided, or voted on since `seen`: rolls back
    write_change(c, change, vote.at, side, kOperation);
    return true;
  });
}

void PostgresLifecycleStore::apply_lifecycle(const core::LifecycleChange& change) {
  constexpr std::string_view kOperation = "apply_lifecycle";
  const core::UnixMillis now = change.circuit ? change.circuit->updated_at : 0;
  store_.with_connection(kOperation, true, [&](Connection& c, const SideWrites& side) {
    write_change(c, change, now, side, kOperation);
    return true;
  });
}

std::optional<core::CircuitState> PostgresLifecycleStore::find_circuit_state(
    std::string_view claim_type, std::string_view version) {
  constexpr std::string_view kOperation = "find_circuit_state";
  std::optional<core::CircuitState> out;
  store_.with_connection(kOperation, false, [&](Connection& c, const SideWrites&) {
    const Result result = c.run(kFindCircuit, Params().text(claim_type).text(version), kOperation);
    const Reader r(result, kOperation);
    if (r.rows() > 0) out = circuit_at(r, 0);
    return true;
  });
  return out;
}

std::vector<core::CircuitState> PostgresLifecycleStore::list_circuit_states() {
  constexpr std::string_view kOperation = "list_circuit_states";
  std::vector<core::CircuitState> out;
  store_.with_connection(kOperation, false, [&](Connection& c, const SideWrites&) {
    const Result result = c.run(kListCircuits, Params(), kOperation);
    const Reader r(result, kOperation);
    for (int i = 0; i < r.rows(); ++i) out.push_back(circuit_at(r, i));
    return true;
  });
  return out;
}

std::vector<core::CircuitUsage> PostgresLifecycleStore::circuit_usage() {
  constexpr std::string_view kOperation = "circuit_usage";
  std::vector<core::CircuitUsage> out;
  store_.with_connection(kOperation, false, [&](Connection& c, const SideWrites&) {
    const Result result = c.run(kUsage, Params(), kOperation);
    const Reader r(result, kOperation);
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({r.text(i, "claim_type"), r.text(i, "circuit_version"),
                     r.text(i, "verifier_id"), r.integer(i, "proofs")});
    }
    return true;
  });
  return out;
}

bool PostgresLifecycleStore::set_min_version(std::string_view client_id,
                                             std::string_view claim_type,
                                             std::string_view min_version, core::UnixMillis now,
                                             const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "set_min_version";
  return store_.with_connection(kOperation, true, [&](Connection& c, const SideWrites& side) {
    if (c.run(kClientExists, Params().text(client_id), kOperation).rows() == 0) return false;
    if (min_version.empty()) {
      c.run(kClearMinVersion, Params().text(client_id).text(claim_type), kOperation);
    } else {
      c.run(kSetMinVersion,
            Params().text(client_id).text(claim_type).text(min_version).integer(now), kOperation);
    }
    side.audit(audit);
    return true;
  });
}

std::map<std::string, std::string> PostgresLifecycleStore::min_versions(
    std::string_view client_id) {
  constexpr std::string_view kOperation = "min_versions";
  std::map<std::string, std::string> out;
  store_.with_connection(kOperation, false, [&](Connection& c, const SideWrites&) {
    const Result result = c.run(kMinVersions, Params().text(client_id), kOperation);
    const Reader r(result, kOperation);
    for (int i = 0; i < r.rows(); ++i)
      out.emplace(r.text(i, "claim_type"), r.text(i, "min_version"));
    return true;
  });
  return out;
}

}  // namespace pg::store
