// core::LifecycleStore (pending approvals, circuit version states) on a SqliteStore's connection,
// so each change commits with its audit entry and outbox events in the store's transaction.
#pragma once

#include "core/lifecycle.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::store {

class SqliteLifecycleStore final : public core::LifecycleStore {
 public:
  explicit SqliteLifecycleStore(SqliteStore& store) : store_(store) {}

  void create_approval(const core::PendingAction& action, const core::AuditEntry& audit) override;
  std::optional<core::PendingAction> find_approval(std::string_view id) override;
  std::vector<core::PendingAction> list_approvals(std::string_view state,
                                                  std::size_t limit) override;
  bool finish_approval(std::string_view id, std::string_view state, const core::Actor& by,
                       core::UnixMillis at, const core::LifecycleChange& change) override;
  bool add_approval_vote(std::string_view id, const std::vector<core::ApprovalVote>& seen,
                         const core::ApprovalVote& vote, bool decide,
                         const core::LifecycleChange& change) override;
  void apply_lifecycle(const core::LifecycleChange& change) override;
  std::optional<core::CircuitState> find_circuit_state(std::string_view claim_type,
                                                       std::string_view version) override;
  std::vector<core::CircuitState> list_circuit_states() override;
  std::vector<core::CircuitUsage> circuit_usage() override;
  bool set_min_version(std::string_view client_id, std::string_view claim_type,
                       std::string_view min_version, core::UnixMillis now,
                       const core::AuditEntry& audit) override;
  std::map<std::string, std::string> min_versions(std::string_view client_id) override;

 private:
  SqliteStore& store_;
};

}  // namespace pg::store
