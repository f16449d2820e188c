// The issuer node's HTTP routes: request parsing, strict bodies, the admin token check and the
// mapping of the node's answers and errors to HTTP.
#include "issuer/http_routes.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "core/secrets.hpp"
#include "http/admin.hpp"
#include "http/embedded_assets.hpp"
#include "http/qr.hpp"
#include "log/log.hpp"

namespace pg::issuer {
namespace {

using http::HttpReply;
using http::HttpRequest;

constexpr std::string_view kPrefix = "/issuer/v1/";

HttpReply json_reply(int status, const boost::json::value& body, std::string route) {
  HttpReply r;
  r.status = status;
  r.body = boost::json::serialize(body);
  r.route = std::move(route);
  return r;
}

HttpReply error_reply(const NodeError& e, std::string route) {
  HttpReply r =
      json_reply(http_status(e.code),
                 boost::json::object{{"error_code", error_code_name(e.code)}, {"detail", e.detail}},
                 std::move(route));
  r.error_code = std::string(error_code_name(e.code));
  if (e.retry_after_s > 0 || e.code == NodeErrorCode::kRateLimited ||
      e.code == NodeErrorCode::kLockedOut) {
    r.headers.emplace_back("Retry-After", std::to_string(std::max(1u, e.retry_after_s)));
  }
  if (e.code == NodeErrorCode::kUnauthorized) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  return r;
}

HttpReply invalid(std::string detail, std::string route) {
  return error_reply({NodeErrorCode::kInvalidRequest, std::move(detail), 0}, std::move(route));
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

/// A JSON object with exactly the string members `names` (and `integer_names` as integers);
/// nullopt with `error` naming the member otherwise.
struct Body {
  boost::json::object object;
};
std::optional<Body> strict_body(std::string_view text,
                                std::initializer_list<std::string_view> strings,
                                std::initializer_list<std::string_view> integers,
                                std::string& error) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) {
    error = "body: must be a JSON object";
    return std::nullopt;
  }
  boost::json::object& object = value.as_object();
  for (const auto& member : object) {
    const std::string_view key = member.key();
    const bool known = std::find(strings.begin(), strings.end(), key) != strings.end() ||
                       std::find(integers.begin(), integers.end(), key) != integers.end();
    if (!known) {
      error = std::string(key) + ": unknown member";
      return std::nullopt;
    }
  }
  for (const std::string_view name : strings) {
    const auto* v = object.if_contains(name);
    if (v == nullptr || !v->is_string()) {
      error = std::string(name) + ": required, a string";
      return std::nullopt;
    }
  }
  for (const std::string_view name : integers) {
    const auto* v = object.if_contains(name);
    if (v == nullptr || !(v->is_int64() || v->is_uint64())) {
      error = std::string(name) + ": required, an integer";
      return std::nullopt;
    }
  }
  return Body{std::move(object)};
}

std::string str(const boost::json::object& o, std::string_view name) {
  return std::string(o.at(name).as_string());
}

boost::json::object entries_json(std::uint32_t issuer_id, const FeedAnswer& answer) {
  boost::json::array entries;
  for (const feed::FeedEntry& e : answer.entries) entries.emplace_back(feed::to_json(e));
  return {{"issuer_id", issuer_id}, {"entries", std::move(entries)}};
}

/// `If-None-Match` against the ETag `"<seq>"` (a bare seq is taken too).
std::string etag(std::uint64_t seq) {
  std::string out(1, '"');
  out.append(std::to_string(seq));
  out.push_back('"');
  return out;
}
bool etag_matches(std::string_view header, std::uint64_t seq) {
  if (header.starts_with("W/")) header.remove_prefix(2);
  return header == std::to_string(seq) || header == etag(seq);
}

/// GET /issuer/v1/admin/audit?before=ID&limit=N: newest first; `next_before` is the cursor of
/// the next page (null on the last one).
HttpReply audit_list(IssuerNode& node, std::string_view query, const std::string& actor) {
  const std::string r = "/issuer/v1/admin/audit";
  std::int64_t before = INT64_MAX;
  std::size_t limit = 50;
  if (const auto b = http::query_param(query, "before")) {
    const auto v = parse_u64(*b);
    if (!v || *v < 1 || *v > static_cast<std::uint64_t>(INT64_MAX)) {
      return invalid("before: a positive integer (an entry's id)", r);
    }
    before = static_cast<std::int64_t>(*v);
  }
  if (const auto l = http::query_param(query, "limit")) {
    const auto v = parse_u64(*l);
    if (!v || *v < 1 || *v > 500) return invalid("limit: an integer from 1 to 500", r);
    limit = static_cast<std::size_t>(*v);
  }
  const std::vector<AuditRow> rows = node.audit_page(before, limit, actor);
  boost::json::array entries;
  for (const AuditRow& row : rows) {
    entries.emplace_back(boost::json::object{{"id", row.id},
                                             {"at", row.record.at},
                                             {"actor", row.record.actor},
                                             {"action", row.record.action},
                                             {"target", row.record.target},
                                             {"detail", row.record.detail}});
  }
  boost::json::object body{{"entries", std::move(entries)}};
  body["next_before"] = rows.size() == limit && rows.back().id > 1
                            ? boost::json::value(rows.back().id)
                            : boost::json::value(nullptr);
  return json_reply(200, body, r);
}

/// The operators' page (clients/issuer-console): GET /issuer/console and its two assets, under a
/// strict Content-Security-Policy (no inline script or style; it talks to this node only).
HttpReply console_page(std::string_view path) {
  const auto asset = http::embedded_asset(path);
  if (!asset) return error_reply({NodeErrorCode::kNotFound, "no such route", 0}, "unmatched");
  HttpReply r;
  r.route = "/issuer/console";
  r.content_type = std::string(asset->content_type);
  r.shared_body = std::make_shared<const std::string>(asset->body);
  r.headers.emplace_back("Cache-Control", "no-cache");
  if (!asset->etag.empty()) r.headers.emplace_back("ETag", "\"" + std::string(asset->etag) + "\"");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                         "data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
                         "frame-ancestors 'none'");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  return r;
}

HttpReply admin_route(IssuerNode& node, const std::array<std::uint8_t, 32>& token_sha256,
                      const HttpRequest& req, std::string_view path, std::string_view query) {
  constexpr std::string_view kBearer = "Bearer ";
  const std::string actor = "admin@" + std::string(req.peer_address);
  bool authorised = false;
  if (req.authorization.size() > kBearer.size() && req.authorization.starts_with(kBearer)) {
    const auto digest = core::sha256(req.authorization.substr(kBearer.size()));
    authorised = core::equal_ct(digest, token_sha256);
  }
  // The route goes into the audit table and the log as text: bytes outside printable ASCII (the
  // path is the caller's, before any authentication) are written as '?'.
  std::string route = "/issuer/v1/admin/" + std::string(path.substr(0, path.find('/')));
  for (char& ch : route) {
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = '?';
  }
  if (!authorised) {
    if (const unsigned wait = node.admin_auth_failure(http::throttle_key(req.peer_address));
        wait > 0) {
      return error_reply({NodeErrorCode::kRateLimited,
                          "too many failed admin authentications from this address", wait},
                         route);
    }
    log::warn("admin call refused: missing or wrong token", {{"route", route}});
    node.audit(actor, "unauthorized", route, "");
    return error_reply({NodeErrorCode::kUnauthorized, "a valid admin bearer token is required", 0},
                       route);
  }
  // credentials/{i}/revoke
  if (path.starts_with("credentials/") && path.ends_with("/revoke")) {
    const std::string_view index_text =
        path.substr(12, path.size() - 12 - std::string_view("/revoke").size());
    const std::string r = "/issuer/v1/admin/credentials/{leaf_index}/revoke";
    if (req.method != "POST") return error_reply({NodeErrorCode::kNotFound, "no such route", 0}, r);
    const std::optional<std::uint64_t> index = parse_u64(index_text);
    if (!index) return invalid("leaf_index: not a canonical non-negative integer", r);
    std::string error;
    const std::optional<Body> body = strict_body(req.body, {"reason"}, {}, error);
    if (!body) return invalid(error, r);
    const std::string reason = str(body->object, "reason");
    const bool control = std::any_of(reason.begin(), reason.end(), [](char ch) {
      return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
    });
    if (reason.empty() || reason.size() > 500 || control) {
      return invalid("reason: 1 to 500 characters, no control characters", r);
    }
    auto revoked = node.revoke(*index, reason, actor);
    if (!revoked) return error_reply(revoked.error(), r);
    return json_reply(200,
                      boost::json::object{{"leaf_index", revoked->leaf_index},
                                          {"root", revoked->root},
                                          {"root_seq", revoked->root_seq}},
                      r);
  }
  if (path == "credentials" && req.method == "GET") {
    const std::string r = "/issuer/v1/admin/credentials";
    std::int64_t after = -1;
    std::size_t limit = 100;
    if (const auto a = http::query_param(query, "after")) {
      const auto v = parse_u64(*a);
      if (!v || *v > static_cast<std::uint64_t>(INT64_MAX)) {
        return invalid("after: not a canonical non-negative integer", r);
      }
      after = static_cast<std::int64_t>(*v);
    }
    if (const auto l = http::query_param(query, "limit")) {
      const auto v = parse_u64(*l);
      if (!v || *v < 1 || *v > 1000) return invalid("limit: an integer from 1 to 1000", r);
      limit = static_cast<std::size_t>(*v);
    }
    boost::json::array list;
    for (const CredentialStatus& c : node.list(after, limit, actor)) {
      boost::json::object o{{"leaf_index", c.leaf_index},
                            {"status", c.revoked ? "revoked" : "active"},
                            {"issued_at", c.issued_at}};
      o["revoked_at"] = c.revoked ? boost::json::value(c.revoked_at) : boost::json::value(nullptr);
      list.emplace_back(std::move(o));
    }
    return json_reply(200, boost::json::object{{"credentials", std::move(list)}}, r);
  }
  if (path == "stats" && req.method == "GET") {
    const NodeStats s = node.stats(actor);
    return json_reply(200,
                      boost::json::object{{"leaf_count", s.leaf_count},
                                          {"revoked", s.revoked},
                                          {"root", s.root},
                                          {"root_seq", s.root_seq},
                                          {"authority",
                                           {{"calls", s.authority_calls},
                                            {"failures", s.authority_failures},
                                            {"attempts", s.authority_attempts},
                                            {"retries", s.authority_retries},
                                            {"fast_fails", s.authority_fast_fails},
                                            {"breaker", s.breaker}}}},
                      "/issuer/v1/admin/stats");
  }
  if (path == "audit" && req.method == "GET") return audit_list(node, query, actor);
  if (path == "offers" && req.method == "POST") {
    const std::string r = "/issuer/v1/admin/offers";
    std::string error;
    const std::optional<Body> body = strict_body(req.body, {"record"}, {}, error);
    if (!body) return invalid(error, r);
    auto link = node.offer(str(body->object, "record"), actor);
    if (!link) return error_reply(link.error(), r);
    return json_reply(201, boost::json::object{{"link", *link}, {"qr_svg", http::qr_svg(*link)}},
                      r);
  }
  if (path == "keys/rotate" && req.method == "POST") {
    const std::string r = "/issuer/v1/admin/keys/rotate";
    std::string error;
    const std::optional<Body> body = strict_body(req.body, {}, {"overlap_seconds"}, error);
    if (!body) return invalid(error, r);
    const auto& v = body->object.at("overlap_seconds");
    const std::int64_t overlap = v.is_int64() ? v.as_int64() : -1;
    auto rotated = node.rotate_key(overlap, actor);
    if (!rotated) return error_reply(rotated.error(), r);
    return json_reply(200,
                      boost::json::object{{"key_id", rotated->key_id},
                                          {"public_key", rotated->public_key},
                                          {"created_at", rotated->created_at}},
                      r);
  }
  return error_reply({NodeErrorCode::kNotFound, "no such route", 0}, "unmatched");
}

HttpReply route(IssuerNode& node, const std::array<std::uint8_t, 32>& token_sha256,
                const HttpRequest& req) {
  const std::string_view target = req.target;
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);

  if (path == "/healthz" && req.method == "GET") {
    return json_reply(200, boost::json::object{{"status", "ok"}}, "/healthz");
  }
  if ((path == "/issuer/console" || path.starts_with("/issuer/console/")) &&
      (req.method == "GET" || req.method == "HEAD")) {
    return console_page(path);
  }
  if (!path.starts_with(kPrefix)) {
    return error_reply({NodeErrorCode::kNotFound, "no such route", 0}, "unmatched");
  }
  const std::string_view rest = path.substr(kPrefix.size());
  if (rest.starts_with("admin/"))
    return admin_route(node, token_sha256, req, rest.substr(6), query);

  if (rest == "enrolments" && req.method == "POST") {
    const std::string r = "/issuer/v1/enrolments";
    std::string error;
    const std::optional<Body> body = strict_body(req.body, {"record"}, {}, error);
    if (!body) return invalid(error, r);
    auto sent =
        node.start_enrolment(str(body->object, "record"), http::throttle_key(req.peer_address));
    if (!sent) return error_reply(sent.error(), r);
    return json_reply(
        202, boost::json::object{{"sent_to", sent->sent_to}, {"expires_in", sent->expires_in_s}},
        r);
  }
  if (rest == "enrolments/complete" && req.method == "POST") {
    const std::string r = "/issuer/v1/enrolments/complete";
    std::string error;
    const std::optional<Body> body =
        strict_body(req.body, {"record", "code", "holder_commitment"}, {}, error);
    if (!body) return invalid(error, r);
    auto issued = node.complete_enrolment(str(body->object, "record"), str(body->object, "code"),
                                          str(body->object, "holder_commitment"),
                                          http::throttle_key(req.peer_address));
    if (!issued) return error_reply(issued.error(), r);
    return json_reply(issued->created ? 201 : 200, issued->credential, r);
  }
  if (rest.starts_with("credentials/") && req.method == "GET") {
    const std::string r = "/issuer/v1/credentials/{leaf_index}";
    const std::optional<std::uint64_t> index = parse_u64(rest.substr(12));
    if (!index) return invalid("leaf_index: not a canonical non-negative integer", r);
    auto path_answer = node.credential_path(*index);
    if (!path_answer) return error_reply(path_answer.error(), r);
    return json_reply(200, *path_answer, r);
  }
  if (rest == "roots" && req.method == "GET") {
    const std::string r = "/issuer/v1/roots";
    std::uint64_t since = 0;
    std::uint64_t wait_s = 0;
    if (const auto s = http::query_param(query, "since")) {
      const auto v = parse_u64(*s);
      if (!v) return invalid("since: not a canonical non-negative integer", r);
      since = *v;
    }
    if (const auto w = http::query_param(query, "wait")) {
      const auto v = parse_u64(*w);
      if (!v || *v > 30) return invalid("wait: an integer from 0 to 30 (seconds)", r);
      wait_s = *v;
    }
    if (wait_s == 0 && !req.if_none_match.empty()) {
      const std::uint64_t last_seq = node.current_root().second;
      if (etag_matches(req.if_none_match, last_seq)) {
        HttpReply not_modified;
        not_modified.status = 304;
        not_modified.route = r;
        not_modified.headers.emplace_back("ETag", etag(last_seq));
        return not_modified;
      }
    }
    const FeedAnswer answer = node.feed_since(since, std::chrono::seconds{wait_s});
    HttpReply reply = json_reply(200, entries_json(node.issuer_id(), answer), r);
    reply.headers.emplace_back("ETag", etag(answer.last_seq));
    reply.headers.emplace_back("Cache-Control", "no-cache");
    return reply;
  }
  if (rest == "keys" && req.method == "GET") {
    boost::json::array keys;
    for (const KeyRecord& k : node.keys()) {
      boost::json::object o{
          {"key_id", k.key_id}, {"public_key", k.public_key}, {"created_at", k.created_at}};
      o["retired_after"] =
          k.retired_after != 0 ? boost::json::value(k.retired_after) : boost::json::value(nullptr);
      keys.emplace_back(std::move(o));
    }
    return json_reply(
        200, boost::json::object{{"issuer_id", node.issuer_id()}, {"keys", std::move(keys)}},
        "/issuer/v1/keys");
  }
  return error_reply({NodeErrorCode::kNotFound, "no such route", 0}, "unmatched");
}

}  // namespace

int http_status(NodeErrorCode code) noexcept {
  switch (code) {
    case NodeErrorCode::kInvalidRequest:
      return 400;
    case NodeErrorCode::kUnknownRecord:
    case NodeErrorCode::kNotFound:
      return 404;
    case NodeErrorCode::kWrongCode:
    case NodeErrorCode::kUnauthorized:
      return 401;
    case NodeErrorCode::kCodeExpired:
    case NodeErrorCode::kRevoked:
      return 410;
    case NodeErrorCode::kLockedOut:
    case NodeErrorCode::kRateLimited:
      return 429;
    case NodeErrorCode::kAuthorityUnavailable:
    case NodeErrorCode::kAuthorityBadAnswer:
      return 502;
    case NodeErrorCode::kInternal:
      return 500;
  }
  return 500;
}

HttpReply handle_issuer_request(IssuerNode& node,
                                const std::array<std::uint8_t, 32>& admin_token_sha256,
                                const HttpRequest& request) {
  try {
    return route(node, admin_token_sha256, request);
  } catch (const std::exception& e) {
    log::error("issuer request failed", {{"error", e.what()}});
    return error_reply({NodeErrorCode::kInternal, "internal error", 0}, "unmatched");
  }
}

http::Handler issuer_handler(IssuerNode& node, std::array<std::uint8_t, 32> admin_token_sha256) {
  return http::Handler{
      [&node, admin_token_sha256](const HttpRequest& request) {
        return handle_issuer_request(node, admin_token_sha256, request);
      },
      [](std::string_view, std::string_view target) { return !target.starts_with("/healthz"); },
      {}};
}

}  // namespace pg::issuer
