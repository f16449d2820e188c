// Routing and the endpoint handlers of docs/api.md: decode -> core -> encode, nothing more.
#include "http/api.hpp"

#include <boost/json.hpp>
#include <iostream>

#include "chain/calldata.hpp"
#include "chain/deployment_lookup.hpp"
#include "core/secrets.hpp"
#include "http/admin.hpp"
#include "http/citizen_api.hpp"
#include "http/embedded_assets.hpp"
#include "http/lifecycle_api.hpp"
#include "http/oauth_api.hpp"
#include "http/presenter.hpp"
#include "trace/span.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {
// transcript.json: a production version's ceremony transcript, published beside its key so that
// anyone can re-run the ceremony's verification (docs/ceremony.md).
constexpr std::string_view kArtifactFiles[] = {"circuit.wasm",          "circuit.zkey",
                                               "verification_key.json", "manifest.json",
                                               "manifest.sig",          "transcript.json"};

/// A problem answer to a known partner gets `"mode"` (r.mode) in its body; others are kept.
void add_mode(HttpReply& r) {
  if (r.mode.empty() || r.content_type != "application/problem+json") return;
  boost::system::error_code ec;
  json::value body = json::parse(r.body, ec);
  if (!ec && body.is_object()) {
    body.as_object()["mode"] = r.mode;
    r.body = json::serialize(body);
  }
}

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
  return problem({code, std::move(field), std::move(detail)});
}

/// The console: its two assets by name, and its page (the one index.html, which routes itself) for
/// /console and every /console/<page> such as the enrolment link's /console/enrol. Anything else
/// under /console/ (a dot or another slash in the name) is NOT_FOUND.
HttpReply console_page(std::string_view path) {
  const bool asset = path == "/console/app.js" || path == "/console/app.css";
  if (!asset && path != "/console") {
    const std::string_view page = path.substr(std::string_view("/console/").size());
    if (page.empty() || page.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") != page.npos)
      return error_reply(core::ErrorCode::kNotFound, "", "no console page " + std::string(path));
  }
  const auto found = embedded_asset(asset ? path : std::string_view("/console"));
  if (!found) return error_reply(core::ErrorCode::kNotFound, "", "asset missing");
  HttpReply r;
  r.route = "/console";
  r.content_type = found->content_type;
  r.shared_body = std::make_shared<const std::string>(found->body);
  if (asset) r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", "\"" + std::string(found->etag) + "\"");
  return r;
}

// Artifact files larger than this are not served (a zkey of the largest claim circuit is a few MB).
constexpr std::size_t kMaxArtifactBytes = 256u << 20;
}  // namespace

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

std::optional<HttpReply> Api::admit_upload(const HttpRequest& header_only) {
  if (!d_.admin || !d_.lifecycle)
    return error_reply(core::ErrorCode::kNotFound, "", "the admin API is not served here");
  auto admitted = d_.admin->admit(RouteId::kAdminCircuitUpload, header_only);
  if (auto* refused = std::get_if<HttpReply>(&admitted)) return std::move(*refused);
  return std::nullopt;
}

Api::~Api() {
  if (!probe_) return;
  {
    std::lock_guard lock(probe_->mu);
    probe_->stop = true;
  }
  probe_->cv.notify_all();
  probe_->thread.join();
}

void Api::start_readiness_probe(std::chrono::milliseconds interval) {
  if (probe_) return;
  probe_ = std::make_unique<Probe>();
  Probe& p = *probe_;
  p.interval = interval;
  p.thread = std::thread([this, &p] {
    std::unique_lock lock(p.mu);
    do {
      lock.unlock();
      p.storage = d_.store.ping();
      p.cache = d_.cache.ping();
      p.finished_at_ns = std::chrono::steady_clock::now().time_since_epoch().count();
      lock.lock();
    } while (!p.cv.wait_for(lock, p.interval, [&p] { return p.stop; }));
  });
}

HttpReply Api::readyz() {
  json::object checks;
  json::object extra;
  if (probe_) {
    const std::int64_t at = probe_->finished_at_ns.load();
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch() - std::chrono::nanoseconds(at));
    const auto limit =
        std::max<std::chrono::milliseconds>(4 * probe_->interval, std::chrono::milliseconds(2000));
    // A probe stuck in a ping (a storage that no longer answers) is a failure in itself.
    const bool fresh = at != 0 && age <= limit;
    checks = {{"storage", fresh && probe_->storage.load()},
              {"cache", fresh && probe_->cache.load()}};
    extra["probe_age_ms"] = at == 0 ? json::value(nullptr) : json::value(age.count());
  } else {
    checks = {{"storage", d_.store.ping()}, {"cache", d_.cache.ping()}};
  }
  checks["circuits"] = !d_.service.catalog().empty();
  checks["accepting"] = !d_.stopping();
  bool ok = true;
  for (const auto& [k, v] : checks) ok = ok && v.as_bool();
  extra["checks"] = checks;
  extra["keys"] = keys_json();
  if (!ok) {
    std::string failing;
    for (const auto& [k, v] : checks) {
      if (!v.as_bool()) failing += (failing.empty() ? "" : ", ") + std::string(k);
    }
    return problem({core::ErrorCode::kNotReady, "", "failing checks: " + failing}, extra);
  }
  json::object body{{"status", "ready"}};
  for (auto& [k, v] : extra) body[k] = std::move(v);
  HttpReply r;
  r.body = json::serialize(body);
  return r;
}

bool Api::needs_pool(std::string_view method, std::string_view target) noexcept {
  const RouteMatch m = match_route(method, path_of(target));
  if (!m.route || !m.method_allowed) return false;
  switch (m.route->id) {
    case RouteId::kCreateRequest:
    case RouteId::kVerify:
    case RouteId::kStatus:
    case RouteId::kMetrics:  // rendering takes a lock and reads the outbox: never on the I/O thread
    case RouteId::kArtifact:
    case RouteId::kAdminDeliveries:
    case RouteId::kAdminDelivery:
    case RouteId::kAdminReplay:
    case RouteId::kAdminTestWebhook:
    case RouteId::kAdminRevokeKey:
    case RouteId::kAdminEnrolment:  // argon2id
    case RouteId::kAdminEnrolmentConfirm:
    case RouteId::kAdminSignIn:  // argon2id
    case RouteId::kAdminWhoAmI:
    case RouteId::kAdminSignOut:
    case RouteId::kAdminApprovals:
    case RouteId::kAdminApprove:
    case RouteId::kAdminCancelApproval:
    case RouteId::kAdminCircuits:
    case RouteId::kAdminCircuitUpload:  // digests of the whole upload, the key checks
    case RouteId::kAdminCircuitEnable:
    case RouteId::kAdminCircuitDisable:
    case RouteId::kAdminCircuitDeprecate:
    case RouteId::kAdminMinVersions:
    case RouteId::kAdminSetMinVersion:
    case RouteId::kAdminResumeClient:
    case RouteId::kAdminAuditExport:
    case RouteId::kAdminAuditExportRequest:
    case RouteId::kAdminUsage:
    case RouteId::kAdminAudit:
    case RouteId::kOAuthToken:  // storage reads, a signature
    case RouteId::kJwks:        // reloads the key ring from storage now and then
    case RouteId::kAdminRotateClientSecret:
      return true;
    default:
      return is_partner_admin_route(m.route->id) || is_account_route(m.route->id);
  }
}

HttpReply Api::handle(const HttpRequest& request) {
  HttpReply reply;
  // A refusal raised after authentication names the partner and its mode, as every other does.
  const auto after_auth = [&reply](HttpReply r) {
    r.route = reply.route;
    r.partner_id = reply.partner_id;
    r.mode = reply.mode;
    add_mode(r);
    return r;
  };
  try {
    HttpReply out = dispatch(request, reply);
    if (out.route == "unmatched") out.route = reply.route;
    if (out.partner_id.empty()) out.partner_id = reply.partner_id;
    if (out.mode.empty()) out.mode = reply.mode;
    return out;
  } catch (const core::CacheUnavailable&) {
    // Fail closed: without the shared cache no nonce or rate check can be made.
    HttpReply r = error_reply(core::ErrorCode::kNotReady, "",
                              "the shared cache is unavailable; nothing was recorded");
    r.headers.emplace_back("Retry-After", "1");
    return after_auth(std::move(r));
  } catch (const std::exception& e) {
    // Storage failures and bugs: nothing was recorded (each write is one transaction). The
    // message names the operation, never a secret.
    std::cerr << "proofgate: " << reply.route << ": " << e.what() << '\n';
    return after_auth(error_reply(core::ErrorCode::kInternal, "",
                                  "the request could not be completed; nothing was recorded"));
  }
}

json::array Api::keys_json() const {
  // Which verification keys this instance verifies with, and from what kind of ceremony: an
  // operator (and a balancer's check) can see a development key at a glance.
  json::array keys;
  for (const auto& c : d_.service.catalog().all()) {
    keys.push_back(json::object{
        {"claim_type", c->claim_type},
        {"version", c->version},
        {"ceremony", c->ceremony_kind},
        {"development", c->development},
        {"verification_key_sha256", c->sha256.at("verification_key.json")},
        // Checked at load against release_public_keys; false when none are set.
        {"signed", !c->release_key_id.empty()},
        {"release_key_id",
         c->release_key_id.empty() ? json::value(nullptr) : json::value(c->release_key_id)}});
  }
  return keys;
}

HttpReply Api::dispatch(const HttpRequest& request, HttpReply& ctx) {
  const std::string_view path = path_of(request.target);
  const RouteMatch m = match_route(request.method, path);
  if (!m.route) {
    if (path.starts_with("/console/")) return console_page(path);
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
    case RouteId::kReadyz:
      return with_route(readyz());
    case RouteId::kMetrics: {
      if (d_.metrics_token_sha256) {
        constexpr std::string_view kBearer = "Bearer ";
        const bool ok = request.authorization.starts_with(kBearer) &&
                        core::equal_ct(core::sha256(request.authorization.substr(kBearer.size())),
                                       *d_.metrics_token_sha256);
        if (!ok) {
          return with_route(error_reply(core::ErrorCode::kUnauthorized, "Authorization",
                                        "/metrics needs the scrape token (Authorization: Bearer)"));
        }
      }
      HttpReply r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = d_.metrics.render(d_.service.counters());
      // Which keys this instance verifies with, as an info metric: alert on development="true".
      r.body +=
          "# HELP proofgate_circuit_key_info The circuit versions loaded, by ceremony kind.\n"
          "# TYPE proofgate_circuit_key_info gauge\n";
      for (const auto& c : d_.service.catalog().all()) {
        r.body += "proofgate_circuit_key_info{claim_type=\"" + c->claim_type + "\",version=\"" +
                  c->version + "\",ceremony=\"" +
                  (c->ceremony_kind == "production" ? "production" : "development") +
                  "\",development=\"" + (c->development ? "true" : "false") + "\"} 1\n";
      }
      return with_route(r);
    }
    case RouteId::kConsole:
      return with_route(console_page(path));
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
    case RouteId::kAdminRevokeKey:
    case RouteId::kAdminEnrolment:
    case RouteId::kAdminEnrolmentConfirm:
    case RouteId::kAdminSignIn:
    case RouteId::kAdminWhoAmI:
    case RouteId::kAdminSignOut:
    case RouteId::kAdminUsage:
    case RouteId::kAdminAudit: {
      if (!d_.admin)
        return with_route(
            error_reply(core::ErrorCode::kNotFound, "", "the admin API is not served here"));
      return with_route(d_.admin->handle(m.route->id, request, m.params));
    }
    case RouteId::kAdminApprovals:
    case RouteId::kAdminApprove:
    case RouteId::kAdminCancelApproval:
    case RouteId::kAdminCircuits:
    case RouteId::kAdminCircuitUpload:
    case RouteId::kAdminCircuitEnable:
    case RouteId::kAdminCircuitDisable:
    case RouteId::kAdminCircuitDeprecate:
    case RouteId::kAdminMinVersions:
    case RouteId::kAdminSetMinVersion:
    case RouteId::kAdminResumeClient:
    case RouteId::kAdminAuditExport:
    case RouteId::kAdminAuditExportRequest:
      if (!d_.lifecycle)
        return with_route(
            error_reply(core::ErrorCode::kNotFound, "", "the admin API is not served here"));
      return with_route(d_.lifecycle->handle(m.route->id, request, m.params));
    case RouteId::kOAuthToken:
    case RouteId::kJwks:
    case RouteId::kAdminRotateClientSecret:
      if (!d_.oauth)
        return with_route(error_reply(core::ErrorCode::kNotFound, "", "OAuth2 is not served here"));
      return with_route(d_.oauth->handle(m.route->id, request, m.params));
    case RouteId::kCreateRequest:
    case RouteId::kVerify:
    case RouteId::kStatus:
      break;
    default:
      if (is_account_route(m.route->id)) {
        if (!d_.citizens)
          return with_route(
              error_reply(core::ErrorCode::kNotFound, "", "accounts are not served here"));
        return with_route(d_.citizens->handle(m.route->id, request));
      }
      if (is_partner_admin_route(m.route->id)) {
        if (!d_.admin)
          return with_route(
              error_reply(core::ErrorCode::kNotFound, "", "the admin API is not served here"));
        return with_route(d_.admin->handle(m.route->id, request, m.params));
      }
      break;
  }

  // Partner routes. The API key first (a hash and one lookup): no body is decoded, and no curve
  // or subgroup check is done, for a caller without a valid key (docs/api.md, step 1).
  const bool verifying = m.route->id == RouteId::kVerify;
  core::Client identified;
  auto client = [&] {
    trace::ScopedSpan span("authenticate");
    auto c = d_.service.authenticate(request.authorization, &identified);
    if (!c) span.fail(core::error_name(c.error().code));
    return c;
  }();
  if (!client) {
    if (verifying) d_.metrics.observe_verify("-", core::error_name(client.error().code));
    HttpReply r = problem(client.error());
    if (!identified.id.empty()) {
      // A valid key refused all the same (suspended, rate limited): its partner and mode.
      r.partner_id = identified.id;
      r.mode = std::string(core::mode_name(identified.mode));
      add_mode(r);
    }
    return with_route(std::move(r));
  }
  ctx.partner_id = client->id;
  ctx.mode = std::string(core::mode_name(client->mode));
  const auto partner_reply = [&](HttpReply r) {
    r.partner_id = client->id;
    r.mode = ctx.mode;
    add_mode(r);  // every answer to an authenticated partner says its mode, refusals included
    return with_route(std::move(r));
  };
  // POST bodies must be JSON.
  if (request.method == "POST" && !is_json_type(request.content_type)) {
    if (verifying) d_.metrics.observe_verify("-", "UNSUPPORTED_MEDIA_TYPE");
    return partner_reply(error_reply(core::ErrorCode::kUnsupportedMediaType, "Content-Type",
                                     "must be application/json"));
  }
  switch (m.route->id) {
    case RouteId::kCreateRequest: {
      const auto created = d_.service.create_request(*client, request.body);
      return partner_reply(created ? present_request(*created, client->mode)
                                   : problem(created.error()));
    }
    case RouteId::kVerify: {
      // 2. Strict decoding, naming the field.
      auto input = [&] {
        trace::ScopedSpan span("decode");
        auto decoded = core::ProofService::decode_verify(request.body);
        if (!decoded) span.fail(core::error_name(decoded.error().code));
        return decoded;
      }();
      if (trace::RequestTrace* t = trace::current(); t && input) {
        // What an operator filters on; never the proof, its signals or the nonce.
        t->root().set("proofgate.claim_type", input->claim_type);
        t->root().set("proofgate.circuit_version", input->circuit_version);
      }
      if (!input) {
        d_.metrics.observe_verify("-", core::error_name(input.error().code));
        return partner_reply(problem(input.error()));
      }
      // 2b. "mode":"onchain" needs a deployed verifier for this very key, before anything is
      // recorded (docs/onchain.md).
      const chain::DeployedVerifier* deployed = nullptr;
      if (input->onchain) {
        auto found = onchain_verifier(*input);
        if (!found) {
          d_.metrics.observe_verify(input->claim_type, core::error_name(found.error().code));
          return partner_reply(problem(found.error()));
        }
        deployed = *found;
      }
      core::VerifyOutcome outcome;
      try {
        outcome = d_.service.verify(*client, *input, request.body, request.idempotency_key);
      } catch (const core::CacheUnavailable&) {
        d_.metrics.observe_verify(input->claim_type, "NOT_READY");
        throw;  // handle() answers NOT_READY
      } catch (...) {
        d_.metrics.observe_verify(input->claim_type, "INTERNAL");
        throw;  // handle() answers INTERNAL
      }
      const auto* refused = std::get_if<core::ApiError>(&outcome.result);
      d_.metrics.observe_verify(input->claim_type,
                                refused ? core::error_name(refused->code) : "verified");
      std::optional<json::object> bundle;
      if (deployed && !refused) {
        // From the body and the stored outcome (its issuer), so an idempotent replay answers the
        // same bundle.
        const core::Circuit* circuit =
            d_.service.catalog().find(input->claim_type, input->circuit_version);
        bundle = onchain_bundle(*d_.deployment, *deployed,
                                chain::encode_verify_call(input->proof, input->publics),
                                std::get<core::Verified>(outcome.result).issuer,
                                circuit ? std::span<const std::string>(circuit->public_signals)
                                        : std::span<const std::string>());
      }
      HttpReply answer = present_verify(outcome, client->mode, bundle ? &*bundle : nullptr);
      if (d_.circuits) {
        for (auto& h : core::deprecation_headers(
                 d_.circuits->state(input->claim_type, input->circuit_version)))
          answer.headers.push_back(std::move(h));
      }
      return partner_reply(std::move(answer));
    }
    default: {
      const auto proof = d_.service.status(*client, m.params[0]);
      return partner_reply(proof ? present_status(*proof, client->mode) : problem(proof.error()));
    }
  }
}

core::Outcome<const chain::DeployedVerifier*> Api::onchain_verifier(
    const core::VerifyInput& in) const {
  const auto unavailable = [](std::string detail) {
    return core::ApiError{core::ErrorCode::kOnchainUnavailable, "mode", std::move(detail)};
  };
  if (!d_.deployment) return unavailable("no chain deployment is configured on this server");
  const chain::DeployedVerifier* v =
      chain::find_verifier(*d_.deployment, in.claim_type, in.circuit_version);
  if (!v) {
    return unavailable("no verifier is deployed for " + in.claim_type + " " + in.circuit_version);
  }
  // The contract must check this version's very key: else its verdict would be another key's.
  if (const core::Circuit* c = d_.service.catalog().find(in.claim_type, in.circuit_version)) {
    const auto sha = c->sha256.find("verification_key.json");
    if (sha == c->sha256.end() || sha->second != v->vkey_sha256) {
      return unavailable("the verifier deployed for " + in.claim_type + " " + in.circuit_version +
                         " was made from another verification key");
    }
  }
  if (v->public_inputs != in.publics.size()) {
    return unavailable("the verifier deployed for " + in.claim_type + " " + in.circuit_version +
                       " takes " + std::to_string(v->public_inputs) + " public signals");
  }
  return v;
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
    auto text = d_.artifacts.read(circuit->claim_type, circuit->version, file, kMaxArtifactBytes);
    if (!text) {
      return error_reply(core::ErrorCode::kNotFound, "file", "the artifact is not on this server");
    }
    auto content = std::make_shared<const std::string>(std::move(*text));
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
