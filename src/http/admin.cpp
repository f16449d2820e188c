// The admin API (see admin.hpp).
#include "http/admin.hpp"

#include <boost/json.hpp>

#include "core/catalog.hpp"
#include "core/secrets.hpp"
#include "core/service.hpp"
#include "http/presenter.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {
HttpReply err(core::ErrorCode code, std::string field, std::string detail) {
  return problem({code, std::move(field), std::move(detail)});
}

json::object delivery_json(const core::Delivery& d) {
  json::object o{
      {"event_id", d.event.event_id},     {"client_id", d.event.client_id},
      {"event_type", d.event.event_type}, {"status", d.status},
      {"attempts", d.attempts},           {"created_at", core::rfc3339(d.event.created_at)}};
  o["proof_id"] = d.event.proof_id.empty() ? json::value(nullptr) : json::value(d.event.proof_id);
  o["next_attempt_at"] = d.status == core::kDeliveryPending
                             ? json::value(core::rfc3339(d.next_attempt_at))
                             : json::value(nullptr);
  o["delivered_at"] =
      d.delivered_at ? json::value(core::rfc3339(d.delivered_at)) : json::value(nullptr);
  o["last_error"] = d.last_error.empty() ? json::value(nullptr) : json::value(d.last_error);
  return o;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto amp = query.find('&', start);
    const std::string_view pair =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      std::string out;
      const std::string_view v =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '+') {
          out.push_back(' ');
        } else if (v[i] == '%' && i + 2 < v.size() + 0 && i + 2 <= v.size() - 1 + 1 &&
                   hex_value(v[i + 1]) >= 0 && i + 2 < v.size() && hex_value(v[i + 2]) >= 0) {
          out.push_back(static_cast<char>(hex_value(v[i + 1]) * 16 + hex_value(v[i + 2])));
          i += 2;
        } else {
          out.push_back(v[i]);
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return std::nullopt;
}

std::pair<std::string, std::string> new_admin_token() {
  const std::string token = "pga_" + core::base64url(core::random_bytes(32));
  const auto digest = core::sha256(token);
  return {token, core::hex(digest)};
}

AdminApi::AdminApi(core::OutboxStore& outbox, core::Store& store, core::AuditStore& audit,
                   const core::Clock& clock,
                   std::optional<std::array<std::uint8_t, 32>> token_sha256,
                   std::function<void()> notify_worker)
    : outbox_(outbox),
      store_(store),
      audit_(audit),
      clock_(clock),
      token_sha256_(token_sha256),
      notify_worker_(std::move(notify_worker)) {}

// After the action: a failing audit write answers INTERNAL saying the action stands without its
// entry. The actor is the token, by the first 12 hex digits of its configured SHA-256 (never the
// token).
std::optional<HttpReply> AdminApi::record(std::string_view action, std::string details_json) {
  core::AuditEntry entry;
  entry.actor_type = std::string(core::kActorAdminApi);
  entry.actor_id =
      token_sha256_ ? "token:" + core::hex(*token_sha256_).substr(0, 12) : std::string();
  entry.action = std::string(action);
  entry.details_json = std::move(details_json);
  entry.at = clock_.now_ms();
  try {
    audit_.record_audit(entry);
  } catch (const std::exception&) {
    return err(core::ErrorCode::kInternal, "",
               std::string(action) + " was done, but its audit entry could not be recorded");
  }
  return std::nullopt;
}

std::optional<HttpReply> AdminApi::authorize(std::string_view authorization) const {
  if (!token_sha256_) {
    return err(core::ErrorCode::kUnauthorized, "Authorization",
               "the admin API is off: set admin_token_sha256");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) {
    return err(core::ErrorCode::kUnauthorized, "Authorization",
               "an admin token is required (Authorization: Bearer <token>)");
  }
  const auto digest = core::sha256(authorization.substr(kBearer.size()));
  if (!core::equal_ct(digest, *token_sha256_)) {
    return err(core::ErrorCode::kUnauthorized, "Authorization", "the admin token is not valid");
  }
  return std::nullopt;
}

HttpReply AdminApi::handle(RouteId route, std::string_view authorization, std::string_view query,
                           const std::vector<std::string_view>& params) {
  if (auto denied = authorize(authorization)) return *denied;
  switch (route) {
    case RouteId::kAdminDeliveries: {
      const std::string client = query_param(query, "client_id").value_or("");
      const std::string status = query_param(query, "status").value_or("");
      if (!client.empty() && !core::is_uuid(client))
        return err(core::ErrorCode::kInvalidRequest, "client_id", "must be a partner id");
      if (!status.empty() && status != core::kDeliveryPending &&
          status != core::kDeliveryDelivered && status != core::kDeliveryDead) {
        return err(core::ErrorCode::kInvalidRequest, "status",
                   "must be pending, delivered or dead");
      }
      std::size_t limit = 100;
      if (const auto l = query_param(query, "limit")) {
        if (l->empty() || l->size() > 4 ||
            l->find_first_not_of("0123456789") != std::string::npos || std::stoul(*l) < 1 ||
            std::stoul(*l) > 1000) {
          return err(core::ErrorCode::kInvalidRequest, "limit",
                     "must be an integer from 1 to 1000");
        }
        limit = std::stoul(*l);
      }
      json::array items;
      for (const auto& d : outbox_.list_deliveries(client, status, limit))
        items.push_back(delivery_json(d));
      HttpReply r;
      r.body = json::serialize(json::object{{"deliveries", items}});
      return r;
    }
    case RouteId::kAdminDelivery: {
      const auto d = outbox_.find_delivery(params.at(0));
      if (!d) return err(core::ErrorCode::kNotFound, "event_id", "no delivery with this event id");
      json::object o = delivery_json(*d);
      json::array attempts;
      for (const auto& a : outbox_.delivery_attempts(d->event.event_id)) {
        json::object ao{{"attempt", a.attempt},
                        {"started_at", core::rfc3339(a.started_at)},
                        {"latency_ms", a.latency_ms}};
        ao["status_code"] = a.status_code ? json::value(a.status_code) : json::value(nullptr);
        ao["error"] = a.error.empty() ? json::value(nullptr) : json::value(a.error);
        attempts.push_back(ao);
      }
      o["attempts"] = attempts;
      o["payload"] = json::parse(d->event.payload);
      HttpReply r;
      r.body = json::serialize(o);
      return r;
    }
    case RouteId::kAdminReplay: {
      const auto d = outbox_.find_delivery(params.at(0));
      if (!d) return err(core::ErrorCode::kNotFound, "event_id", "no delivery with this event id");
      if (!outbox_.replay(d->event.event_id, clock_.now_ms())) {
        return err(core::ErrorCode::kInvalidRequest, "event_id", "the delivery is pending already");
      }
      if (notify_worker_) notify_worker_();
      if (auto failed = record("delivery.replayed",
                               json::serialize(json::object{{"event_id", d->event.event_id},
                                                            {"client_id", d->event.client_id},
                                                            {"event_type", d->event.event_type},
                                                            {"previous_status", d->status},
                                                            {"attempts", d->attempts}}))) {
        return *failed;
      }
      HttpReply r;
      r.status = 202;
      r.body = json::serialize(delivery_json(*outbox_.find_delivery(d->event.event_id)));
      return r;
    }
    case RouteId::kAdminTestWebhook: {
      const std::string client_id(params.at(0));
      const auto target =
          core::is_uuid(client_id) ? outbox_.webhook_target(client_id) : std::nullopt;
      if (!target) return err(core::ErrorCode::kNotFound, "client_id", "no partner with this id");
      if (target->url.empty())
        return err(core::ErrorCode::kInvalidRequest, "client_id", "the partner has no webhook URL");
      const core::UnixMillis now = clock_.now_ms();
      core::OutboxEvent e;
      e.event_id = core::uuid_v4();
      e.client_id = client_id;
      e.event_type = "webhook.test";
      e.payload = json::serialize(json::object{
          {"event", "webhook.test"}, {"event_id", e.event_id}, {"ts", core::rfc3339(now)}});
      e.created_at = now;
      outbox_.enqueue_event(e, now);
      if (notify_worker_) notify_worker_();
      if (auto failed = record(
              "webhook.test_sent",
              json::serialize(json::object{{"client_id", client_id}, {"event_id", e.event_id}}))) {
        return *failed;
      }
      HttpReply r;
      r.status = 202;
      r.body = json::serialize(json::object{{"event_id", e.event_id}, {"status", "pending"}});
      return r;
    }
    default:
      return err(core::ErrorCode::kNotFound, "", "no such admin route");
  }
}

}  // namespace pg::http
