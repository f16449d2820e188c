// The partner use cases of docs/api.md: authentication, proof requests, the verify checks in
// their documented order (one named step each), status. Every refusal names its field; storage
// failures throw StoreError and nothing is recorded.
#include "core/service.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "calendar/bikram_sambat.hpp"
#include "core/access_token.hpp"
#include "core/binding.hpp"
#include "core/secrets.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "trace/span.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {

constexpr std::size_t kNonceChars = 22;  // 16 random bytes, base64url
constexpr std::size_t kMaxIdempotencyKey = 255;
constexpr std::int64_t kMinRequestTtl = 10;
// How long a cache claim (a nonce being answered, an idempotency key in flight) lives. Longer
// than any verification; short, so a process killed between its claim and its commit delays a
// retry by at most this long. Once the answer is committed the database refuses the nonce.
constexpr std::chrono::seconds kInFlightTtl{30};
constexpr UnixMillis kTouchEveryMs = 60'000;
constexpr std::uint64_t kMaxSafeInteger = (std::uint64_t{1} << 53) - 1;

// The frame every circuit has; the remaining public signals are request parameters.
constexpr std::string_view kFrameSignals[] = {"nullifier", "root", "binding", "scope", "today"};

bool is_frame(std::string_view s) {
  return std::find(std::begin(kFrameSignals), std::end(kFrameSignals), s) !=
         std::end(kFrameSignals);
}

// Range of each request parameter (docs/protocol.md): the circuits range-check them too.
struct ParamRange {
  std::string_view name;
  std::uint64_t min, max;
};
constexpr ParamRange kParamRanges[] = {
    {"min_level", 1, 7}, {"threshold", 0, kMaxSafeInteger}, {"fiscal_year", 1, 9999}};

bool is_b64url(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool is_identifier(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::optional<std::uint64_t> param(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::int64_t days_from_yyyymmdd(std::uint64_t d) {
  using namespace std::chrono;
  const year_month_day ymd{year(static_cast<int>(d / 10000)),
                           month(static_cast<unsigned>(d / 100 % 100)),
                           day(static_cast<unsigned>(d % 100))};
  return sys_days(ymd).time_since_epoch().count();
}

std::string decimal(const crypto::Fr& x) {
  return crypto::snarkjs::to_decimal(x.to_canonical());
}

crypto::Fr fr_from_u64(std::uint64_t v) {
  crypto::Limbs l{};
  l[0] = v;
  return crypto::Fr::from_canonical(l);
}

/// The first member of `o` not in `allowed`, as an INVALID_REQUEST naming it (with `prefix`).
std::optional<ApiError> unknown_member(const json::object& o,
                                       std::initializer_list<std::string_view> allowed,
                                       std::string_view prefix = {}) {
  for (const auto& [k, v] : o) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(k)) == allowed.end()) {
      // A member named "" is named as such: every refusal names its field.
      return invalid(std::string(prefix) + (k.empty() ? std::string("\"\"") : std::string(k)),
                     "unknown member");
    }
  }
  return std::nullopt;
}

/// Strict decoding of a POST body: JSON within the limits of crypto::snarkjs::parse_json, an
/// object, and only the `allowed` members.
std::variant<json::value, ApiError> decode_object(std::string_view body,
                                                  std::initializer_list<std::string_view> allowed) {
  auto parsed = crypto::snarkjs::parse_json(body, "body");
  if (!parsed) return invalid(parsed.error().field, parsed.error().message);
  if (!parsed->is_object()) return invalid("body", "must be a JSON object");
  if (auto e = unknown_member(parsed->get_object(), allowed)) return *e;
  return std::move(*parsed);
}

}  // namespace

/// Holds cache keys this request set and removes them unless kept (RAII, also on exceptions).
class ProofService::CacheClaims {
 public:
  explicit CacheClaims(Cache& cache) : cache_(cache) {}
  CacheClaims(const CacheClaims&) = delete;
  CacheClaims& operator=(const CacheClaims&) = delete;
  ~CacheClaims() {
    for (const auto& k : keys_) cache_.remove(k);
  }
  void hold(std::string key) { keys_.push_back(std::move(key)); }
  void keep(std::string_view key) { std::erase(keys_, std::string(key)); }

 private:
  Cache& cache_;
  std::vector<std::string> keys_;
};

std::uint32_t yyyymmdd(UnixMillis ms) {
  // "18 today" is Nepal's today (UTC+05:45), the same date the issuers' credentials use.
  return calendar::nepal_yyyymmdd(ms);
}

std::string rfc3339(UnixMillis ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days d = floor<days>(t);
  const year_month_day ymd(d);
  const hh_mm_ss<seconds> hms(floor<seconds>(t - d));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02lldZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), static_cast<long>(hms.hours().count()),
                static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

std::string public_signals_hash(const std::vector<std::string>& decimals) {
  std::string joined;
  for (std::size_t i = 0; i < decimals.size(); ++i) {
    if (i) joined.push_back(',');
    joined += decimals[i];
  }
  return hex(sha256(joined));
}

std::string wallet_request_uri(const ProofRequest& req) {
  json::object params;
  for (const auto& [k, v] : req.params) params[k] = v;
  const json::object wallet_request{{"nonce", req.nonce},
                                    {"verifier_domain", req.verifier_domain},
                                    {"claim_type", req.claim_type},
                                    {"circuit_version", req.circuit_version},
                                    {"params", params}};
  if (!req.accepted_versions.empty()) {
    json::object with_versions = wallet_request;
    with_versions["accepted_versions"] =
        json::array(req.accepted_versions.begin(), req.accepted_versions.end());
    return "proofgate:request?d=" + base64url(json::serialize(with_versions));
  }
  return "proofgate:request?d=" + base64url(json::serialize(wallet_request));
}

void store_outcome(const std::variant<Verified, ApiError>& outcome, IdempotencyRecord& record) {
  if (const auto* v = std::get_if<Verified>(&outcome)) {
    record.status = 1;
    record.response = json::serialize(json::object{{"status", "verified"},
                                                   {"proof_id", v->proof_id},
                                                   {"claim_type", v->claim_type},
                                                   {"circuit_version", v->circuit_version},
                                                   {"nullifier", v->nullifier},
                                                   {"at", v->at},
                                                   {"issuer", v->issuer},
                                                   {"root_seq", v->root_seq},
                                                   {"root_age_seconds", v->root_age_seconds}});
    return;
  }
  const auto& e = std::get<ApiError>(outcome);
  json::object o{{"error_code", error_name(e.code)}, {"field", e.field}, {"detail", e.detail}};
  if (!e.proof_id.empty()) o["proof_id"] = e.proof_id;
  record.status = 2;
  record.response = json::serialize(o);
}

std::variant<Verified, ApiError> stored_outcome(const IdempotencyRecord& record) {
  // Both forms are JSON objects written by this code; anything else is a storage fault.
  const json::value v = json::parse(record.response);
  const json::object& o = v.as_object();
  const auto text = [&](std::string_view name) {
    const auto* m = o.if_contains(name);
    return m && m->is_string() ? std::string(m->get_string()) : std::string();
  };
  if (const auto* code = o.if_contains("error_code")) {
    const auto parsed = error_from_name(code->as_string());
    if (!parsed) throw StoreError("idempotency record holds an unknown error code");
    ApiError e{*parsed, text("field"), text("detail")};
    // Earlier versions stored the problem+json body, whose detail begins with "<field>: ".
    if (record.status >= 100 && !e.field.empty() && e.detail.starts_with(e.field + ": ")) {
      e.detail.erase(0, e.field.size() + 2);
    }
    e.proof_id = text("proof_id");
    return e;
  }
  Verified out{text("proof_id"),
               text("claim_type"),
               text("circuit_version"),
               text("nullifier"),
               0,
               "",
               0,
               0};
  out.issuer = text("issuer");
  if (const auto* seq = o.if_contains("root_seq"); seq && seq->is_number()) {
    out.root_seq = seq->to_number<std::uint64_t>();
  }
  if (const auto* age = o.if_contains("root_age_seconds"); age && age->is_number()) {
    out.root_age_seconds = age->to_number<std::int64_t>();
  }
  if (const auto* at = o.if_contains("at"); at && at->is_int64()) {
    out.at = at->get_int64();
  } else {
    // Earlier versions stored the answered body with its RFC 3339 "ts".
    int y = 0;
    unsigned mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (std::sscanf(text("ts").c_str(), "%4d-%2u-%2uT%2u:%2u:%2uZ", &y, &mo, &d, &h, &mi, &sec) ==
        6) {
      using namespace std::chrono;
      const sys_days day{year_month_day{year(y), month(mo), std::chrono::day(d)}};
      out.at = (day.time_since_epoch().count() * 86400LL + h * 3600LL + mi * 60LL + sec) * 1000;
    }
  }
  return out;
}

ProofService::ProofService(Store& store, Cache& cache, const Clock& clock,
                           const CircuitCatalog& catalog, ServiceSettings settings,
                           CircuitGate* circuits)
    : store_(store),
      cache_(cache),
      clock_(clock),
      catalog_(catalog),
      settings_(settings),
      circuits_(circuits),
      batcher_(settings_.pairing_batcher ? settings_.pairing_batcher
                                         : std::make_shared<PairingBatcher>()) {}

std::optional<ApiError> ProofService::take_rate_token(const std::string& client_id) {
  if (settings_.rate_per_second <= 0) return std::nullopt;
  trace::ScopedSpan span("rate_limit");
  const RateDecision d =
      cache_.take_token("rate:" + client_id, settings_.rate_per_second, settings_.rate_burst);
  if (d.allowed) return std::nullopt;
  span.fail(error_name(ErrorCode::kRateLimited));
  ApiError e{ErrorCode::kRateLimited, "", "the partner's request rate is above its limit"};
  e.retry_after_s = std::max<std::int64_t>(1, std::llround(std::ceil(d.retry_after_seconds)));
  return e;
}

Outcome<Client> ProofService::authenticate(std::string_view authorization, Client* identified) {
  constexpr std::string_view kBearer = "bearer ";
  const auto unauthorized = [](std::string detail) {
    return ApiError{ErrorCode::kUnauthorized, "Authorization", std::move(detail)};
  };
  if (authorization.empty()) {
    return unauthorized("an API key is required (Authorization: Bearer <key>)");
  }
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    return unauthorized("the scheme must be Bearer");
  }
  const std::string_view key = authorization.substr(kBearer.size());
  if (settings_.access_tokens && looks_like_jwt(key)) {
    auto client = settings_.access_tokens(key);
    if (!client) return client.error();
    if (auto limited = take_rate_token(client->id)) {
      if (identified) *identified = *client;
      return *limited;
    }
    return client;
  }
  const auto parsed = parse_api_key(key);
  if (!parsed) return unauthorized("the API key is malformed");
  const auto digest = sha256(key);
  const UnixMillis now = clock_.now_ms();
  auto client = store_.find_client_by_prefix(parsed->prefix, now);
  // The key's tag must say its client's mode: a live partner's key never reads pg_test_.
  if (!client || !equal_ct(digest, client->key_hash) || parsed->mode != client->mode) {
    return unauthorized("the API key is not valid");
  }
  if (client->suspended_at != 0) {
    if (identified) *identified = *client;
    return ApiError{ErrorCode::kClientSuspended, "Authorization",
                    "the partner is suspended; an operator can resume it"};
  }
  if (auto limited = take_rate_token(client->id)) {
    if (identified) *identified = *client;
    return *limited;
  }
  if (now - client->last_used > kTouchEveryMs) {
    store_.touch_client(client->id, client->key_prefix, now);
    client->last_used = now;
  }
  return std::move(*client);
}

Outcome<ProofRequest> ProofService::create_request(const Client& client, std::string_view body) {
  auto decoded = decode_object(
      body, {"claim_type", "circuit_version", "verifier_domain", "params", "ttl_seconds"});
  if (auto* e = std::get_if<ApiError>(&decoded)) return *e;
  const json::object& o = std::get<json::value>(decoded).get_object();
  const json::value* claim = o.if_contains("claim_type");
  if (!claim) return invalid("claim_type", "is required");
  if (!claim->is_string() || !is_identifier(claim->get_string())) {
    return invalid("claim_type", "must be a claim type name ([a-z0-9_], at most 64 characters)");
  }
  const std::string claim_type(claim->get_string());
  if (!is_claim_type(claim_type))
    return ApiError{ErrorCode::kUnknownCircuit, "claim_type", "no claim type " + claim_type};
  if (!contains(client.scopes, claim_type)) {
    return ApiError{ErrorCode::kUnauthorizedScope, "claim_type",
                    "the API key's scopes do not include " + claim_type};
  }
  std::string domain = client.domains.empty() ? std::string() : client.domains.front();
  if (const auto* d = o.if_contains("verifier_domain")) {
    if (!d->is_string() || !is_domain(d->get_string())) {
      return invalid("verifier_domain", "must be a lowercase DNS name");
    }
    domain = d->get_string();
  }
  if (domain.empty() || !contains(client.domains, domain)) {
    return ApiError{ErrorCode::kUnauthorizedScope, "verifier_domain",
                    "not one of the partner's registered domains"};
  }
  const Circuit* circuit = nullptr;
  if (const auto* v = o.if_contains("circuit_version")) {
    if (!v->is_string() || !is_semver(v->get_string())) {
      return invalid("circuit_version", "must be a version MAJOR.MINOR.PATCH");
    }
    circuit = catalog_.find(claim_type, v->get_string());
    if (!circuit) {
      return ApiError{ErrorCode::kUnknownCircuit, "circuit_version",
                      "no circuit " + claim_type + " " + std::string(v->get_string())};
    }
    // The lifecycle's refusal first: it says why (uploaded, past its sunset, below a minimum).
    if (circuits_) {
      if (auto refused =
              circuits_->refuse_for(client.id, claim_type, circuit->version, "circuit_version"))
        return std::move(*refused);
    }
    if (store_.circuit_enabled(claim_type, circuit->version) == false) {
      return ApiError{ErrorCode::kCircuitDisabled, "circuit_version",
                      claim_type + " " + circuit->version + " is disabled"};
    }
  } else {
    const auto versions = catalog_.versions(claim_type);
    if (versions.empty())
      return ApiError{ErrorCode::kUnknownCircuit, "claim_type",
                      "no circuit loaded for " + claim_type};
    for (const Circuit* c : versions) {
      if (store_.circuit_enabled(claim_type, c->version) != false &&
          (!circuits_ || !circuits_->refuse_for(client.id, claim_type, c->version, "claim_type"))) {
        circuit = c;
        break;
      }
    }
    if (!circuit)
      return ApiError{ErrorCode::kCircuitDisabled, "claim_type",
                      "every version of " + claim_type + " is disabled"};
  }
  std::int64_t ttl = settings_.default_request_ttl_s;
  if (const auto* t = o.if_contains("ttl_seconds")) {
    if (!t->is_int64() && !t->is_uint64()) return invalid("ttl_seconds", "must be an integer");
    const std::int64_t v =
        t->is_int64()
            ? t->get_int64()
            : static_cast<std::int64_t>(std::min<std::uint64_t>(t->get_uint64(), INT64_MAX));
    if (v < kMinRequestTtl || v > settings_.max_request_ttl_s) {
      return invalid("ttl_seconds", "must be between " + std::to_string(kMinRequestTtl) + " and " +
                                        std::to_string(settings_.max_request_ttl_s));
    }
    ttl = v;
  }
  const UnixMillis now = clock_.now_ms();
  ProofRequest req;
  req.params.emplace_back("today", yyyymmdd(now));
  const json::object empty;
  const json::object* params = &empty;
  if (const auto* p = o.if_contains("params")) {
    if (!p->is_object()) return invalid("params", "must be an object");
    params = &p->get_object();
  }
  for (const auto& [k, v] : *params) {
    if (k == "today") return invalid("params.today", "is set by the server");
    if (circuit->index_of(k) == std::string::npos || is_frame(k)) {
      return invalid("params." + std::string(k), "is not a parameter of " + claim_type);
    }
  }
  for (const std::string& name : circuit->public_signals) {
    if (is_frame(name)) continue;
    const std::string field = "params." + name;
    const json::value* v = params->if_contains(name);
    if (!v) return invalid(field, "is required for " + claim_type);
    if (!(v->is_uint64() || (v->is_int64() && v->get_int64() >= 0)))
      return invalid(field, "must be a non-negative integer");
    const std::uint64_t x =
        v->is_uint64() ? v->get_uint64() : static_cast<std::uint64_t>(v->get_int64());
    for (const ParamRange& r : kParamRanges) {
      if (r.name == name && (x < r.min || x > r.max)) {
        return invalid(
            field, "must be between " + std::to_string(r.min) + " and " + std::to_string(r.max));
      }
    }
    req.params.emplace_back(name, x);
  }
  req.id = uuid_v4();
  req.client_id = client.id;
  req.nonce = base64url(random_bytes(16));
  req.claim_type = claim_type;
  req.circuit_version = circuit->version;
  if (circuits_) {
    // Every version the partner accepts now, newest first (docs/protocol.md).
    for (const Circuit* c : catalog_.versions(claim_type)) {
      if (store_.circuit_enabled(claim_type, c->version) != false &&
          !circuits_->refuse_for(client.id, claim_type, c->version, "claim_type"))
        req.accepted_versions.push_back(c->version);
    }
  }
  req.verifier_domain = domain;
  req.created_at = now;
  req.expires_at = now + ttl * 1000;
  store_.insert_request(req);

  return req;
}

Outcome<ProofService::VerifyInput> ProofService::decode_verify(std::string_view body) {
  auto decoded = decode_object(body, {"claim_type", "circuit_version", "proof", "public_signals",
                                      "request", "account_link", "mode"});
  if (auto* e = std::get_if<ApiError>(&decoded)) return *e;
  const json::object& o = std::get<json::value>(decoded).get_object();
  for (const std::string_view required :
       {"claim_type", "circuit_version", "proof", "public_signals", "request"}) {
    if (!o.contains(required)) return invalid(std::string(required), "is required");
  }
  VerifyInput in;
  const json::value& claim = o.at("claim_type");
  if (!claim.is_string() || !is_identifier(claim.get_string())) {
    return invalid("claim_type", "must be a claim type name ([a-z0-9_], at most 64 characters)");
  }
  in.claim_type = claim.get_string();
  const json::value& version = o.at("circuit_version");
  if (!version.is_string() || !is_semver(version.get_string())) {
    return invalid("circuit_version", "must be a version MAJOR.MINOR.PATCH");
  }
  in.circuit_version = version.get_string();
  if (const json::value* link = o.if_contains("account_link")) {
    if (!link->is_string() || link->get_string().empty() ||
        link->get_string().size() > kMaxTokenBytes) {
      return invalid("account_link", "must be an account link token (docs/citizens.md)");
    }
    in.account_link = std::string(link->get_string());
  }
  if (const json::value* mode = o.if_contains("mode")) {
    if (!mode->is_string() ||
        (mode->get_string() != "offchain" && mode->get_string() != "onchain")) {
      return invalid("mode", "must be \"offchain\" or \"onchain\"");
    }
    in.onchain = mode->get_string() == "onchain";
  }
  const json::value& request = o.at("request");
  if (!request.is_object()) return invalid("request", "must be an object");
  if (auto e = unknown_member(request.get_object(), {"nonce", "verifier_domain"}, "request."))
    return *e;
  const json::value* nonce = request.get_object().if_contains("nonce");
  if (!nonce) return invalid("request.nonce", "is required");
  if (!nonce->is_string() || nonce->get_string().size() != kNonceChars ||
      !is_b64url(nonce->get_string())) {
    return invalid("request.nonce", "must be the 22-character base64url nonce of a proof request");
  }
  in.nonce = nonce->get_string();
  const json::value* domain = request.get_object().if_contains("verifier_domain");
  if (!domain) return invalid("request.verifier_domain", "is required");
  if (!domain->is_string() || !is_domain(domain->get_string())) {
    return invalid("request.verifier_domain", "must be a lowercase DNS name");
  }
  in.domain = domain->get_string();
  auto publics =
      crypto::snarkjs::public_signals_from_json(o.at("public_signals"), "public_signals");
  if (!publics) return invalid(publics.error().field, publics.error().message);
  if (publics->empty()) return invalid("public_signals", "must not be empty");
  in.publics = std::move(*publics);
  for (const auto& s : in.publics) in.decimals.push_back(decimal(s));
  // The proof object as docs/api.md promises: snarkjs's members and nothing else, protocol and
  // curve required (the codec checks their values).
  const json::value& proof_json = o.at("proof");
  if (!proof_json.is_object()) return invalid("proof", "must be an object");
  if (auto e = unknown_member(proof_json.get_object(),
                              {"pi_a", "pi_b", "pi_c", "protocol", "curve"}, "proof.")) {
    return *e;
  }
  for (const std::string_view required : {"protocol", "curve"}) {
    if (!proof_json.get_object().contains(required)) {
      return invalid("proof." + std::string(required), "is required");
    }
  }
  auto proof = crypto::snarkjs::proof_from_json(proof_json, "proof");
  if (!proof) return invalid(proof.error().field, proof.error().message);
  in.proof = *proof;
  return in;
}

VerifyOutcome ProofService::verify(const Client& client, const VerifyInput& in,
                                   std::string_view body,
                                   std::optional<std::string_view> idempotency_key) {
  // 3. Scope and domain (1, the API key, is authenticate(); 2, decoding, decode_verify()).
  if (auto e = check_partner_scope(client, in)) return {*e};
  // 4. Idempotency.
  if (!idempotency_key) return {verify_once(client, in, nullptr)};
  std::optional<trace::ScopedSpan> span(std::in_place, "idempotency");
  const std::string_view key = *idempotency_key;
  if (key.empty() || key.size() > kMaxIdempotencyKey ||
      !std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x21 && c <= 0x7e; })) {
    return {invalid("Idempotency-Key", "must be 1 to 255 printable ASCII characters")};
  }
  IdempotencyRecord templ;
  templ.client_id = client.id;
  templ.key = key;
  templ.body_hash = hex(sha256(body));
  const auto replay = [&](const IdempotencyRecord& r) -> VerifyOutcome {
    if (r.body_hash != templ.body_hash) {
      counters_.idempotency_conflict++;
      return {ApiError{ErrorCode::kIdempotencyConflict, "Idempotency-Key",
                       "this key was used with another body"}};
    }
    counters_.idempotency_replayed++;
    return {stored_outcome(r), true};
  };
  if (auto r = store_.find_idempotency(client.id, key, clock_.now_ms())) return replay(*r);
  CacheClaims claims(cache_);
  const std::string flight = "idem:" + client.id + ":" + std::string(key);
  if (!cache_.add(flight, kInFlightTtl)) {
    counters_.idempotency_conflict++;
    ApiError e{ErrorCode::kIdempotencyConflict, "Idempotency-Key",
               "a request with this key is in progress"};
    e.retry_after_s = 1;
    return {e};
  }
  claims.hold(flight);
  // The first request may have finished between the lookup and the claim.
  if (auto r = store_.find_idempotency(client.id, key, clock_.now_ms())) return replay(*r);
  counters_.idempotency_new++;
  templ.expires_at = clock_.now_ms() + settings_.idempotency_ttl.count();
  span.reset();
  return {verify_once(client, in, &templ)};
}

std::optional<ApiError> ProofService::check_partner_scope(const Client& client,
                                                          const VerifyInput& in) const {
  if (!contains(client.scopes, in.claim_type)) {
    return ApiError{ErrorCode::kUnauthorizedScope, "claim_type",
                    "the API key's scopes do not include " + in.claim_type};
  }
  if (!contains(client.domains, in.domain)) {
    return ApiError{ErrorCode::kUnauthorizedScope, "request.verifier_domain",
                    "not one of the partner's registered domains"};
  }
  return std::nullopt;
}

void ProofService::remember(const IdempotencyRecord* idempotency,
                            const std::variant<Verified, ApiError>& outcome) {
  // Refusals that wrote no proof row are stored for the key here; rate limits and storage
  // failures are never stored (a retry must be able to succeed).
  if (!idempotency) return;
  IdempotencyRecord r = *idempotency;
  store_outcome(outcome, r);
  store_.save_idempotency(r);
}

std::variant<Verified, ApiError> ProofService::verify_once(const Client& client,
                                                           const VerifyInput& in,
                                                           const IdempotencyRecord* idem) {
  const auto refuse = [&](ApiError e) -> std::variant<Verified, ApiError> {
    remember(idem, e);
    return e;
  };
  // On its way to the pairing step until check_pairing (or a refusal before it): a batch of
  // pairing checks waits for this request only while it is (core/pairing_batcher.hpp).
  // Only same-key requests hold a batch: the key is looked up here without the circuit's checks.
  const Circuit* expected = catalog_.find(in.claim_type, in.circuit_version);
  std::optional<PairingBatcher::Pending> pairing_pending(
      std::in_place, *batcher_, expected != nullptr ? expected->key.get() : nullptr);
  // The processing time kept on the proof row: a monotonic clock, read twice per request.
  const auto started = std::chrono::steady_clock::now();
  const UnixMillis now = clock_.now_ms();
  // 5. The proof request and its nonce.
  std::optional<trace::ScopedSpan> nonce_span(std::in_place, "nonce");
  auto request = find_proof_request(client, in, now);
  if (!request) {
    nonce_span->fail(error_name(request.error().code));
    return refuse(request.error());
  }
  // A citizen's account link, bound to this request's nonce: refused before anything is recorded
  // (the nonce stays unspent) and not remembered under the Idempotency-Key, so a wallet can retry
  // without it, with the same key.
  std::string user_id;
  if (in.account_link) {
    // Test proofs (sandbox credentials) never reach a citizen's account.
    if (client.mode == Mode::kTest) {
      return invalid("account_link",
                     "accounts link live verifications only; a test-mode key cannot link");
    }
    if (!settings_.account_links) return invalid("account_link", "accounts are not served here");
    auto linked = settings_.account_links(*in.account_link, in.nonce);
    if (!linked) return linked.error();
    user_id = std::move(*linked);
  }
  CacheClaims claims(cache_);
  const std::string nonce_key = "nonce:" + client.id + ":" + in.nonce;
  if (auto e = claim_nonce(client, in, claims, nonce_key)) {
    nonce_span->fail(error_name(e->code));
    return refuse(*e);
  }
  nonce_span.reset();
  // 6. The circuit.
  auto circuit = find_enabled_circuit(client, in);
  if (!circuit) return refuse(circuit.error());
  // From here on an attempt is recorded and spends the nonce; the cache keeps the nonce claim
  // only once the record is written (a storage failure releases it, so a retry can succeed).
  // 7. Every public signal against the request and the server's state; 8. the pairing check.
  std::optional<ApiError> failure;
  std::optional<IssuerRoot> root;
  {
    trace::ScopedSpan span("checks");
    failure = check_public_signals(**circuit, *request, in, now);
    if (!failure) {
      auto matched = check_root(client, **circuit, in, now);
      if (matched) {
        root = std::move(*matched);
      } else {
        failure = matched.error();
      }
    }
    if (failure) span.fail(error_name(failure->code));
  }
  if (failure) {
    pairing_pending.reset();  // refused before its pairing step: no batch waits for it
  } else {
    trace::ScopedSpan span("pairing");
    failure = check_pairing(**circuit, in, *pairing_pending);
    if (failure) span.fail(error_name(failure->code));
  }
  // The deployed verifier's verdict on the same proof, when asked for (docs/onchain.md): only
  // once the pairing check has run, and only for onchain verifies.
  if (in.onchain && settings_.chain_check &&
      (!failure || failure->code == ErrorCode::kInvalidProof)) {
    if (auto refused = ask_chain(in, !failure)) {
      return *refused;  // not recorded, not remembered: the nonce claim is released
    }
  }
  // Rounded up: a proof answered in 0.3 ms counts 1 ms.
  const auto elapsed = std::chrono::steady_clock::now() - started;
  const std::int64_t latency_ms = std::chrono::ceil<std::chrono::milliseconds>(elapsed).count();
  trace::ScopedSpan commit_span("commit");
  auto outcome =
      failure ? record_failure(client, in, *request, std::move(*failure), latency_ms, idem)
              : record_verified(client, in, **circuit, *root, now, latency_ms, idem, user_id);
  if (const auto* e = std::get_if<ApiError>(&outcome))
    commit_span.set("error.code", std::string(error_name(e->code)));
  claims.keep(nonce_key);
  return outcome;
}

std::optional<ApiError> ProofService::ask_chain(const VerifyInput& in, bool server_accepts) {
  // A slow node holds at most chain_check_concurrency verify workers; the rest answer at once.
  auto& in_flight = counters_.chain_checks_in_flight;
  std::uint32_t running = in_flight.load();
  do {
    if (running >= settings_.chain_check_concurrency) {
      counters_.chain_checks_saturated++;
      ApiError busy{ErrorCode::kChainUnavailable, "",
                    "too many chain checks are running; nothing was recorded"};
      busy.retry_after_s = 1;
      return busy;
    }
  } while (!in_flight.compare_exchange_weak(running, running + 1));
  struct Done {
    std::atomic<std::uint32_t>& n;
    ~Done() { n--; }
  } done{in_flight};
  auto refused = settings_.chain_check(in, server_accepts);
  if (refused && refused->code == ErrorCode::kChainDisagrees) counters_.chain_disagreements++;
  if (refused && refused->code == ErrorCode::kChainUnavailable) counters_.chain_unavailable++;
  return refused;
}

Outcome<ProofRequest> ProofService::find_proof_request(const Client& client, const VerifyInput& in,
                                                       UnixMillis now) {
  auto req = store_.find_request(client.id, in.nonce);
  if (!req) {
    return ApiError{ErrorCode::kNotFound, "request.nonce",
                    "no proof request with this nonce for this partner"};
  }
  if (req->claim_type != in.claim_type) {
    return ApiError{ErrorCode::kBindingMismatch, "claim_type",
                    "the proof request is for " + req->claim_type};
  }
  if (req->circuit_version != in.circuit_version) {
    return ApiError{ErrorCode::kBindingMismatch, "circuit_version",
                    "the proof request is for version " + req->circuit_version};
  }
  if (req->verifier_domain != in.domain) {
    return ApiError{ErrorCode::kBindingMismatch, "request.verifier_domain",
                    "the proof request is for " + req->verifier_domain};
  }
  if (now > req->expires_at) {
    return ApiError{ErrorCode::kRequestExpired, "request.nonce",
                    "the proof request expired at " + rfc3339(req->expires_at)};
  }
  return std::move(*req);
}

std::optional<ApiError> ProofService::claim_nonce(const Client& client, const VerifyInput& in,
                                                  CacheClaims& claims,
                                                  const std::string& nonce_key) {
  const ApiError replay{ErrorCode::kNonceReplay, "request.nonce",
                        "this proof request was already answered"};
  // The cache is the fast path; the database's unique constraint is the last word.
  if (!cache_.add(nonce_key, kInFlightTtl)) {
    counters_.nonce_cache_taken++;
    return replay;
  }
  counters_.nonce_cache_claimed++;
  claims.hold(nonce_key);
  if (store_.nonce_answered(client.id, in.nonce)) {
    counters_.nonce_db_taken++;
    claims.keep(nonce_key);
    return replay;
  }
  return std::nullopt;
}

Outcome<const Circuit*> ProofService::find_enabled_circuit(const Client& client,
                                                           const VerifyInput& in) {
  const Circuit* circuit = catalog_.find(in.claim_type, in.circuit_version);
  if (!circuit) {
    return ApiError{ErrorCode::kUnknownCircuit, "circuit_version",
                    "no circuit " + in.claim_type + " " + in.circuit_version};
  }
  if (circuits_) {
    if (auto refused =
            circuits_->refuse_for(client.id, in.claim_type, in.circuit_version, "circuit_version"))
      return std::move(*refused);
  }
  if (store_.circuit_enabled(in.claim_type, in.circuit_version) == false) {
    return ApiError{ErrorCode::kCircuitDisabled, "circuit_version",
                    in.claim_type + " " + in.circuit_version + " is disabled"};
  }
  if (in.publics.size() != circuit->public_signals.size()) {
    return invalid("public_signals", in.claim_type + " " + in.circuit_version + " has " +
                                         std::to_string(circuit->public_signals.size()) +
                                         " public signals, got " +
                                         std::to_string(in.publics.size()));
  }
  return circuit;
}

namespace {
std::string signal_field(const Circuit& circuit, std::string_view name) {
  return "public_signals[" + std::to_string(circuit.index_of(name)) + "] (" + std::string(name) +
         ")";
}
}  // namespace

std::optional<ApiError> ProofService::check_public_signals(const Circuit& circuit,
                                                           const ProofRequest& req,
                                                           const VerifyInput& in, UnixMillis now) {
  const auto signal = [&](std::string_view name) -> const crypto::Fr& {
    return in.publics[circuit.index_of(name)];
  };
  const auto mismatch = [&](std::string_view name, std::string detail) {
    return ApiError{ErrorCode::kBindingMismatch, signal_field(circuit, name), std::move(detail)};
  };
  const crypto::Fr binding =
      request_binding({req.nonce, req.verifier_domain, req.claim_type, req.circuit_version});
  if (signal("binding") != binding) {
    return mismatch("binding", "differs from the binding of the proof request");
  }
  if (signal("scope") != partner_scope(req.verifier_domain)) {
    return mismatch("scope", "differs from the scope of " + req.verifier_domain);
  }
  for (const auto& [name, value] : req.params) {
    if (signal(name) != fr_from_u64(value)) {
      return mismatch(name, "differs from the request's " + name + " " + std::to_string(value));
    }
  }
  const auto today = param(req.params, "today");
  if (!today || std::llabs(days_from_yyyymmdd(*today) - days_from_yyyymmdd(yyyymmdd(now))) > 1) {
    return mismatch("today", "is not within one day of the server's date");
  }
  return std::nullopt;
}

Outcome<IssuerRoot> ProofService::check_root(const Client& client, const Circuit& circuit,
                                             const VerifyInput& in, UnixMillis now) {
  const std::string& root = in.decimals[circuit.index_of("root")];
  const bool sandbox = client.mode == Mode::kTest;
  const UnixMillis since = now - settings_.root_grace.count();
  auto roots = store_.recent_roots(circuit.issuer_id, since, sandbox);
  const auto it =
      std::find_if(roots.begin(), roots.end(), [&](const IssuerRoot& r) { return r.root == root; });
  if (it != roots.end()) return std::move(*it);
  // A root of the other side answers apart: the partner used the wrong key, not an old root.
  const auto other = store_.recent_roots(circuit.issuer_id, since, !sandbox);
  if (std::any_of(other.begin(), other.end(),
                  [&](const IssuerRoot& r) { return r.root == root; })) {
    return ApiError{ErrorCode::kRootModeMismatch, signal_field(circuit, "root"),
                    sandbox ? "is a live root of issuer " + circuit.issuer_name +
                                  "; a test key accepts only sandbox roots (use a live key)"
                            : "is a sandbox root of issuer " + circuit.issuer_name +
                                  "; a live key accepts only live roots (use a test key)"};
  }
  return ApiError{ErrorCode::kStaleRoot, signal_field(circuit, "root"),
                  std::string("is not a current ") + (sandbox ? "sandbox " : "") +
                      "root of issuer " + circuit.issuer_name};
}

std::optional<ApiError> ProofService::check_pairing(const Circuit& circuit, const VerifyInput& in,
                                                    PairingBatcher::Pending& pending) const {
  if (!batcher_->verify(circuit.key, in.proof, in.publics, &pending)) {
    return ApiError{ErrorCode::kInvalidProof, "proof", "the Groth16 check fails"};
  }
  return std::nullopt;
}

namespace {
/// The metadata row of one answered proof request: never the proof or the public signals, only
/// their hash.
ProofRecord proof_row(const Client& client, const ProofService::VerifyInput& in, std::string status,
                      UnixMillis now) {
  ProofRecord proof;
  proof.id = uuid_v4();
  proof.client_id = client.id;
  proof.claim_type = in.claim_type;
  proof.circuit_version = in.circuit_version;
  proof.status = std::move(status);
  proof.public_hash = public_signals_hash(in.decimals);
  proof.request_nonce = in.nonce;
  proof.created_at = now;
  return proof;
}
}  // namespace

std::variant<Verified, ApiError> ProofService::record(const Client& client,
                                                      const ProofRecord& proof,
                                                      std::variant<Verified, ApiError> outcome,
                                                      const IdempotencyRecord* idem) {
  // The proof row, its webhook event and the idempotency record: one transaction.
  OutboxEvent event;
  if (!client.webhook_url.empty()) {
    json::object payload{{"event", "proof." + proof.status},
                         {"mode", mode_name(client.mode)},
                         {"proof_id", proof.id},
                         {"claim_type", proof.claim_type},
                         {"status", proof.status}};
    if (!proof.error_code.empty()) payload["error_code"] = proof.error_code;
    payload["ts"] = rfc3339(proof.created_at);
    event = {uuid_v4(),
             client.id,
             proof.id,
             "proof." + proof.status,
             json::serialize(payload),
             proof.created_at,
             trace::current_traceparent()};  // its deliveries join this request's trace
  }
  IdempotencyRecord record;
  if (idem) {
    record = *idem;
    store_outcome(outcome, record);
  }
  if (store_.record_proof(proof, client.webhook_url.empty() ? nullptr : &event,
                          idem ? &record : nullptr) == RecordOutcome::kNonceTaken) {
    // Another request answered this nonce first: the database's unique constraint decides.
    counters_.nonce_db_taken++;
    ApiError replay{ErrorCode::kNonceReplay, "request.nonce",
                    "this proof request was already answered"};
    remember(idem, replay);
    return replay;
  }
  if (settings_.on_event_recorded && !client.webhook_url.empty()) settings_.on_event_recorded();
  return outcome;
}

std::variant<Verified, ApiError> ProofService::record_verified(
    const Client& client, const VerifyInput& in, const Circuit& circuit, const IssuerRoot& root,
    UnixMillis now, std::int64_t latency_ms, const IdempotencyRecord* idem,
    const std::string& user_id) {
  ProofRecord proof = proof_row(client, in, "verified", now);
  proof.user_id = user_id;
  proof.verified_at = now;
  proof.latency_ms = latency_ms;
  return record(client, proof,
                Verified{proof.id, in.claim_type, in.circuit_version,
                         in.decimals[circuit.index_of("nullifier")], now,
                         std::string(issuer_slug(circuit.issuer_id)), root.seq,
                         std::max<std::int64_t>(0, (now - root.issued_at) / 1000)},
                idem);
}

std::variant<Verified, ApiError> ProofService::record_failure(
    const Client& client, const VerifyInput& in, const ProofRequest& request, ApiError error,
    std::int64_t latency_ms, const IdempotencyRecord* idem) {
  ProofRecord proof = proof_row(client, in, "failed", clock_.now_ms());
  proof.latency_ms = latency_ms;
  proof.request_nonce = request.nonce;
  proof.error_code = error_name(error.code);
  error.proof_id = proof.id;
  return record(client, proof, std::move(error), idem);
}

Outcome<ProofRecord> ProofService::status(const Client& client, std::string_view proof_id) {
  const ApiError not_found{ErrorCode::kNotFound, "proof_id",
                           "no proof with this id for this partner"};
  if (!is_uuid(proof_id)) return not_found;
  auto proof = store_.find_proof(proof_id);
  if (!proof || proof->client_id != client.id) return not_found;
  return std::move(*proof);
}

}  // namespace pg::core
