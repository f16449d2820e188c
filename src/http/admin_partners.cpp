// The partner routes of the admin API (/api/admin/clients...): create, list by cursor, show,
// update, suspend (resume asks for an approval: lifecycle_api.cpp), rotate the API key, rotate the
// webhook secret. Decode, call core::AdminService, present; keys and secrets appear only in the
// answer that made them.
#include <boost/json.hpp>
#include <charconv>

#include "core/service.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "http/admin.hpp"
#include "http/presenter.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {

constexpr std::int64_t kDefaultKeyOverlapSeconds = 86400;
constexpr std::int64_t kDefaultSecretOverlapSeconds = 86400;

HttpReply invalid(std::string field, std::string detail) {
  return problem({core::ErrorCode::kInvalidRequest, std::move(field), std::move(detail)});
}

HttpReply json_reply(int status, const json::value& body) {
  HttpReply r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

json::value time_or_null(core::UnixMillis at) {
  return at != 0 ? json::value(core::rfc3339(at)) : json::value(nullptr);
}

}  // namespace

json::object client_json(const core::Client& c) {
  json::object o{{"client_id", c.id},
                 {"name", c.name},
                 {"scopes", json::array(c.scopes.begin(), c.scopes.end())},
                 {"domains", json::array(c.domains.begin(), c.domains.end())},
                 {"status", c.suspended_at != 0 ? "suspended" : "active"},
                 {"mode", core::mode_name(c.mode)},
                 {"created_at", core::rfc3339(c.created_at)}};
  o["webhook_url"] = c.webhook_url.empty() ? json::value(nullptr) : json::value(c.webhook_url);
  o["suspended_at"] = time_or_null(c.suspended_at);
  o["keys_revoked_at"] = time_or_null(c.revoked_at);
  o["last_used_at"] = time_or_null(c.last_used);
  o["live_client_id"] =
      c.live_client_id.empty() ? json::value(nullptr) : json::value(c.live_client_id);
  return o;
}

namespace {

/// The keys by their public prefix, with their state at `now`.
json::array keys_json(const std::vector<core::ClientKey>& keys, core::UnixMillis now) {
  json::array out;
  for (const auto& k : keys) {
    const char* state = k.revoked_at != 0                            ? "revoked"
                        : (k.expires_at != 0 && k.expires_at <= now) ? "expired"
                                                                     : "active";
    out.push_back(json::object{{"key_prefix", k.prefix},
                               {"state", state},
                               {"created_at", core::rfc3339(k.created_at)},
                               {"expires_at", time_or_null(k.expires_at)},
                               {"revoked_at", time_or_null(k.revoked_at)},
                               {"last_used_at", time_or_null(k.last_used_at)}});
  }
  return out;
}

}  // namespace

json::object client_detail_json(const core::ClientDetail& d, core::UnixMillis now) {
  json::object o = client_json(d.client);
  o["keys"] = keys_json(d.keys, now);
  return o;
}

namespace {

/// The body as a JSON object holding only `allowed` members (an empty body reads as {}).
std::variant<json::object, HttpReply> body_object(std::string_view body,
                                                  std::initializer_list<std::string_view> allowed) {
  if (body.empty()) return json::object();
  auto parsed = crypto::snarkjs::parse_json(body, "body");
  if (!parsed) return invalid(parsed.error().field, parsed.error().message);
  if (!parsed->is_object()) return invalid("body", "must be a JSON object");
  for (const auto& [key, value] : parsed->get_object()) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end())
      return invalid(std::string(key), "is not a member of this request");
  }
  return std::move(parsed->get_object());
}

/// A member that must be a string when present.
std::variant<std::optional<std::string>, HttpReply> opt_string(const json::object& o,
                                                               std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return invalid(std::string(name), "must be a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

/// A member that must be an array of strings when present.
std::variant<std::optional<std::vector<std::string>>, HttpReply> opt_strings(
    const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) return invalid(std::string(name), "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return invalid(std::string(name), "must be an array of strings");
    out.emplace_back(e.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

/// overlap_seconds: an integer when present, else `fallback`.
std::variant<std::int64_t, HttpReply> overlap(const json::object& o, std::int64_t fallback) {
  const json::value* v = o.if_contains("overlap_seconds");
  if (v == nullptr) return fallback;
  if (!v->is_int64() && !v->is_uint64())
    return invalid("overlap_seconds", "must be an integer from 0 to 2592000 (30 days)");
  if (v->is_uint64() && v->get_uint64() > 2592000)
    return invalid("overlap_seconds", "must be an integer from 0 to 2592000 (30 days)");
  return v->is_int64() ? v->get_int64() : static_cast<std::int64_t>(v->get_uint64());
}

template <class T>
HttpReply* failed(std::variant<T, HttpReply>& v) {
  return std::get_if<HttpReply>(&v);
}

}  // namespace

HttpReply AdminApi::partners(RouteId route, const core::Actor& actor, std::string_view query,
                             const std::vector<std::string_view>& params, std::string_view body) {
  const std::string_view client_id = params.empty() ? std::string_view() : params.at(0);
  const core::UnixMillis now = core::SystemClock().now_ms();
  switch (route) {
    case RouteId::kAdminCreateClient: {
      auto o = body_object(body, {"name", "scopes", "domains", "webhook_url", "mode"});
      if (auto* e = failed(o)) return *e;
      const json::object& in = std::get<json::object>(o);
      auto name = opt_string(in, "name");
      if (auto* e = failed(name)) return *e;
      auto scopes = opt_strings(in, "scopes");
      if (auto* e = failed(scopes)) return *e;
      auto domains = opt_strings(in, "domains");
      if (auto* e = failed(domains)) return *e;
      auto url = opt_string(in, "webhook_url");
      if (auto* e = failed(url)) return *e;
      auto mode = opt_string(in, "mode");
      if (auto* e = failed(mode)) return *e;
      const std::string mode_text = std::get<0>(mode).value_or("live");
      if (mode_text != "live" && mode_text != "test")
        return invalid("mode", "must be live (the partner and its test twin) or test (alone)");
      core::NewClient spec;
      spec.name = std::get<0>(name).value_or("");
      spec.scopes = std::get<0>(scopes).value_or(std::vector<std::string>{});
      spec.domains = std::get<0>(domains).value_or(std::vector<std::string>{});
      spec.webhook_url = std::get<0>(url).value_or("");
      spec.allow_loopback_webhook = allow_loopback_webhooks_;
      spec.test_only = mode_text == "test";
      auto created = admin_.create_client(actor, spec);
      if (!created) return problem(created.error());
      json::object out = client_json(created->client);
      // Shown once: only the prefix and a hash of the key, and the sealed secret, are kept.
      out["api_key"] = created->api_key;
      out["key_prefix"] = created->client.key_prefix;
      out["client_secret"] = created->client_secret;  // OAuth2 (client_id is the id)
      out["webhook_secret"] = created->webhook_secret.empty()
                                  ? json::value(nullptr)
                                  : json::value(created->webhook_secret);
      if (created->test) {
        // The partner's test twin, shown once as the live side is.
        const core::CreatedSide& t = *created->test;
        out["test_client_id"] = t.client.id;
        out["test_api_key"] = t.api_key;
        out["test_key_prefix"] = t.client.key_prefix;
        out["test_client_secret"] = t.client_secret;  // no webhook URL yet: none of its own
      }
      return json_reply(201, out);
    }
    case RouteId::kAdminClients: {
      std::size_t limit = 50;
      if (const auto l = query_param(query, "limit")) {
        if (l->empty() || l->size() > 3 || l->find_first_not_of("0123456789") != std::string::npos)
          return invalid("limit", "must be an integer from 1 to 200");
        limit = std::stoul(*l);
      }
      auto page = admin_.list_clients_page(query_param(query, "cursor").value_or(""), limit);
      if (!page) return problem(page.error());
      json::array items;
      for (const auto& c : page->clients) items.push_back(client_json(c));
      json::object out{{"clients", items}};
      out["next_cursor"] =
          page->next_cursor.empty() ? json::value(nullptr) : json::value(page->next_cursor);
      return json_reply(200, out);
    }
    case RouteId::kAdminClient: {
      auto found = admin_.show_client(client_id);
      if (!found) return problem(found.error());
      return json_reply(200, client_detail_json(*found, now));
    }
    case RouteId::kAdminUpdateClient: {
      auto o = body_object(body, {"name", "scopes", "domains", "webhook_url"});
      if (auto* e = failed(o)) return *e;
      const json::object& in = std::get<json::object>(o);
      core::ClientUpdate update;
      auto name = opt_string(in, "name");
      if (auto* e = failed(name)) return *e;
      auto scopes = opt_strings(in, "scopes");
      if (auto* e = failed(scopes)) return *e;
      auto domains = opt_strings(in, "domains");
      if (auto* e = failed(domains)) return *e;
      auto url = opt_string(in, "webhook_url");
      if (auto* e = failed(url)) return *e;
      update.name = std::get<0>(name);
      update.scopes = std::get<0>(scopes);
      update.domains = std::get<0>(domains);
      update.webhook_url = std::get<0>(url);
      update.allow_loopback_webhook = allow_loopback_webhooks_;
      auto updated = admin_.update_client(actor, client_id, update);
      if (!updated) return problem(updated.error());
      return json_reply(200, client_detail_json(*updated, now));
    }
    case RouteId::kAdminSuspendClient: {
      auto done = admin_.suspend_client(actor, client_id);
      if (!done) return problem(done.error());
      return json_reply(200, json::object{{"client_id", done->client_id},
                                          {"status", done->suspended ? "suspended" : "active"},
                                          {"changed", done->changed},
                                          {"at", time_or_null(done->at)}});
    }
    case RouteId::kAdminRotateKey: {
      auto o = body_object(body, {"overlap_seconds"});
      if (auto* e = failed(o)) return *e;
      auto seconds = overlap(std::get<json::object>(o), kDefaultKeyOverlapSeconds);
      if (auto* e = failed(seconds)) return *e;
      auto rotated = admin_.rotate_key(actor, client_id, std::get<std::int64_t>(seconds));
      if (!rotated) return problem(rotated.error());
      return json_reply(200, json::object{{"client_id", rotated->client_id},
                                          {"api_key", rotated->api_key},
                                          {"key_prefix", rotated->key_prefix},
                                          {"previous_keys_expire_at",
                                           core::rfc3339(rotated->previous_expires_at)}});
    }
    case RouteId::kAdminRotateWebhookSecret: {
      if (!core::is_uuid(client_id))
        return problem({core::ErrorCode::kNotFound, "client_id", "no partner with this id"});
      auto o = body_object(body, {"overlap_seconds", "webhook_url"});
      if (auto* e = failed(o)) return *e;
      const json::object& in = std::get<json::object>(o);
      auto seconds = overlap(in, kDefaultSecretOverlapSeconds);
      if (auto* e = failed(seconds)) return *e;
      auto url = opt_string(in, "webhook_url");
      if (auto* e = failed(url)) return *e;
      auto rotated =
          admin_.rotate_webhook_secret(actor, client_id, std::get<std::int64_t>(seconds),
                                       std::get<0>(url).value_or(""), allow_loopback_webhooks_);
      if (!rotated) return problem(rotated.error());
      return json_reply(200, json::object{{"client_id", rotated->client_id},
                                          {"webhook_secret", rotated->webhook_secret},
                                          {"previous_secret_signs_until",
                                           core::rfc3339(rotated->previous_signs_until)}});
    }
    default:
      return problem({core::ErrorCode::kNotFound, "", "no such admin route"});
  }
}

}  // namespace pg::http
