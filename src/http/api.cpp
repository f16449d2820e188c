// Routing and the endpoint handlers of docs/api.md: decode -> core -> encode, nothing more.
#include "http/api.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/secrets.hpp"
#include "http/admin.hpp"
#include "http/embedded_assets.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {
constexpr std::string_view kArtifactFiles[] = {"circuit.wasm", "circuit.zkey",
                                               "verification_key.json", "manifest.json"};

std::string_view path_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool split_match(std::string_view templ, std::string_view path,
                 std::vector<std::string_view>& params) {
  params.clear();
  while (true) {
    if (templ.empty() || path.empty()) return templ.empty() && path.empty();
    if (templ[0] != '/' || path[0] != '/') return false;
    templ.remove_prefix(1);
    path.remove_prefix(1);
    const auto te = templ.find('/');
    const auto pe = path.find('/');
    const std::string_view tseg = templ.substr(0, te);
    const std::string_view pseg = path.substr(0, pe);
    if (tseg.starts_with('{')) {
      if (pseg.empty()) return false;
      params.push_back(pseg);
    } else if (tseg != pseg) {
      return false;
    }
    templ = te == std::string_view::npos ? std::string_view() : templ.substr(te);
    path = pe == std::string_view::npos ? std::string_view() : path.substr(pe);
  }
}

bool is_json_type(std::string_view ct) {
  const auto semi = ct.find(';');
  std::string base(ct.substr(0, semi));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  for (char& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return base == "application/json";
}

HttpReply error_reply(core::ErrorCode code, std::string field, std::string detail) {
  return reply_from(core::problem({code, std::move(field), std::move(detail)}));
}
}  // namespace

HttpReply reply_from(core::Answer answer) {
  HttpReply r;
  r.status = answer.status;
  r.content_type = std::move(answer.content_type);
  r.body = std::move(answer.body);
  r.headers = std::move(answer.headers);
  r.error_code = std::move(answer.error_code);
  return r;
}

RouteMatch match_route(std::string_view method, std::string_view path) noexcept {
  RouteMatch m;
  std::vector<std::string_view> params;
  for (const Route& r : kRoutes) {
    if (split_match(r.path, path, params)) {
      if (!m.route || r.method == method) {
        m.route = &r;
        m.params = params;
        m.method_allowed = r.method == method || (method == "HEAD" && r.method == "GET");
      }
    }
  }
  return m;
}

bool Api::needs_pool(std::string_view method, std::string_view target) noexcept {
  const RouteMatch m = match_route(method, path_of(target));
  if (!m.route || !m.method_allowed) return false;
  switch (m.route->id) {
    case RouteId::kCreateRequest:
    case RouteId::kVerify:
    case RouteId::kStatus:
    case RouteId::kReadyz:
    case RouteId::kArtifact:
    case RouteId::kAdminDeliveries:
    case RouteId::kAdminDelivery:
    case RouteId::kAdminReplay:
    case RouteId::kAdminTestWebhook:
    case RouteId::kAdminRevokeKey:
      return true;
    default:
      return false;
  }
}

HttpReply Api::handle(const HttpRequest& request) {
  HttpReply reply;
  try {
    HttpReply out = dispatch(request, reply);
    if (out.route == "unmatched") out.route = reply.route;
    if (out.partner_id.empty()) out.partner_id = reply.partner_id;
    return out;
  } catch (const core::CacheUnavailable&) {
    // Fail closed: without the shared cache no nonce or rate check can be made.
    HttpReply r = error_reply(core::ErrorCode::kNotReady, "",
                              "the shared cache is unavailable; nothing was recorded");
    r.headers.emplace_back("Retry-After", "1");
    r.route = reply.route;
    r.partner_id = reply.partner_id;
    return r;
  } catch (const std::exception&) {
    // Storage failures and bugs: nothing was recorded (each write is one transaction).
    HttpReply r = error_reply(core::ErrorCode::kInternal, "",
                              "the request could not be completed; nothing was recorded");
    r.route = reply.route;
    r.partner_id = reply.partner_id;
    return r;
  }
}

HttpReply Api::dispatch(const HttpRequest& request, HttpReply& ctx) {
  const std::string_view path = path_of(request.target);
  const RouteMatch m = match_route(request.method, path);
  if (!m.route) {
    if (path.starts_with("/docs/")) {
      if (auto asset = embedded_asset(path)) {
        HttpReply r;
        r.route = "/docs";
        r.content_type = asset->content_type;
        r.shared_body = std::make_shared<const std::string>(asset->body);
        r.headers.emplace_back("Cache-Control", "public, max-age=3600");
        r.headers.emplace_back("ETag", "\"" + std::string(asset->etag) + "\"");
        return r;
      }
    }
    return error_reply(core::ErrorCode::kNotFound, "", "no route for " + std::string(path));
  }
  ctx.route = std::string(m.route->path);
  if (!m.method_allowed) {
    HttpReply r = error_reply(core::ErrorCode::kMethodNotAllowed, "",
                              std::string(request.method) + " is not allowed on " + ctx.route);
    r.headers.emplace_back("Allow", std::string(m.route->method));
    r.route = ctx.route;
    return r;
  }
  const auto with_route = [&](HttpReply r) {
    r.route = ctx.route;
    return r;
  };
  switch (m.route->id) {
    case RouteId::kHealthz: {
      HttpReply r;
      r.body = R"({"status":"ok"})";
      return with_route(r);
    }
    case RouteId::kReadyz: {
      json::object checks{{"storage", d_.store.ping()},
                          {"cache", d_.cache.ping()},
                          {"circuits", !d_.service.catalog().empty()},
                          {"accepting", !d_.stopping()}};
      bool ok = true;
      for (const auto& [k, v] : checks) ok = ok && v.as_bool();
      if (!ok) {
        std::string failing;
        for (const auto& [k, v] : checks) {
          if (!v.as_bool()) failing += (failing.empty() ? "" : ", ") + std::string(k);
        }
        return with_route(
            reply_from(core::problem({core::ErrorCode::kNotReady, "", "failing checks: " + failing},
                                     "\"checks\":" + json::serialize(checks))));
      }
      HttpReply r;
      r.body = json::serialize(json::object{{"status", "ready"}, {"checks", checks}});
      return with_route(r);
    }
    case RouteId::kMetrics: {
      HttpReply r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = d_.metrics.render(d_.service.counters());
      return with_route(r);
    }
    case RouteId::kOpenApi:
    case RouteId::kDocs: {
      const auto asset = embedded_asset(path);
      if (!asset) return with_route(error_reply(core::ErrorCode::kNotFound, "", "asset missing"));
      HttpReply r;
      r.content_type = asset->content_type;
      r.shared_body = std::make_shared<const std::string>(asset->body);
      r.headers.emplace_back("ETag", "\"" + std::string(asset->etag) + "\"");
      return with_route(r);
    }
    case RouteId::kArtifact:
      return with_route(artifact(request, m.params[0], m.params[1], m.params[2]));
    case RouteId::kAdminDeliveries:
    case RouteId::kAdminDelivery:
    case RouteId::kAdminReplay:
    case RouteId::kAdminTestWebhook:
    case RouteId::kAdminRevokeKey: {
      if (!d_.admin)
        return with_route(
            error_reply(core::ErrorCode::kNotFound, "", "the admin API is not served here"));
      const auto q = request.target.find('?');
      const std::string_view query =
          q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
      return with_route(d_.admin->handle(m.route->id, request.authorization, query, m.params));
    }
    case RouteId::kCreateRequest:
    case RouteId::kVerify:
    case RouteId::kStatus:
      break;
  }

  // Partner routes. POST bodies must be JSON.
  if (request.method == "POST" && !is_json_type(request.content_type)) {
    return with_route(error_reply(core::ErrorCode::kUnsupportedMediaType, "Content-Type",
                                  "must be application/json"));
  }
  std::optional<core::ProofService::VerifyInput> input;
  if (m.route->id == RouteId::kVerify) {
    // Strict decoding comes first (docs/api.md, step 1).
    auto decoded = core::ProofService::decode_verify(request.body);
    if (auto* a = std::get_if<core::Answer>(&decoded)) {
      d_.metrics.observe_verify("-", a->error_code);
      return with_route(reply_from(std::move(*a)));
    }
    input = std::move(std::get<core::ProofService::VerifyInput>(decoded));
  }
  auto auth = d_.service.authenticate(request.authorization);
  if (auto* a = std::get_if<core::Answer>(&auth)) {
    if (input) d_.metrics.observe_verify(input->claim_type, a->error_code);
    return with_route(reply_from(std::move(*a)));
  }
  const core::Client& client = std::get<core::Client>(auth);
  ctx.partner_id = client.id;
  HttpReply r;
  switch (m.route->id) {
    case RouteId::kCreateRequest:
      r = reply_from(d_.service.create_request(client, request.body));
      break;
    case RouteId::kVerify: {
      try {
        r = reply_from(d_.service.verify(client, *input, request.body, request.idempotency_key));
      } catch (const core::CacheUnavailable&) {
        d_.metrics.observe_verify(input->claim_type, "NOT_READY");
        throw;  // handle() answers NOT_READY
      } catch (...) {
        d_.metrics.observe_verify(input->claim_type, "INTERNAL");
        throw;  // handle() answers INTERNAL
      }
      d_.metrics.observe_verify(input->claim_type,
                                r.error_code.empty() ? "verified" : r.error_code);
      break;
    }
    default:
      r = reply_from(d_.service.status(client, m.params[0]));
      break;
  }
  r.partner_id = client.id;
  return with_route(std::move(r));
}

HttpReply Api::artifact(const HttpRequest& request, std::string_view claim,
                        std::string_view version, std::string_view file) {
  const core::Circuit* circuit = d_.service.catalog().find(claim, version);
  if (!circuit)
    return error_reply(core::ErrorCode::kNotFound, "",
                       "no circuit " + std::string(claim) + " " + std::string(version));
  if (std::find(std::begin(kArtifactFiles), std::end(kArtifactFiles), file) ==
      std::end(kArtifactFiles)) {
    return error_reply(core::ErrorCode::kNotFound, "file", "not an artifact file name");
  }
  const std::string key = circuit->claim_type + "/" + circuit->version + "/" + std::string(file);
  std::shared_ptr<const std::string> body;
  std::string digest;
  {
    std::lock_guard lock(artifacts_mu_);
    if (auto it = artifacts_.find(key); it != artifacts_.end()) std::tie(body, digest) = it->second;
  }
  if (!body) {
    std::ifstream in(circuit->dir / std::string(file), std::ios::binary);
    if (!in)
      return error_reply(core::ErrorCode::kNotFound, "file", "the artifact is not on this server");
    std::stringstream ss;
    ss << in.rdbuf();
    auto content = std::make_shared<const std::string>(ss.str());
    digest = core::hex(core::sha256(*content));
    if (const auto expected = circuit->sha256.find(std::string(file));
        expected != circuit->sha256.end() && expected->second != digest) {
      // Never serve an artifact that differs from its manifest.
      return error_reply(core::ErrorCode::kInternal, "",
                         "the artifact differs from its manifest's SHA-256");
    }
    std::lock_guard lock(artifacts_mu_);
    artifacts_[key] = {content, digest};
    body = content;
  }
  HttpReply r;
  const std::string etag = "\"" + digest + "\"";
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  r.headers.emplace_back("X-Content-SHA256", digest);
  if (request.if_none_match == etag) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = file.ends_with(".json")   ? "application/json"
                   : file.ends_with(".wasm") ? "application/wasm"
                                             : "application/octet-stream";
  r.shared_body = std::move(body);
  return r;
}

}  // namespace pg::http
