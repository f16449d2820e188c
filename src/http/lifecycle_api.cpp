// The admin API's circuit lifecycle and approvals (see lifecycle_api.hpp).
#include "http/lifecycle_api.hpp"

#include <boost/json.hpp>

#include "core/circuit_upload.hpp"
#include "core/service.hpp"
#include "http/admin_reports.hpp"
#include "http/multipart.hpp"
#include "http/presenter.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {

HttpReply json_reply(int status, const json::value& body) {
  HttpReply r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

HttpReply invalid(std::string field, std::string detail) {
  return problem({core::ErrorCode::kInvalidRequest, std::move(field), std::move(detail)});
}

json::value time_or_null(core::UnixMillis ms) {
  return ms ? json::value(core::rfc3339(ms)) : json::value(nullptr);
}

json::value actor_or_null(const core::Actor& a) {
  if (a.type.empty()) return nullptr;
  return json::object{{"type", a.type}, {"id", a.id}};
}

}  // namespace

json::object approval_json(const core::PendingAction& a) {
  json::object o{{"id", a.id},
                 {"kind", a.kind},
                 {"params", json::parse(a.params_json.empty() ? "{}" : a.params_json)},
                 {"state", a.state},
                 {"requested_by", actor_or_null(a.requested_by)},
                 {"requested_at", core::rfc3339(a.requested_at)},
                 {"expires_at", core::rfc3339(a.expires_at)}};
  o["decided_by"] = actor_or_null(a.decided_by);
  o["decided_at"] = time_or_null(a.decided_at);
  json::array votes;
  for (const auto& v : a.approvals)
    votes.push_back(
        json::object{{"type", v.actor.type}, {"id", v.actor.id}, {"at", core::rfc3339(v.at)}});
  o["approvals"] = std::move(votes);
  o["approvals_required"] = core::approvals_required(a.kind);
  return o;
}

json::object circuit_state_json(const core::CircuitState& s) {
  json::object o{{"claim_type", s.claim_type}, {"version", s.version}, {"state", s.state}};
  o["sunset"] = time_or_null(s.sunset_at);
  o["successor"] = s.successor.empty() ? json::value(nullptr) : json::value(s.successor);
  o["deprecated_at"] = time_or_null(s.deprecated_at);
  o["updated_at"] = time_or_null(s.updated_at);
  return o;
}

json::object min_versions_json(std::string_view client_id,
                               const std::map<std::string, std::string>& minimums) {
  json::object by_claim;
  for (const auto& [claim, version] : minimums) by_claim[claim] = version;
  return json::object{{"client_id", client_id}, {"min_versions", by_claim}};
}

HttpReply LifecycleApi::handle(RouteId route, const HttpRequest& request,
                               const std::vector<std::string_view>& params) {
  auto admitted = admin_.admit(route, request);
  if (auto* denied = std::get_if<HttpReply>(&admitted)) return std::move(*denied);
  const core::Actor& actor = std::get<core::Actor>(admitted);
  const auto q = request.target.find('?');
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
  const auto pending = [](const core::Outcome<core::PendingAction>& o, int status) {
    return o ? json_reply(status, approval_json(*o)) : problem(o.error());
  };
  const auto state = [](const core::Outcome<core::CircuitState>& o) {
    return o ? json_reply(200, circuit_state_json(*o)) : problem(o.error());
  };
  switch (route) {
    case RouteId::kAdminApprovals: {
      std::size_t limit = 100;
      if (const auto l = query_param(query, "limit")) {
        if (l->empty() || l->size() > 4 || l->find_first_not_of("0123456789") != std::string::npos)
          return invalid("limit", "must be an integer from 1 to 1000");
        limit = std::stoul(*l);
      }
      auto found = lifecycle_.list_approvals(query_param(query, "state").value_or(""), limit);
      if (!found) return problem(found.error());
      json::array items;
      for (const auto& a : *found) items.push_back(approval_json(a));
      return json_reply(200, json::object{{"approvals", items}});
    }
    case RouteId::kAdminApprove:
      return pending(lifecycle_.approve(actor, params.at(0)), 200);
    case RouteId::kAdminCancelApproval:
      return pending(lifecycle_.cancel(actor, params.at(0)), 200);
    case RouteId::kAdminCircuits: {
      json::array items;
      for (const auto& l : lifecycle_.list_circuits()) {
        json::object o = circuit_state_json(l.state);
        o["loaded"] = l.loaded;
        json::array partners;
        for (const auto& [client_id, proofs] : l.partners)
          partners.push_back(json::object{{"client_id", client_id}, {"proofs", proofs}});
        o["partners"] = partners;
        items.push_back(o);
      }
      return json_reply(200, json::object{{"circuits", items}});
    }
    case RouteId::kAdminCircuitUpload: {
      if (!installer_ || !policy_)
        return problem({core::ErrorCode::kNotFound, "", "uploads are not stored here"});
      auto parts =
          parse_multipart(request.content_type, request.body, std::size(core::kUploadFiles));
      if (const auto* why = std::get_if<std::string>(&parts)) return invalid("body", *why);
      core::UploadFiles files;
      for (const FormPart& p : std::get<std::vector<FormPart>>(parts))
        files.emplace(p.name, std::string(p.body));
      auto stored = lifecycle_.upload(actor, files, *installer_, *policy_);
      if (!stored) return problem(stored.error());
      return json_reply(201, circuit_state_json(*stored));
    }
    case RouteId::kAdminAuditExportRequest: {
      boost::system::error_code ec;
      const json::value body = json::parse(request.body, ec);
      if (ec || !body.is_object()) return invalid("body", "must be a JSON object");
      core::UnixMillis range[2] = {0, 0};
      const char* names[2] = {"from", "to"};
      for (int i = 0; i < 2; ++i) {
        const auto* v = body.as_object().if_contains(names[i]);
        std::optional<core::UnixMillis> at;
        if (v && v->is_string()) at = parse_time_param(v->get_string());
        if (v && v->is_int64() && v->get_int64() >= 0) at = v->get_int64();
        if (!at) return invalid(names[i], "required: an RFC 3339 time or Unix milliseconds");
        range[i] = *at;
      }
      return pending(lifecycle_.request_export(actor, range[0], range[1]), 202);
    }
    case RouteId::kAdminAuditExport: {
      if (!audit_) return problem({core::ErrorCode::kNotFound, "", "no audit export here"});
      auto granted = lifecycle_.export_grant(actor, query_param(query, "approval").value_or(""));
      if (!granted) return problem(granted.error());
      const json::value p = json::parse(granted->params_json);
      return audit_export(*audit_, p.at("from").to_number<core::UnixMillis>(),
                          p.at("to").to_number<core::UnixMillis>());
    }
    case RouteId::kAdminResumeClient:
      return pending(lifecycle_.request_resume(actor, params.at(0)), 202);
    case RouteId::kAdminCircuitEnable:
      return pending(lifecycle_.request_enable(actor, params.at(0), params.at(1)), 202);
    case RouteId::kAdminCircuitDisable:
      return state(lifecycle_.disable(actor, params.at(0), params.at(1)));
    case RouteId::kAdminCircuitDeprecate: {
      boost::system::error_code ec;
      const json::value body = json::parse(request.body, ec);
      if (ec || !body.is_object()) return invalid("body", "must be a JSON object");
      const json::object& o = body.as_object();
      std::optional<core::UnixMillis> sunset;
      if (const auto* v = o.if_contains("sunset"); v && v->is_string())
        sunset = core::parse_utc_time(v->get_string());
      if (!sunset) return invalid("sunset", "required: RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
      std::string successor;
      if (const auto* v = o.if_contains("successor"); v && !v->is_null()) {
        if (!v->is_string()) return invalid("successor", "must be a version string");
        successor = v->get_string();
      }
      return state(lifecycle_.deprecate(actor, params.at(0), params.at(1), *sunset, successor));
    }
    case RouteId::kAdminMinVersions:
      return json_reply(200,
                        min_versions_json(params.at(0), lifecycle_.min_versions(params.at(0))));
    case RouteId::kAdminSetMinVersion: {
      boost::system::error_code ec;
      const json::value body = json::parse(request.body, ec);
      if (ec || !body.is_object()) return invalid("body", "must be a JSON object");
      const json::object& o = body.as_object();
      const auto* claim = o.if_contains("claim_type");
      if (!claim || !claim->is_string()) return invalid("claim_type", "required: a claim type");
      std::string min;
      const auto* v = o.if_contains("min_version");
      if (!v) return invalid("min_version", "required: a version, or null for none");
      if (!v->is_null()) {
        if (!v->is_string()) return invalid("min_version", "must be a version string or null");
        min = v->get_string();
      }
      auto set = lifecycle_.set_min_version(actor, params.at(0), claim->get_string(), min);
      if (!set) return problem(set.error());
      return json_reply(200, min_versions_json(params.at(0), *set));
    }
    default:
      return problem({core::ErrorCode::kNotFound, "", "no such admin route"});
  }
}

}  // namespace pg::http
