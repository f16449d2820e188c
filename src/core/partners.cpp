// The partner use cases of AdminService beyond create and revoke: a cursor-paged list, show,
// update, suspend and resume, and API-key rotation with an overlap (see admin_service.hpp).
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "core/admin_service.hpp"
#include "core/catalog.hpp"
#include "core/service.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {

constexpr std::int64_t kMaxKeyOverlapSeconds = std::int64_t{30} * 86400;
constexpr std::size_t kMaxPageSize = 200;

ApiError unknown_client() {
  return {ErrorCode::kNotFound, "client_id", "no partner with this id"};
}

/// The cursor is base64url("<created_at>.<id>") of the page's last partner: opaque to callers,
/// and a position in (created_at, id) order rather than an offset, so inserts do not shift it.
std::string encode_cursor(const Client& last) {
  return base64url(std::to_string(last.created_at) + "." + last.id);
}

std::optional<std::pair<UnixMillis, std::string>> decode_cursor(std::string_view cursor) {
  const auto text = base64url_decode(cursor);
  if (!text) return std::nullopt;
  const auto dot = text->find('.');
  if (dot == std::string::npos || dot == 0) return std::nullopt;
  UnixMillis at = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + dot, at);
  if (ec != std::errc() || end != text->data() + dot || at < 0) return std::nullopt;
  std::string id = text->substr(dot + 1);
  if (!is_uuid(id)) return std::nullopt;
  return std::pair{at, std::move(id)};
}

std::optional<ApiError> check_scopes(const std::vector<std::string>& scopes) {
  if (scopes.empty()) return invalid("scopes", "at least one claim type");
  for (const auto& s : scopes) {
    if (!is_claim_type(s)) return invalid("scopes", "unknown claim type '" + s + "'");
  }
  return std::nullopt;
}

std::optional<ApiError> check_domains(const std::vector<std::string>& domains) {
  if (domains.empty()) return invalid("domains", "at least one verifier domain");
  for (auto it = domains.begin(); it != domains.end(); ++it) {
    if (!is_domain(*it)) return invalid("domains", "'" + *it + "' is not a lowercase DNS name");
    if (std::find(domains.begin(), it, *it) != it)
      return invalid("domains", "'" + *it + "' is listed twice");
  }
  return std::nullopt;
}

json::array strings(const std::vector<std::string>& values) {
  return json::array(values.begin(), values.end());
}

/// The scopes or domains of `wanted` its live partner does not have, as "field", "value".
std::optional<ApiError> beyond_partner(std::string_view field,
                                       const std::vector<std::string>& wanted,
                                       const std::vector<std::string>& partner) {
  for (const auto& w : wanted) {
    if (std::find(partner.begin(), partner.end(), w) == partner.end()) {
      return ApiError{ErrorCode::kInvalidRequest, std::string(field),
                      "'" + w + "' is not one of the live partner's " + std::string(field) +
                          "; a test twin has only what its partner has"};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> twin_partner_inactive(Store& store, const Client& client) {
  if (client.live_client_id.empty()) return std::nullopt;
  const auto partner = store.find_client(client.live_client_id);
  if (partner && partner->suspended_at == 0 && partner->revoked_at == 0) return std::nullopt;
  return ApiError{ErrorCode::kConflict, "client_id",
                  "this is the test twin of partner " + client.live_client_id +
                      ", which is suspended or revoked; the twin follows its partner"};
}

Outcome<ClientPage> AdminService::list_clients_page(std::string_view cursor, std::size_t limit) {
  if (limit < 1 || limit > kMaxPageSize)
    return invalid("limit", "must be an integer from 1 to 200");
  std::pair<UnixMillis, std::string> after{0, ""};
  if (!cursor.empty()) {
    auto decoded = decode_cursor(cursor);
    if (!decoded) return invalid("cursor", "not a cursor this API answered");
    after = std::move(*decoded);
  }
  // One more than asked tells whether another page follows.
  ClientPage page;
  page.clients = p_.store.list_clients_after(after.first, after.second, limit + 1);
  if (page.clients.size() > limit) {
    page.clients.resize(limit);
    page.next_cursor = encode_cursor(page.clients.back());
  }
  return page;
}

Outcome<ClientDetail> AdminService::show_client(std::string_view client_id) {
  auto client = is_uuid(client_id) ? p_.store.find_client(client_id) : std::nullopt;
  if (!client) return unknown_client();
  ClientDetail out{std::move(*client), p_.store.client_keys(client_id)};
  return out;
}

Outcome<ClientDetail> AdminService::update_client(const Actor& actor, std::string_view client_id,
                                                  const ClientUpdate& update) {
  auto found = is_uuid(client_id) ? p_.store.find_client(client_id) : std::nullopt;
  if (!found) return unknown_client();
  Client c = std::move(*found);
  json::object changed;
  if (update.name) {
    if (update.name->empty() || update.name->size() > 200)
      return invalid("name", "must be 1 to 200 characters");
    c.name = *update.name;
    changed["name"] = c.name;
  }
  // A test twin may narrow its partner's scopes and domains, never widen them.
  std::optional<Client> partner;
  if (!c.live_client_id.empty() && (update.scopes || update.domains))
    partner = p_.store.find_client(c.live_client_id);
  if (update.scopes) {
    if (auto e = check_scopes(*update.scopes)) return *e;
    if (partner) {
      if (auto e = beyond_partner("scopes", *update.scopes, partner->scopes)) return *e;
    }
    c.scopes = *update.scopes;
    changed["scopes"] = strings(c.scopes);
  }
  if (update.domains) {
    if (auto e = check_domains(*update.domains)) return *e;
    if (partner) {
      if (auto e = beyond_partner("domains", *update.domains, partner->domains)) return *e;
    }
    c.domains = *update.domains;
    changed["domains"] = strings(c.domains);
  }
  if (update.webhook_url) {
    if (update.webhook_url->empty()) return invalid("webhook_url", "must not be empty");
    if (c.webhook_url.empty()) {
      return invalid("webhook_url",
                     "the partner has no webhook URL yet: rotate-webhook-secret with a webhook_url "
                     "sets the first one and its secret");
    }
    if (const auto refused = p_.webhooks.refuse(*update.webhook_url, update.allow_loopback_webhook))
      return invalid("webhook_url", *refused);
    c.webhook_url = *update.webhook_url;
    changed["webhook_host"] = url_host(c.webhook_url);  // never the path: it may hold a token
  }
  if (changed.empty())
    return invalid("", "give at least one of name, scopes, domains, webhook_url");
  const json::object details{{"client_id", c.id}, {"changed", changed}};
  if (const auto taken =
          p_.changes.update_client(c, entry(actor, "client.updated", json::serialize(details)))) {
    return ApiError{ErrorCode::kConflict, "domains",
                    "the verifier domain '" + *taken +
                        "' belongs to another partner (a domain has one partner)"};
  }
  return show_client(client_id);
}

Outcome<Suspension> AdminService::set_suspended(const Actor& actor, std::string_view client_id,
                                                bool suspend) {
  if (!is_uuid(client_id)) return unknown_client();
  if (!suspend) {
    if (const auto client = p_.store.find_client(client_id)) {
      if (auto e = twin_partner_inactive(p_.store, *client)) return *e;
    }
  }
  const UnixMillis now = p_.clock.now_ms();
  const json::object details{{"client_id", client_id}};
  switch (p_.changes.set_client_suspended(
      client_id, suspend ? now : 0,
      entry(actor, suspend ? "client.suspended" : "client.resumed", json::serialize(details)))) {
    case ClientChange::kUnknownClient:
      return unknown_client();
    case ClientChange::kUnchanged:
      return Suspension{std::string(client_id), suspend, false, 0};
    case ClientChange::kChanged:
      break;
  }
  if (!suspend) notify();  // its held webhooks are due now
  return Suspension{std::string(client_id), suspend, true, now};
}

Outcome<Suspension> AdminService::suspend_client(const Actor& actor, std::string_view client_id) {
  return set_suspended(actor, client_id, true);
}

Outcome<Suspension> AdminService::resume_client(const Actor& actor, std::string_view client_id) {
  return set_suspended(actor, client_id, false);
}

Outcome<RotatedKey> AdminService::rotate_key(const Actor& actor, std::string_view client_id,
                                             std::int64_t overlap_seconds) {
  if (overlap_seconds < 0 || overlap_seconds > kMaxKeyOverlapSeconds)
    return invalid("overlap_seconds", "must be 0 to 2592000 (30 days)");
  if (!is_uuid(client_id)) return unknown_client();
  const UnixMillis now = p_.clock.now_ms();
  const auto client = p_.store.find_client(client_id);
  if (!client) return unknown_client();
  if (auto e = twin_partner_inactive(p_.store, *client)) return *e;
  const ApiKey key = new_api_key(client->mode);  // a test client's keys stay test keys
  RotatedKey out{std::string(client_id), key.text, key.prefix, now + overlap_seconds * 1000};
  // The audit names the partner and the overlap; never the key or its prefix.
  const json::object details{{"client_id", client_id},
                             {"overlap_seconds", overlap_seconds},
                             {"previous_keys_expire_at", rfc3339(out.previous_expires_at)}};
  if (p_.changes.rotate_key(client_id, ClientKey{key.prefix, key.hash, now, 0, 0, 0},
                            out.previous_expires_at,
                            entry(actor, "client.key_rotated", json::serialize(details))) ==
      ClientChange::kUnknownClient) {
    return unknown_client();
  }
  return out;
}

}  // namespace pg::core
