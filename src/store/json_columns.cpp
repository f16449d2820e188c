// JSON-encoded columns (see json_columns.hpp).
#include "store/json_columns.hpp"

#include <boost/json.hpp>

#include "store/store_error.hpp"

namespace pg::store {

std::string strings_to_json(const std::vector<std::string>& values) {
  boost::json::array array;
  array.reserve(values.size());
  for (const std::string& value : values) array.emplace_back(value);
  return boost::json::serialize(array);
}

std::vector<std::string> json_to_strings(std::string_view text, std::string_view column,
                                         std::string_view store) {
  const std::string operation = "read " + std::string(column);
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_array()) fail_store(store, operation, "not a JSON array");
  std::vector<std::string> out;
  out.reserve(value.get_array().size());
  for (const boost::json::value& item : value.get_array()) {
    if (!item.is_string()) fail_store(store, operation, "an element is not a string");
    out.emplace_back(item.get_string());
  }
  return out;
}

std::string params_to_json(const core::Params& params, std::string_view operation,
                           std::string_view store) {
  // Boost.JSON objects keep insertion order, and both stores keep the text as written.
  boost::json::object object;
  object.reserve(params.size());
  for (const auto& [name, value] : params) {
    if (object.contains(name))
      fail_store(store, operation, "params name '" + name + "' appears twice");
    object.emplace(name, value);
  }
  return boost::json::serialize(object);
}

core::Params json_to_params(std::string_view text, std::string_view store) {
  constexpr std::string_view kOperation = "read proof_requests.params";
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) fail_store(store, kOperation, "not a JSON object");
  core::Params params;
  params.reserve(value.get_object().size());
  for (const auto& member : value.get_object()) {
    const auto number = member.value().to_number<std::uint64_t>(ec);
    if (ec) fail_store(store, kOperation, std::string(member.key()).append(" is not a uint64"));
    params.emplace_back(std::string(member.key()), number);
  }
  return params;
}

std::string audit_details_json(const core::AuditEntry& entry, std::string_view operation,
                               std::string_view store) {
  if (entry.actor_type.empty()) fail_store(store, operation, "no actor_type");
  if (entry.action.empty()) fail_store(store, operation, "no action");
  std::string details = entry.details_json.empty() ? std::string("{}") : entry.details_json;
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(details, ec);
  if (ec || !value.is_object()) fail_store(store, operation, "details_json is not a JSON object");
  return details;
}

std::string votes_to_json(const std::vector<core::ApprovalVote>& votes) {
  boost::json::array array;
  array.reserve(votes.size());
  for (const auto& v : votes)
    array.push_back(boost::json::object{{"type", v.actor.type}, {"id", v.actor.id}, {"at", v.at}});
  return boost::json::serialize(array);
}

std::vector<core::ApprovalVote> json_to_votes(std::string_view text, std::string_view store) {
  constexpr std::string_view kOperation = "read pending_actions.approvals_json";
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_array()) fail_store(store, kOperation, "not a JSON array");
  std::vector<core::ApprovalVote> out;
  for (const boost::json::value& item : value.get_array()) {
    const auto* o = item.if_object();
    const auto* type = o ? o->if_contains("type") : nullptr;
    const auto* id = o ? o->if_contains("id") : nullptr;
    const auto* at = o ? o->if_contains("at") : nullptr;
    if (!type || !type->is_string() || !id || !id->is_string() || !at || !at->is_int64())
      fail_store(store, kOperation, "an approval is not {type, id, at}");
    core::ApprovalVote v;
    v.actor.type = std::string(type->get_string());
    v.actor.id = std::string(id->get_string());
    v.at = at->get_int64();
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace pg::store
