// Admin accounts: enrolment by one-time link (password + TOTP), sign-in with lock-out, sessions
// with idle and absolute timeouts and a CSRF token. The AccountStore port and AccountService.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/admin_service.hpp"
#include "core/audit.hpp"
#include "core/outcome.hpp"
#include "core/passwords.hpp"
#include "core/ports.hpp"
#include "core/roles.hpp"
#include "core/secrets.hpp"
#include "core/totp.hpp"

namespace pg::core {

inline constexpr std::string_view kAdminInvited = "invited";
inline constexpr std::string_view kAdminActive = "active";
inline constexpr std::string_view kAdminDisabled = "disabled";

/// One admin account row. Secrets only as hashes (password: argon2id encoded; enrolment token:
/// SHA-256 hex) or sealed (TOTP key: core::seal under the master key, context = id).
struct AdminAccount {
  std::string id;                  // uuid
  std::string email;               // lowercase, unique
  std::string role;                // viewer | operator | approver
  std::string status;              // invited | active | disabled
  std::string password_hash;       // empty until enrolment
  std::string totp_secret_sealed;  // empty until enrolment
  std::string totp_algorithm = "SHA1";
  std::int64_t totp_last_step = -1;  // the last step whose code signed in (replay guard)
  std::int64_t failed_sign_ins = 0;
  UnixMillis locked_until = 0;
  std::string enrolment_sha256;  // empty once enrolled
  UnixMillis enrolment_expires_at = 0;
  UnixMillis created_at = 0;
  std::int64_t version = 0;  // bumped by every update (optimistic concurrency)
};

/// One sign-in session. The token and the CSRF token are kept as SHA-256 hex only.
struct AdminSession {
  std::string token_sha256;
  std::string admin_id;
  std::string csrf_sha256;
  UnixMillis created_at = 0;
  UnixMillis last_seen_at = 0;
  UnixMillis expires_at = 0;  // absolute
};

/// Account storage. Thread-safe; throws StoreError when the storage fails (nothing written then).
class AccountStore {
 public:
  virtual ~AccountStore() = default;
  /// Stores a new account with its audit entry; false (nothing written) when the email is taken.
  virtual bool create_admin(const AdminAccount& account, const AuditEntry& audit) = 0;
  virtual std::optional<AdminAccount> find_admin(std::string_view id) = 0;
  virtual std::optional<AdminAccount> find_admin_by_email(std::string_view email) = 0;
  virtual std::optional<AdminAccount> find_admin_by_enrolment(std::string_view sha256_hex) = 0;
  /// Every account, by created_at then id.
  virtual std::vector<AdminAccount> list_admins() = 0;
  /// Writes every mutable field of `account` (version + 1) only when the stored version is still
  /// account.version, with `audit` and, when given, a new session — one transaction. A disabled
  /// account loses its sessions; a new session removes the admin's sessions whose expires_at is
  /// at or before its created_at. False (nothing written) on a version mismatch or unknown id.
  virtual bool update_admin(const AdminAccount& account, const AuditEntry& audit,
                            const AdminSession* new_session) = 0;
  virtual std::optional<AdminSession> find_session(std::string_view token_sha256) = 0;
  virtual void touch_session(std::string_view token_sha256, UnixMillis last_seen_at) = 0;
  /// Removes the session; the audit entry is written only when there was one. True when removed.
  virtual bool delete_session(std::string_view token_sha256, const AuditEntry& audit) = 0;
};

struct AccountSettings {
  std::string public_url = "http://127.0.0.1:8080";  // base of the enrolment link
  PasswordCost password_cost{};
  std::int64_t enrolment_ttl_ms = 24LL * 3600 * 1000;
  std::int64_t session_idle_ms = 15LL * 60 * 1000;
  std::int64_t session_absolute_ms = 8LL * 3600 * 1000;
  std::string totp_issuer = "proofgate";
};

struct CreatedAdmin {
  AdminAccount account;
  std::string enrolment_link;  // shown once
};

struct EnrolmentSecret {
  std::string admin_id;
  std::string email;
  std::string secret_base32;
  std::string otpauth_uri;
  std::string algorithm;
};

struct SignedIn {
  AdminAccount account;
  std::string session_token;  // the cookie value, shown once
  std::string csrf_token;
  UnixMillis issued_at = 0;
  UnixMillis expires_at = 0;
};

/// A refused sign-in: either the one answer for every wrong email, password or code, or a lock.
struct SignInRefused {
  std::int64_t retry_after_seconds = 0;  // > 0: locked
};

struct CurrentAdmin {
  AdminAccount account;
  AdminSession session;
};

class AccountService {
 public:
  AccountService(AccountStore& store, AuditStore& audit, const Clock& clock,
                 const MasterKey& master_key, AccountSettings settings);

  /// A new invited account and its enrolment link (<public_url>/console/enrol#token=...), valid
  /// enrolment_ttl_ms. Audited "admin.created".
  Outcome<CreatedAdmin> create_admin(const Actor& actor, std::string_view email,
                                     std::string_view role);
  std::vector<AdminAccount> list_admins();
  /// `who`: an id or an email. Ends its sessions. Audited "admin.disabled".
  Outcome<AdminAccount> disable_admin(const Actor& actor, std::string_view who);

  /// Sets the password (>= 12 chars) and a new TOTP key for an invited account whose link is
  /// valid; may be repeated until confirmed (each call replaces the key).
  Outcome<EnrolmentSecret> start_enrolment(std::string_view token, std::string_view password,
                                           std::string_view algorithm);
  /// A code of the new key makes the account active and ends the link.
  Outcome<AdminAccount> confirm_enrolment(std::string_view token, std::string_view code);

  /// Every outcome audited ("admin.signed_in", "admin.sign_in_failed", "admin.locked").
  std::variant<SignedIn, SignInRefused> sign_in(std::string_view email, std::string_view password,
                                                std::string_view code,
                                                std::string_view source_address);
  /// The session's admin when the token names a live session of an active account.
  std::optional<CurrentAdmin> session(std::string_view token);
  /// True when a session ended. Audited "admin.signed_out".
  bool sign_out(std::string_view token);

  static constexpr std::int64_t kFailuresBeforeLock = 5;
  static constexpr std::int64_t kMaxLockMinutes = 60;

 private:
  AuditEntry entry(const Actor& actor, std::string_view action, std::string details) const;
  std::optional<AdminAccount> enrolling(std::string_view token);

  AccountStore& store_;
  AuditStore& audit_;
  const Clock& clock_;
  const MasterKey& master_key_;
  AccountSettings s_;
  std::string dummy_hash_;  // verified for unknown emails so they take as long
};

/// The actor of an admin account: its uuid and role.
Actor admin_actor(const AdminAccount& account);
/// Lowercase hex SHA-256 of a token.
std::string token_sha256(std::string_view token);

}  // namespace pg::core
