// Circuit lifecycle and pending approvals (see lifecycle.hpp).
#include "core/lifecycle.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>

#include "core/admin_service.hpp"
#include "core/catalog.hpp"
#include "core/circuit_upload.hpp"
#include "core/secrets.hpp"
#include "core/service.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxApprovalLimit = 1000;
/// Rounds of approve's compare-and-set before it gives up (each lost round means another
/// approval or decision landed, so a few suffice).
constexpr int kMaxVoteAttempts = 8;

std::string key_of(std::string_view claim_type, std::string_view version) {
  std::string k(claim_type);
  k += ' ';
  k += version;
  return k;
}

bool same_actor(const Actor& a, const Actor& b) {
  return a.type == b.type && a.id == b.id;
}

std::string actor_text(const Actor& a) {
  return a.id.empty() ? a.type : a.type + ":" + a.id;
}

/// The version a CircuitState describes, or for a version without a row, enabled.
CircuitState enabled_by_default(std::string_view claim_type, std::string_view version) {
  CircuitState s;
  s.claim_type = std::string(claim_type);
  s.version = std::string(version);
  s.state = std::string(kCircuitEnabled);
  return s;
}

}  // namespace

// --- CircuitGate ---

CircuitState CircuitGate::state(std::string_view claim_type, std::string_view version) {
  const UnixMillis now = clock_.now_ms();
  const std::string key = key_of(claim_type, version);
  {
    std::lock_guard lock(mutex_);
    if (const auto it = cache_.find(key);
        it != cache_.end() && now - it->second.fetched_at < ttl_ms_ && now >= it->second.fetched_at)
      return it->second.state;
  }
  auto found = store_.find_circuit_state(claim_type, version);
  CircuitState s = found ? std::move(*found) : enabled_by_default(claim_type, version);
  std::lock_guard lock(mutex_);
  cache_[key] = Cached{s, now};
  return s;
}

std::optional<ApiError> CircuitGate::refuse(std::string_view claim_type, std::string_view version,
                                            std::string_view field) {
  const CircuitState s = state(claim_type, version);
  const UnixMillis now = clock_.now_ms();
  if (s.verifies_at(now)) return std::nullopt;
  std::string name = std::string(claim_type) + " " + std::string(version);
  std::string detail;
  if (s.state == kCircuitDeprecated) {
    detail = name + " was retired at its sunset " + rfc3339(s.sunset_at);
    detail += s.successor.empty() ? "; move to a newer version"
                                  : "; move to " + std::string(claim_type) + " " + s.successor;
  } else if (s.state == kCircuitUploaded) {
    detail = name + " is uploaded but not enabled yet";
  } else {
    detail = name + " is disabled";
  }
  return ApiError{ErrorCode::kCircuitDisabled, std::string(field), std::move(detail)};
}

std::optional<ApiError> CircuitGate::refuse_for(std::string_view client_id,
                                                std::string_view claim_type,
                                                std::string_view version, std::string_view field) {
  if (auto refused = refuse(claim_type, version, field)) return refused;
  const UnixMillis now = clock_.now_ms();
  std::map<std::string, std::string> by_claim;
  bool cached = false;
  {
    std::lock_guard lock(mutex_);
    if (const auto it = minimums_.find(client_id); it != minimums_.end() &&
                                                   now - it->second.fetched_at < ttl_ms_ &&
                                                   now >= it->second.fetched_at) {
      by_claim = it->second.by_claim;
      cached = true;
    }
  }
  if (!cached) {
    by_claim = store_.min_versions(client_id);
    std::lock_guard lock(mutex_);
    minimums_[std::string(client_id)] = CachedMinimums{by_claim, now};
  }
  const auto min = by_claim.find(std::string(claim_type));
  if (min == by_claim.end() || compare_semver(version, min->second) >= 0) return std::nullopt;
  return ApiError{ErrorCode::kCircuitDisabled, std::string(field),
                  std::string(claim_type) + " " + std::string(version) +
                      " is older than this partner accepts: move to " + std::string(claim_type) +
                      " " + min->second + " or newer (the partner's minimum)"};
}

void CircuitGate::invalidate() {
  std::lock_guard lock(mutex_);
  cache_.clear();
  minimums_.clear();
}

int compare_semver(std::string_view a, std::string_view b) noexcept {
  for (int part = 0; part < 3; ++part) {
    const auto cut_a = a.find('.'), cut_b = b.find('.');
    const std::string_view pa = a.substr(0, cut_a), pb = b.substr(0, cut_b);
    // No leading zeros (is_semver): a longer number is larger, equal lengths compare as text.
    if (pa.size() != pb.size()) return pa.size() < pb.size() ? -1 : 1;
    if (const int c = pa.compare(pb); c != 0) return c < 0 ? -1 : 1;
    a = cut_a == std::string_view::npos ? std::string_view() : a.substr(cut_a + 1);
    b = cut_b == std::string_view::npos ? std::string_view() : b.substr(cut_b + 1);
  }
  return 0;
}

std::string http_date(UnixMillis ms) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days d = floor<days>(t);
  const year_month_day ymd(d);
  const weekday wd(d);
  const hh_mm_ss<seconds> hms(floor<seconds>(t - d));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02ld:%02ld:%02lld GMT", kDays[wd.c_encoding()],
                unsigned(ymd.day()), kMonths[unsigned(ymd.month()) - 1], int(ymd.year()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

std::optional<UnixMillis> parse_utc_time(std::string_view text) {
  const auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  if (!text.empty() && text.size() <= 12 && text.find_first_not_of("0123456789") == text.npos)
    return static_cast<UnixMillis>(std::stoll(std::string(text))) * 1000;
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z')
    return std::nullopt;
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2),
             mi = digits(14, 2), sec = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || *h > 23 || *mi > 59 || *sec > 59) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year(*y), month(static_cast<unsigned>(*mo)),
                           day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  const auto t = sys_days(ymd) + hours(*h) + minutes(*mi) + seconds(*sec);
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

std::vector<std::pair<std::string, std::string>> deprecation_headers(
    const CircuitState& state, std::string_view artifacts_base) {
  std::vector<std::pair<std::string, std::string>> h;
  if (state.state != kCircuitDeprecated) return h;
  h.emplace_back("Deprecation", "@" + std::to_string(state.deprecated_at / 1000));
  if (state.sunset_at) h.emplace_back("Sunset", http_date(state.sunset_at));
  if (!state.successor.empty()) {
    h.emplace_back("Link", "<" + std::string(artifacts_base) + "/" + state.claim_type + "/" +
                               state.successor + "/manifest.json>; rel=\"successor-version\"");
  }
  return h;
}

// --- LifecycleService ---

AuditEntry LifecycleService::entry(const Actor& actor, std::string_view action,
                                   std::string details) const {
  AuditEntry e;
  e.actor_type = actor.type;
  e.actor_id = actor.id;
  e.action = std::string(action);
  e.details_json = std::move(details);
  e.at = p_.clock.now_ms();
  return e;
}

void LifecycleService::after_change() {
  if (p_.gate) p_.gate->invalidate();
  if (p_.notify_worker) p_.notify_worker();
}

Outcome<CircuitState> LifecycleService::current(std::string_view claim_type,
                                                std::string_view version, bool known) {
  if (!is_claim_type(claim_type))
    return invalid("claim_type", "unknown claim type '" + std::string(claim_type) + "'");
  if (!is_semver(version)) return invalid("version", "must be a version MAJOR.MINOR.PATCH");
  auto row = p_.store.find_circuit_state(claim_type, version);
  if (known && p_.catalog && !p_.catalog->find(claim_type, version) && !row)
    return not_found("version",
                     "no circuit " + std::string(claim_type) + " " + std::string(version));
  return row ? std::move(*row) : enabled_by_default(claim_type, version);
}

std::vector<OutboxEvent> LifecycleService::partner_events(std::string_view type,
                                                          const std::string& data_json,
                                                          UnixMillis now) {
  std::vector<OutboxEvent> events;
  for (const Client& c : p_.partners.list_clients()) {
    if (c.webhook_url.empty()) continue;
    OutboxEvent e;
    e.event_id = uuid_v4();
    e.client_id = c.id;
    e.event_type = std::string(type);
    json::object payload{{"event", e.event_type},
                         {"mode", mode_name(c.mode)},
                         {"event_id", e.event_id},
                         {"ts", rfc3339(now)}};
    payload["data"] = json::parse(data_json);
    e.payload = json::serialize(payload);
    e.created_at = now;
    events.push_back(std::move(e));
  }
  return events;
}

Outcome<PendingAction> LifecycleService::request_enable(const Actor& actor,
                                                        std::string_view claim_type,
                                                        std::string_view version) {
  if (p_.catalog && p_.reload_catalog && !p_.catalog->find(claim_type, version))
    p_.reload_catalog();  // uploaded through another instance
  auto cur = current(claim_type, version);
  if (!cur) return cur.error();
  if (p_.catalog && !p_.catalog->find(claim_type, version))
    return conflict("version", std::string(claim_type) + " " + std::string(version) +
                                   " is not loaded by this instance");
  if (cur->state == kCircuitEnabled)
    return conflict("version",
                    std::string(claim_type) + " " + std::string(version) + " is enabled already");
  return request(actor, kActionCircuitEnable,
                 json::object{{"claim_type", claim_type}, {"version", version}}, "version");
}

Outcome<PendingAction> LifecycleService::request_resume(const Actor& actor,
                                                        std::string_view client_id) {
  const auto client = is_uuid(client_id) ? p_.partners.find_client(client_id) : std::nullopt;
  if (!client) return not_found("client_id", "no partner with this id");
  if (client->suspended_at == 0) return conflict("client_id", "the partner is not suspended");
  if (auto e = twin_partner_inactive(p_.partners, *client)) return *e;
  return request(actor, kActionClientResume, json::object{{"client_id", client_id}}, "client_id");
}

Outcome<PendingAction> LifecycleService::request_export(const Actor& actor, UnixMillis from,
                                                        UnixMillis to) {
  if (to < from) return invalid("to", "must not be before from");
  return request(actor, kActionAuditExport, json::object{{"from", from}, {"to", to}}, "from");
}

Outcome<PendingAction> LifecycleService::export_grant(const Actor& actor, std::string_view id) {
  const auto refused = [](std::string why) {
    return ApiError{ErrorCode::kUnauthorizedScope, "approval",
                    "exporting the audit trail needs an approved audit.export approval: " + why};
  };
  auto found = is_uuid(id) ? p_.store.find_approval(id) : std::nullopt;
  if (!found || found->kind != kActionAuditExport)
    return refused(
        "no audit.export approval with this id (ask with POST /api/admin/audit/exports)");
  const UnixMillis now = p_.clock.now_ms();
  if (found->state != kApprovalApproved)
    return refused("it is " + found->state + "; a second admin must approve it");
  if (!same_actor(actor, found->requested_by))
    return refused("only its requester (" + actor_text(found->requested_by) + ") may download it");
  if (now >= found->expires_at) return refused("it expired at " + rfc3339(found->expires_at));
  LifecycleChange used;
  json::object details{{"approval_id", found->id}};
  details["params"] = json::parse(found->params_json);
  used.audit.push_back(entry(actor, "audit.exported", json::serialize(details)));
  p_.store.apply_lifecycle(used);
  return std::move(*found);
}

Outcome<PendingAction> LifecycleService::request(const Actor& actor, std::string_view kind,
                                                 const json::object& params,
                                                 std::string_view field) {
  for (const auto& a : p_.store.list_approvals(kApprovalPending, kMaxApprovalLimit)) {
    if (a.kind == kind && a.expires_at > p_.clock.now_ms() &&
        json::parse(a.params_json) == json::value(params))
      return conflict(std::string(field), "an approval for it is pending already: " + a.id);
  }
  PendingAction a;
  a.id = uuid_v4();
  a.kind = std::string(kind);
  a.params_json = json::serialize(params);
  a.requested_by = actor;
  a.requested_at = p_.clock.now_ms();
  a.expires_at = a.requested_at + settings_.approval_ttl_seconds * 1000;
  a.state = std::string(kApprovalPending);
  p_.store.create_approval(
      a, entry(actor, "approval.requested",
               json::serialize(
                   json::object{{"approval_id", a.id}, {"kind", a.kind}, {"params", params}})));
  return a;
}

Outcome<PendingAction> LifecycleService::approve(const Actor& actor, std::string_view id) {
  // Read, check, then compare-and-set the votes: a vote cast meanwhile by another approver makes
  // the write lose, and the next round sees it (and may then be the vote that executes).
  for (int attempt = 0; attempt < kMaxVoteAttempts; ++attempt) {
    auto found = p_.store.find_approval(id);
    if (!found) return not_found("id", "no pending action with this id");
    PendingAction a = std::move(*found);
    if (a.state != kApprovalPending)
      return conflict("id", "the action is " + a.state + ", not pending");
    if (same_actor(actor, a.requested_by))
      return conflict("id", "the requester cannot approve their own action (" + actor_text(actor) +
                                "): a second admin must approve it");
    for (const auto& v : a.approvals) {
      if (same_actor(actor, v.actor))
        return conflict(
            "id", actor_text(actor) + " has approved already: a different admin must approve it");
    }
    const UnixMillis now = p_.clock.now_ms();
    const json::object audit_base{{"approval_id", a.id}, {"kind", a.kind}};
    if (now >= a.expires_at) {
      LifecycleChange expire;
      expire.audit.push_back(entry(actor, "approval.expired", json::serialize(audit_base)));
      p_.store.finish_approval(a.id, kApprovalExpired, Actor{}, now, expire);
      return conflict("id",
                      "the action expired at " + rfc3339(a.expires_at) + "; request it again");
    }
    const std::vector<ApprovalVote> seen = a.approvals;
    a.approvals.push_back(ApprovalVote{actor, now});
    const std::size_t required = approvals_required(a.kind);
    const bool last = a.approvals.size() >= required;
    json::array approvers;
    for (const auto& v : a.approvals) approvers.push_back(json::string(actor_text(v.actor)));
    LifecycleChange change;
    json::object details = audit_base;
    details["requested_by"] = actor_text(a.requested_by);
    details["approvals"] = a.approvals.size();
    details["required"] = required;
    details["approvers"] = approvers;
    change.audit.push_back(entry(actor, "approval.approved", json::serialize(details)));
    if (last) {
      auto executed = execution(actor, a, now, approvers, change);
      if (!executed) return executed.error();
    }
    if (!p_.store.add_approval_vote(a.id, seen, a.approvals.back(), last, change)) continue;
    if (!last) return a;
    after_change();
    a.state = std::string(kApprovalApproved);
    a.decided_by = actor;
    a.decided_at = now;
    return a;
  }
  return conflict("id", "the action's approvals kept changing while approving; try again");
}

Outcome<bool> LifecycleService::execution(const Actor& actor, const PendingAction& a,
                                          UnixMillis now, const json::array& approvers,
                                          LifecycleChange& change) {
  if (a.kind == kActionCircuitEnable) {
    const json::object params = json::parse(a.params_json).as_object();
    const std::string claim_type(params.at("claim_type").as_string());
    const std::string version(params.at("version").as_string());
    auto cur = current(claim_type, version, /*known=*/false);  // checked at the request
    if (!cur) return cur.error();
    CircuitState s = *cur;
    s.state = std::string(kCircuitEnabled);
    s.sunset_at = 0;
    s.successor.clear();
    s.deprecated_at = 0;
    s.updated_at = now;
    change.circuit = s;
    change.audit.push_back(entry(actor, "circuit.enabled",
                                 json::serialize(json::object{{"claim_type", claim_type},
                                                              {"version", version},
                                                              {"approval_id", a.id},
                                                              {"approvers", approvers},
                                                              {"from", cur->state}})));
  } else if (a.kind == kActionClientResume) {
    const std::string client_id(json::parse(a.params_json).as_object().at("client_id").as_string());
    const auto client = p_.partners.find_client(client_id);
    if (!client) return not_found("client_id", "no partner with this id");
    if (client->suspended_at == 0)
      return conflict("client_id", "the partner is not suspended any more");
    if (auto e = twin_partner_inactive(p_.partners, *client)) return *e;
    change.resume_client = client_id;  // and its test twin with it
    change.audit.push_back(
        entry(actor, "client.resumed",
              json::serialize(json::object{
                  {"client_id", client_id}, {"approval_id", a.id}, {"approvers", approvers}})));
  } else if (a.kind == kActionAuditExport) {
    // Nothing runs now: the requester downloads the export (export_grant) until it expires.
  } else {
    return conflict("id", "actions of kind " + a.kind + " cannot be executed by this server");
  }
  return true;
}

Outcome<PendingAction> LifecycleService::cancel(const Actor& actor, std::string_view id) {
  auto found = p_.store.find_approval(id);
  if (!found) return not_found("id", "no pending action with this id");
  PendingAction a = std::move(*found);
  if (a.state != kApprovalPending)
    return conflict("id", "the action is " + a.state + ", not pending");
  const UnixMillis now = p_.clock.now_ms();
  LifecycleChange change;
  change.audit.push_back(
      entry(actor, "approval.cancelled",
            json::serialize(json::object{{"approval_id", a.id}, {"kind", a.kind}})));
  if (!p_.store.finish_approval(a.id, kApprovalCancelled, actor, now, change))
    return conflict("id", "the action is not pending any more");
  a.state = std::string(kApprovalCancelled);
  a.decided_by = actor;
  a.decided_at = now;
  return a;
}

Outcome<std::vector<PendingAction>> LifecycleService::list_approvals(std::string_view state,
                                                                     std::size_t limit) {
  if (!state.empty() && state != kApprovalPending && state != kApprovalApproved &&
      state != kApprovalExpired && state != kApprovalCancelled)
    return invalid("state", "must be pending, approved, expired or cancelled");
  if (limit < 1 || limit > kMaxApprovalLimit) return invalid("limit", "must be 1 to 1000");
  auto rows = p_.store.list_approvals(state, limit);
  // A pending action past its time reads as expired (it is marked so when someone acts on it).
  const UnixMillis now = p_.clock.now_ms();
  for (auto& a : rows) {
    if (a.state == kApprovalPending && now >= a.expires_at) a.state = std::string(kApprovalExpired);
  }
  return rows;
}

Outcome<CircuitState> LifecycleService::disable(const Actor& actor, std::string_view claim_type,
                                                std::string_view version) {
  auto cur = current(claim_type, version);
  if (!cur) return cur.error();
  if (cur->state == kCircuitDisabled)
    return conflict("version",
                    std::string(claim_type) + " " + std::string(version) + " is disabled already");
  const UnixMillis now = p_.clock.now_ms();
  CircuitState s = *cur;
  s.state = std::string(kCircuitDisabled);
  s.updated_at = now;
  const json::object data{{"claim_type", claim_type}, {"version", version}};
  LifecycleChange change;
  change.circuit = s;
  change.events = partner_events("circuit.disabled", json::serialize(data), now);
  json::object details = data;
  details["from"] = cur->state;
  details["partners_told"] = change.events.size();
  change.audit.push_back(entry(actor, "circuit.disabled", json::serialize(details)));
  p_.store.apply_lifecycle(change);
  after_change();
  return s;
}

Outcome<CircuitState> LifecycleService::deprecate(const Actor& actor, std::string_view claim_type,
                                                  std::string_view version, UnixMillis sunset_at,
                                                  std::string_view successor) {
  auto cur = current(claim_type, version);
  if (!cur) return cur.error();
  const UnixMillis now = p_.clock.now_ms();
  if (cur->state != kCircuitEnabled && cur->state != kCircuitDeprecated)
    return conflict("version", std::string(claim_type) + " " + std::string(version) + " is " +
                                   cur->state + ": only an enabled version can be deprecated");
  if (sunset_at <= now) return invalid("sunset", "must be in the future");
  if (!successor.empty()) {
    if (!is_semver(successor)) return invalid("successor", "must be a version MAJOR.MINOR.PATCH");
    if (successor == version) return invalid("successor", "must be another version");
    if (p_.catalog && !p_.catalog->find(claim_type, successor))
      return invalid("successor", "no circuit " + std::string(claim_type) + " " +
                                      std::string(successor) + " is loaded");
  }
  CircuitState s = *cur;
  s.state = std::string(kCircuitDeprecated);
  s.sunset_at = sunset_at;
  s.successor = std::string(successor);
  if (cur->state != kCircuitDeprecated) s.deprecated_at = now;
  s.updated_at = now;
  json::object data{
      {"claim_type", claim_type}, {"version", version}, {"sunset", rfc3339(sunset_at)}};
  data["successor"] = successor.empty() ? json::value(nullptr) : json::value(successor);
  LifecycleChange change;
  change.circuit = s;
  change.events = partner_events("circuit.deprecated", json::serialize(data), now);
  json::object details = data;
  details["partners_told"] = change.events.size();
  change.audit.push_back(entry(actor, "circuit.deprecated", json::serialize(details)));
  p_.store.apply_lifecycle(change);
  after_change();
  return s;
}

std::vector<CircuitListing> LifecycleService::list_circuits() {
  std::map<std::string, CircuitListing> by_key;
  if (p_.catalog) {
    for (const auto& c : p_.catalog->all()) {
      auto& l = by_key[key_of(c->claim_type, c->version)];
      l.state = enabled_by_default(c->claim_type, c->version);
      l.loaded = true;
    }
  }
  for (auto& s : p_.store.list_circuit_states()) {
    auto& l = by_key[key_of(s.claim_type, s.version)];
    l.state = std::move(s);
  }
  for (const auto& u : p_.store.circuit_usage()) {
    if (auto it = by_key.find(key_of(u.claim_type, u.version)); it != by_key.end())
      it->second.partners.emplace_back(u.client_id, u.proofs);
  }
  std::vector<CircuitListing> out;
  for (auto& [k, l] : by_key) out.push_back(std::move(l));
  return out;
}

Outcome<std::map<std::string, std::string>> LifecycleService::set_min_version(
    const Actor& actor, std::string_view client_id, std::string_view claim_type,
    std::string_view min_version) {
  if (!is_claim_type(claim_type))
    return invalid("claim_type", "unknown claim type '" + std::string(claim_type) + "'");
  if (!min_version.empty() && !is_semver(min_version))
    return invalid("min_version", "must be a version MAJOR.MINOR.PATCH, or null for none");
  json::object details{{"client_id", client_id}, {"claim_type", claim_type}};
  details["min_version"] = min_version.empty() ? json::value(nullptr) : json::value(min_version);
  const UnixMillis now = p_.clock.now_ms();
  if (!p_.store.set_min_version(client_id, claim_type, min_version, now,
                                entry(actor, "client.min_version_set", json::serialize(details))))
    return not_found("client_id", "no partner with this id");
  after_change();
  return p_.store.min_versions(client_id);
}

std::map<std::string, std::string> LifecycleService::min_versions(std::string_view client_id) {
  return p_.store.min_versions(client_id);
}

Outcome<CircuitState> LifecycleService::upload(const Actor& actor, const UploadFiles& files,
                                               ArtifactInstaller& installer,
                                               const KeyPolicy& policy) {
  auto checked = check_upload(files, policy);
  if (!checked) return checked.error();
  // One upload at a time here: two of one version never both pass the checks below (between
  // instances, the rename that never replaces a version decides).
  std::lock_guard upload_lock(upload_mutex_);
  const std::string claim_type = checked->claim_type, version = checked->version;
  if (installer.has_version(claim_type, version))
    return conflict("version",
                    claim_type + " " + version + " exists already: upload a new version");
  // Files aside first (durable), then the row, then the files into place: a version without its
  // files is never loaded, while files without the row would load as enabled.
  auto staged = installer.stage(claim_type, version, files);
  json::object digests;
  std::size_t bytes = 0;
  for (const auto& [name, digest] : checked->sha256) digests[name] = digest;
  for (const auto& [name, content] : files) bytes += content.size();
  json::object details{{"claim_type", claim_type},
                       {"version", version},
                       {"sha256", digests},
                       {"bytes", bytes},
                       {"ceremony", checked->circuit->ceremony_kind}};
  if (!checked->circuit->release_key_id.empty())
    details["release_key_id"] = checked->circuit->release_key_id;
  auto recorded = record_upload(actor, claim_type, version, json::serialize(details));
  if (!recorded) return recorded.error();
  try {
    staged->commit();
  } catch (const ArtifactError&) {
    // Another instance's upload of this version won the rename: its files stay.
    if (installer.has_version(claim_type, version))
      return conflict("version",
                      claim_type + " " + version + " exists already: upload a new version");
    throw;
  }
  // The gate forgets any state it cached for this version before the row existed, then the
  // version becomes loadable here.
  if (p_.gate) p_.gate->invalidate();
  if (p_.catalog) p_.catalog->add(std::move(checked->circuit));
  after_change();
  return recorded;
}

Outcome<CircuitState> LifecycleService::record_upload(const Actor& actor,
                                                      std::string_view claim_type,
                                                      std::string_view version,
                                                      std::string details_json) {
  if (!is_claim_type(claim_type))
    return invalid("claim_type", "unknown claim type '" + std::string(claim_type) + "'");
  if (!is_semver(version)) return invalid("version", "must be a version MAJOR.MINOR.PATCH");
  if (p_.store.find_circuit_state(claim_type, version) ||
      (p_.catalog && p_.catalog->find(claim_type, version)))
    return conflict("version", std::string(claim_type) + " " + std::string(version) +
                                   " exists already: upload a new version");
  const UnixMillis now = p_.clock.now_ms();
  CircuitState s;
  s.claim_type = std::string(claim_type);
  s.version = std::string(version);
  s.state = std::string(kCircuitUploaded);
  s.updated_at = now;
  LifecycleChange change;
  change.circuit = s;
  change.audit.push_back(entry(actor, "circuit.uploaded", std::move(details_json)));
  p_.store.apply_lifecycle(change);
  after_change();
  return s;
}

}  // namespace pg::core
