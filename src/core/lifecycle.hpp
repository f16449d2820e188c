// Circuit versions from upload to retirement (uploaded -> enabled -> deprecated -> disabled) and
// the two-person rule: a change that needs other admins is stored as a pending action that
// approvals_required(kind) actors other than the requester approve before it expires (two for
// enabling a circuit version). Both are audited in the same transaction as the change,
// and the verify path reads the state through CircuitGate (a short cache over the store, so a
// change made by another instance is seen within the cache's lifetime). docs/circuits.md,
// docs/admin.md.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/admin_service.hpp"
#include "core/artifacts.hpp"
#include "core/audit.hpp"
#include "core/errors.hpp"
#include "core/outbox.hpp"
#include "core/outcome.hpp"
#include "core/ports.hpp"

namespace pg::core {

class CircuitCatalog;
struct KeyPolicy;

// --- Pending approvals ---

inline constexpr std::string_view kApprovalPending = "pending";
inline constexpr std::string_view kApprovalApproved = "approved";
inline constexpr std::string_view kApprovalExpired = "expired";
inline constexpr std::string_view kApprovalCancelled = "cancelled";

/// The kinds of action that need a second actor; approve executes each in the approval's
/// transaction.
inline constexpr std::string_view kActionCircuitEnable = "circuit.enable";
inline constexpr std::string_view kActionClientResume = "client.resume";
/// Approving executes nothing: it lets the requester download the export (export_grant).
inline constexpr std::string_view kActionAuditExport = "audit.export";

/// One admin's approval of a pending action.
struct ApprovalVote {
  Actor actor;
  UnixMillis at = 0;
};

/// How many admins other than the requester must approve an action of `kind` before it runs:
/// two for kActionCircuitEnable (the requester and two approvers), one for every other kind.
constexpr std::size_t approvals_required(std::string_view kind) noexcept {
  return kind == kActionCircuitEnable ? 2 : 1;
}

/// A change waiting for a second actor.
struct PendingAction {
  std::string id;           // uuid
  std::string kind;         // kActionCircuitEnable, ...
  std::string params_json;  // a JSON object: the action's parameters
  Actor requested_by;
  UnixMillis requested_at = 0;
  UnixMillis expires_at = 0;
  std::string
      state;         // kApprovalPending | kApprovalApproved | kApprovalExpired | kApprovalCancelled
  Actor decided_by;  // who approved (the last approver) or cancelled; empty while pending or
                     // when it expired
  UnixMillis decided_at = 0;            // when it left pending; 0 while pending
  std::vector<ApprovalVote> approvals;  // in the order given; approvals_required(kind) run it
};

// --- Circuit version states ---

inline constexpr std::string_view kCircuitUploaded = "uploaded";
inline constexpr std::string_view kCircuitEnabled = "enabled";
inline constexpr std::string_view kCircuitDeprecated = "deprecated";
inline constexpr std::string_view kCircuitDisabled = "disabled";

/// One version's lifecycle row. A version in the artifacts directory without a row is enabled.
struct CircuitState {
  std::string claim_type;
  std::string version;
  std::string state;         // kCircuitUploaded | kCircuitEnabled | kCircuitDeprecated | ...
  UnixMillis sunset_at = 0;  // deprecated: when it stops verifying; 0 otherwise
  std::string successor;     // deprecated: the version to move to; may be empty
  UnixMillis deprecated_at = 0;
  UnixMillis updated_at = 0;
  /// Accepted by verify at `now`: enabled, or deprecated before its sunset.
  bool verifies_at(UnixMillis now) const noexcept {
    return state == kCircuitEnabled ||
           (state == kCircuitDeprecated && (sunset_at == 0 || now < sunset_at));
  }
};

/// Which partner proved with which version (from the proof rows).
struct CircuitUsage {
  std::string claim_type;
  std::string version;
  std::string client_id;
  std::int64_t proofs = 0;
};

/// What one transaction writes besides a pending action's state: a version's new state, webhook
/// events (the outbox) and audit entries.
struct LifecycleChange {
  std::optional<CircuitState> circuit;
  std::vector<OutboxEvent> events;
  std::vector<AuditEntry> audit;
  /// A partner whose suspension ends (its held webhooks become due); empty for none.
  std::string resume_client;
};

/// Storage of pending actions and version states. Every method is safe to call from several
/// threads at once and throws StoreError when the storage fails (nothing written then).
class LifecycleStore {
 public:
  virtual ~LifecycleStore() = default;

  /// Stores a new pending action with its audit entry.
  virtual void create_approval(const PendingAction& action, const AuditEntry& audit) = 0;
  virtual std::optional<PendingAction> find_approval(std::string_view id) = 0;
  /// Newest first; `state` empty for every state, else only that one; at most `limit`.
  virtual std::vector<PendingAction> list_approvals(std::string_view state, std::size_t limit) = 0;
  /// Moves the action from pending to `state` (decided by `by` at `at`) and writes `change`, in
  /// one transaction. False, nothing written, when the action is not pending any more (a second
  /// approve racing the first loses here).
  virtual bool finish_approval(std::string_view id, std::string_view state, const Actor& by,
                               UnixMillis at, const LifecycleChange& change) = 0;
  /// Appends `vote` to the action's approvals and writes `change`, in one transaction, if the
  /// action is still pending and its stored approvals are still `seen` (compare-and-set: a vote
  /// or decision made since `seen` was read makes this return false with nothing written; the
  /// caller reads again). With `decide` the action also moves to approved, decided by the vote's
  /// actor at the vote's time.
  virtual bool add_approval_vote(std::string_view id, const std::vector<ApprovalVote>& seen,
                                 const ApprovalVote& vote, bool decide,
                                 const LifecycleChange& change) = 0;

  /// Writes `change` in one transaction. The version row keeps Store::circuit_enabled in step:
  /// enabled for kCircuitEnabled and kCircuitDeprecated, disabled otherwise.
  virtual void apply_lifecycle(const LifecycleChange& change) = 0;
  /// The version's row: state as written by apply_lifecycle, or for a row only
  /// Store::set_circuit_enabled wrote, kCircuitEnabled / kCircuitDisabled. nullopt: no row.
  virtual std::optional<CircuitState> find_circuit_state(std::string_view claim_type,
                                                         std::string_view version) = 0;
  virtual std::vector<CircuitState> list_circuit_states() = 0;
  /// Proof counts per (claim type, version, partner).
  virtual std::vector<CircuitUsage> circuit_usage() = 0;

  /// Sets (or with an empty `min_version`, removes) the partner's oldest accepted version of
  /// `claim_type`, with its audit entry. False, nothing written, for an unknown partner.
  virtual bool set_min_version(std::string_view client_id, std::string_view claim_type,
                               std::string_view min_version, UnixMillis now,
                               const AuditEntry& audit) = 0;
  /// The partner's minimums: claim type -> oldest accepted version.
  virtual std::map<std::string, std::string> min_versions(std::string_view client_id) = 0;
};

/// Semantic versions compared number by number: <0, 0, >0 (both must be is_semver).
int compare_semver(std::string_view a, std::string_view b) noexcept;

// --- The verify path's view ---

/// The version state as the verify path sees it, cached for `ttl` per version (a change made by
/// this or another instance is seen within `ttl`; invalidate() drops the cache after a local
/// change).
class CircuitGate {
 public:
  CircuitGate(LifecycleStore& store, const Clock& clock,
              std::chrono::milliseconds ttl = std::chrono::milliseconds(1000))
      : store_(store), clock_(clock), ttl_ms_(ttl.count()) {}

  /// The version's state (a version without a row is enabled).
  CircuitState state(std::string_view claim_type, std::string_view version);
  /// nullopt when the version may verify now; else CIRCUIT_DISABLED on `field`, naming the
  /// successor after a sunset.
  std::optional<ApiError> refuse(std::string_view claim_type, std::string_view version,
                                 std::string_view field);
  /// As refuse, and CIRCUIT_DISABLED naming the minimum when `version` is older than the
  /// partner's minimum for the claim type.
  std::optional<ApiError> refuse_for(std::string_view client_id, std::string_view claim_type,
                                     std::string_view version, std::string_view field);
  void invalidate();

 private:
  struct Cached {
    CircuitState state;
    UnixMillis fetched_at = 0;
  };
  LifecycleStore& store_;
  const Clock& clock_;
  std::int64_t ttl_ms_;
  std::mutex mutex_;
  std::map<std::string, Cached, std::less<>> cache_;  // "claim_type version"
  struct CachedMinimums {
    std::map<std::string, std::string> by_claim;
    UnixMillis fetched_at = 0;
  };
  std::map<std::string, CachedMinimums, std::less<>> minimums_;  // by client id
};

/// Deprecation headers for a verify answer: Deprecation (RFC 9745, "@<unix seconds>"), Sunset
/// (RFC 8594, an HTTP-date) and Link rel="successor-version" (when a successor is named, its
/// manifest under `artifacts_base`). Empty unless the state is deprecated.
std::vector<std::pair<std::string, std::string>> deprecation_headers(
    const CircuitState& state, std::string_view artifacts_base = "/artifacts");
/// An IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(UnixMillis ms);
/// "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339 in UTC, whole seconds) or decimal Unix seconds, as Unix
/// milliseconds; nullopt for anything else.
std::optional<UnixMillis> parse_utc_time(std::string_view text);

// --- The use cases ---

struct LifecycleSettings {
  std::int64_t approval_ttl_seconds = 24 * 3600;  // a pending action expires after this
};

struct LifecyclePorts {
  LifecycleStore& store;
  Store& partners;  // list_clients: who is told by webhook
  /// The versions this process loads; null in a process that loads none (the CLI): any known
  /// claim type and version is then accepted, the server deciding what it loads. An upload adds
  /// its version here.
  CircuitCatalog* catalog;
  const Clock& clock;
  CircuitGate* gate = nullptr;  // invalidated after each change (may be null)
  std::function<void()> notify_worker;
  /// Loads versions another instance uploaded (the shared artifacts directory) into `catalog`;
  /// called before request_enable decides a version is not loaded. May be empty.
  std::function<void()> reload_catalog;
};

/// A version as the admin API lists it.
struct CircuitListing {
  CircuitState state;
  bool loaded = false;                                         // in this instance's catalog
  std::vector<std::pair<std::string, std::int64_t>> partners;  // client id, proofs
};

class LifecycleService {
 public:
  LifecycleService(LifecyclePorts ports, LifecycleSettings settings)
      : p_(std::move(ports)), settings_(settings) {}

  /// A pending circuit.enable for a loaded version that is not enabled already (CONFLICT when
  /// it is, or when one is pending for it).
  Outcome<PendingAction> request_enable(const Actor& actor, std::string_view claim_type,
                                        std::string_view version);
  /// A pending client.resume for a suspended partner (NOT_FOUND for an unknown one, CONFLICT
  /// when it is active or when one is pending for it already).
  Outcome<PendingAction> request_resume(const Actor& actor, std::string_view client_id);
  /// A pending audit.export of the entries with from <= at < to (INVALID_REQUEST on `to` when it
  /// is before `from`).
  Outcome<PendingAction> request_export(const Actor& actor, UnixMillis from, UnixMillis to);
  /// The approved audit.export `id` that `actor` requested, before its expires_at: the download
  /// may go ahead (audited `audit.exported`; any number of times until it expires). Otherwise
  /// UNAUTHORIZED_SCOPE on `approval` saying why (no such export approval, not approved, someone
  /// else's, expired).
  Outcome<PendingAction> export_grant(const Actor& actor, std::string_view id);
  /// Records `actor`'s approval of a pending action (audited approval.approved with the count
  /// so far and the count required); the approval that completes approvals_required(kind)
  /// executes it in the same transaction. Until then the action stays pending and is returned
  /// with its approvals. CONFLICT when `actor` requested it (the same type and id), has approved
  /// it already, when it expired (it is then marked expired) or when it is not pending. Two
  /// approvals at once never lose one nor run the action twice (add_approval_vote's
  /// compare-and-set, retried with what the other wrote).
  Outcome<PendingAction> approve(const Actor& actor, std::string_view id);
  /// Cancels a pending action (any admin; audited). CONFLICT when it is not pending.
  Outcome<PendingAction> cancel(const Actor& actor, std::string_view id);
  /// `state`: "" or one of the approval states; limit 1..1000.
  Outcome<std::vector<PendingAction>> list_approvals(std::string_view state, std::size_t limit);

  /// Disables at once (one admin), tells every partner with a webhook (circuit.disabled).
  Outcome<CircuitState> disable(const Actor& actor, std::string_view claim_type,
                                std::string_view version);
  /// Deprecates an enabled version: verify answers carry the deprecation headers until
  /// `sunset_at` (in the future), then CIRCUIT_DISABLED naming `successor` (empty, or another
  /// loaded version of the claim type). Partners are told (circuit.deprecated).
  Outcome<CircuitState> deprecate(const Actor& actor, std::string_view claim_type,
                                  std::string_view version, UnixMillis sunset_at,
                                  std::string_view successor);
  /// Every version loaded or with a row, with the partners that proved with it.
  std::vector<CircuitListing> list_circuits();
  /// Sets the partner's oldest accepted version of a claim type (empty: no minimum). Audited
  /// (`client.min_version_set`). NOT_FOUND for an unknown partner.
  Outcome<std::map<std::string, std::string>> set_min_version(const Actor& actor,
                                                              std::string_view client_id,
                                                              std::string_view claim_type,
                                                              std::string_view min_version);
  std::map<std::string, std::string> min_versions(std::string_view client_id);
  /// Checks an uploaded version (check_upload, circuit_upload.hpp), records it `uploaded`
  /// (audited `circuit.uploaded` with the digests), writes its files through the installer and
  /// adds it to this instance's catalog: enabling it (two approvals) needs no restart. CONFLICT
  /// when the version exists already (a row, loaded, or files in place).
  /// `installer`: where the files go; `policy`: the key policy of the servers that load them.
  Outcome<CircuitState> upload(const Actor& actor,
                               const std::map<std::string, std::string, std::less<>>& files,
                               ArtifactInstaller& installer, const KeyPolicy& policy);
  /// Records a checked upload as `uploaded` (audited `circuit.uploaded` with `details_json`, e.g.
  /// the digests). CONFLICT when the version already has a state or is loaded here. The files go
  /// into the artifacts directory after this: a version without its files is never loaded, while
  /// files without this row would load as enabled.
  Outcome<CircuitState> record_upload(const Actor& actor, std::string_view claim_type,
                                      std::string_view version, std::string details_json);

 private:
  /// The version's state; with `known`, NOT_FOUND unless it has a row or is loaded.
  Outcome<CircuitState> current(std::string_view claim_type, std::string_view version,
                                bool known = true);
  std::vector<OutboxEvent> partner_events(std::string_view type, const std::string& data_json,
                                          UnixMillis now);
  AuditEntry entry(const Actor& actor, std::string_view action, std::string details) const;
  /// Stores a new pending action of `kind` with `params` (audited approval.requested); CONFLICT
  /// naming `field` when one with the same kind and params is pending already.
  Outcome<PendingAction> request(const Actor& actor, std::string_view kind,
                                 const boost::json::object& params, std::string_view field);
  void after_change();
  /// Adds to `change` what the approval `a`'s last vote (by `actor`) carries out; CONFLICT or
  /// NOT_FOUND when it cannot run any more.
  Outcome<bool> execution(const Actor& actor, const PendingAction& a, UnixMillis now,
                          const boost::json::array& approvers, LifecycleChange& change);

  LifecyclePorts p_;
  LifecycleSettings settings_;
  std::mutex upload_mutex_;
};

}  // namespace pg::core
