// JSON-encoded columns shared by the SQLite and PostgreSQL stores: string lists (a partner's
// scopes and domains), a proof request's params, in their order, an audit entry's details and a
// pending action's approvals.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/audit.hpp"
#include "core/lifecycle.hpp"
#include "core/model.hpp"

namespace pg::store {

/// `values` as a JSON array of strings.
std::string strings_to_json(const std::vector<std::string>& values);
/// A JSON array of strings read from `column`; throws core::StoreError ("<store>: read <column>:
/// …") when the stored text is not one.
std::vector<std::string> json_to_strings(std::string_view text, std::string_view column,
                                         std::string_view store);
/// The params as a JSON object in their order; throws core::StoreError when a name repeats.
std::string params_to_json(const core::Params& params, std::string_view operation,
                           std::string_view store);
/// Params read from proof_requests.params; throws core::StoreError for anything but an object of
/// unsigned 64-bit integers.
core::Params json_to_params(std::string_view text, std::string_view store);
/// The details column of `entry` ("" reads as "{}"), after the checks AuditStore::record_audit
/// promises; throws core::StoreError when actor_type or action is empty or details_json is not a
/// JSON object.
std::string audit_details_json(const core::AuditEntry& entry, std::string_view operation,
                               std::string_view store);

/// A pending action's approvals as pending_actions.approvals_json holds them: a JSON array of
/// {"type","id","at"} in their order. add_approval_vote compares the stored text with this
/// encoding of the approvals it read, so both stores write and compare exactly this.
std::string votes_to_json(const std::vector<core::ApprovalVote>& votes);
/// Approvals read from pending_actions.approvals_json; throws core::StoreError for anything but
/// such an array.
std::vector<core::ApprovalVote> json_to_votes(std::string_view text, std::string_view store);

}  // namespace pg::store
