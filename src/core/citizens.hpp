// Citizens' accounts (docs/citizens.md): sign-in by phone with a one-time code, short-lived
// access tokens and rotating refresh tokens kept in families, links from verified proofs to an
// account, and the right to delete. The CitizenStore and CodeSender ports and CitizenService.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/audit.hpp"
#include "core/citizen_messages.hpp"
#include "core/oauth.hpp"
#include "core/outcome.hpp"
#include "core/ports.hpp"
#include "core/secrets.hpp"

namespace pg::core {

/// The audience of a citizen's access tokens: not accepted where a partner's token (whose
/// audience is the issuer) is, nor the other way round. Link tokens are opaque handles, no JWTs.
inline constexpr std::string_view kAccountAudience = "proofgate-account";

/// One account (the blueprint's users row). The phone number itself is never kept: only its
/// HMAC-SHA256 under a key derived from the master key (hex), so a number finds its account.
struct Citizen {
  std::string id;  // uuid
  std::string phone_mac;
  std::string language = "ne";  // "ne" | "en"
  UnixMillis created_at = 0;
};

/// The outstanding sign-in code of one phone (by its MAC): the code only as an HMAC (hex).
struct SignInCode {
  std::string phone_mac;
  std::string code_mac;  // empty: no code outstanding
  UnixMillis expires_at = 0;
  int wrong = 0;                // attempts at the phone's codes since its last sign-in or lock
                                // (a new code keeps the count: see issue_sign_in_code)
  UnixMillis locked_until = 0;  // after too many wrong codes; 0 = not locked
};

/// One refresh token (hash: hex SHA-256 of the token; 256 random bits, no slow hash needed).
/// A family is every token rotated from one sign-in.
struct RefreshToken {
  std::string hash;
  std::string family_id;
  std::string user_id;
  UnixMillis issued_at = 0;
  UnixMillis expires_at = 0;
  UnixMillis used_at = 0;     // 0 = not rotated yet
  UnixMillis revoked_at = 0;  // 0 = live
};

/// What presenting a refresh token found.
enum class RefreshOutcome {
  kRotated,  // it was live: now used, and the next token stored in its family
  kUnknown,  // no such token (or its account was deleted)
  kExpired,
  kRevoked,  // its family was revoked before
  kReused,   // it was used already: its whole family is revoked now
};

/// A link token as stored: an opaque random handle, kept only as its SHA-256 (hex), naming the
/// account, the request nonce it is bound to and its end; spent by the one verify that brings it.
struct AccountLink {
  std::string hash;
  std::string user_id;
  std::string nonce;
  UnixMillis expires_at = 0;
};

/// A proof linked to an account, as the account sees it: never inputs, nullifiers or signals.
struct LinkedProof {
  std::string proof_id;
  std::string partner;  // the partner's name
  std::string claim_type;
  std::string status;  // "verified"
  UnixMillis verified_at = 0;
};

/// The proofs of one partner an account deletion unlinks.
struct AffectedPartner {
  std::string client_id;
  std::vector<std::string> proof_ids;
  Mode mode = Mode::kLive;  // the partner client's (a test client cannot link proofs: always live)
};

/// Account storage (SqliteStore and PostgresStore fill it). Thread-safe; throws StoreError.
class CitizenStore {
 public:
  virtual ~CitizenStore() = default;
  virtual std::optional<Citizen> find_citizen(std::string_view id) = 0;
  virtual std::optional<Citizen> find_citizen_by_phone(std::string_view phone_mac) = 0;
  /// The account of `fresh.phone_mac`, made from `fresh` when there is none (one transaction;
  /// two sign-ins at once make one account).
  virtual Citizen find_or_create_citizen(const Citizen& fresh) = 0;
  /// False for an unknown account.
  virtual bool set_citizen_language(std::string_view id, std::string_view language) = 0;

  virtual std::optional<SignInCode> sign_in_code(std::string_view phone_mac) = 0;
  /// Writes (inserts or replaces) the phone's code state.
  virtual void save_sign_in_code(const SignInCode& code) = 0;
  /// Makes `code_mac` the phone's outstanding code until `expires_at`, in one conditional write:
  /// nothing is written (false) while the phone is locked at `now`, so a code cannot clear a lock
  /// set concurrently. The attempts counted carry over to the new code unless the phone's
  /// previous code expired before `forget_before`. In the same transaction, at most a bounded
  /// number of other phones' rows that expired before `forget_before` and are not locked are
  /// removed (they hold nothing that still counts).
  virtual bool issue_sign_in_code(std::string_view phone_mac, std::string_view code_mac,
                                  UnixMillis expires_at, UnixMillis now,
                                  UnixMillis forget_before) = 0;
  /// Takes one attempt at the phone's outstanding code, in one transaction: when a code is
  /// outstanding, unexpired at `now`, the phone not locked and fewer than `max_attempts` taken,
  /// counts it (`wrong` is then the attempts taken, this one included) and `taken` is true. The
  /// state as it is after, or nullopt when the phone has none. Concurrent guesses cannot take
  /// more than `max_attempts` between them.
  struct CodeAttempt {
    std::optional<SignInCode> state;
    bool taken = false;
  };
  virtual CodeAttempt take_code_attempt(std::string_view phone_mac, UnixMillis now,
                                        int max_attempts) = 0;
  /// Spends the outstanding code whose MAC is `code_mac` (code_mac cleared, attempts reset):
  /// true for the one caller that spent it, false when it was spent (or replaced) already.
  virtual bool spend_sign_in_code(std::string_view phone_mac, std::string_view code_mac) = 0;

  virtual void insert_refresh_token(const RefreshToken& token) = 0;
  /// In one transaction: the token `hash`; when live (not used, revoked or expired at `now`)
  /// marks it used and stores `next` in its family for its account (next.family_id and
  /// next.user_id are set from it); when used already, revokes every token of its family.
  /// next.user_id is set whenever the token is known (the refusal speaks the account's language).
  virtual RefreshOutcome rotate_refresh_token(std::string_view hash, UnixMillis now,
                                              RefreshToken& next) = 0;

  /// Stores a link token (and removes link tokens that expired before `now`).
  virtual void insert_account_link(const AccountLink& link, UnixMillis now) = 0;
  /// Spends the link token `hash` when it is bound to `nonce` and unexpired at `now`, in one
  /// statement: its account id for the one caller that spent it, nullopt otherwise.
  virtual std::optional<std::string> take_account_link(std::string_view hash,
                                                       std::string_view nonce, UnixMillis now) = 0;

  /// The account's verified proofs, newest first, at most `limit`, with their partner's name.
  virtual std::vector<LinkedProof> citizen_proofs(std::string_view user_id, std::size_t limit) = 0;

  /// The right to delete, in one transaction: the partners holding proofs of the account (those
  /// with a webhook URL) with their proof ids are given to `events`, whose events are enqueued;
  /// every proof's user_id is nulled; the refresh tokens, link tokens, the phone's sign-in code
  /// state and the account are removed; `audit` is written. False (nothing written) for an unknown
  /// account.
  virtual bool delete_citizen(
      std::string_view user_id, UnixMillis now,
      const std::function<std::vector<OutboxEvent>(const std::vector<AffectedPartner>&)>& events,
      const AuditEntry& audit) = 0;
};

/// Where sign-in codes go. The sandbox writes them to files; production plugs an SMS gateway.
class CodeSender {
 public:
  virtual ~CodeSender() = default;
  /// Delivers `text` to the E.164 number `phone`; throws on failure.
  virtual void send(std::string_view phone, std::string_view text) = 0;
};

struct CitizenSettings {
  std::int64_t access_ttl_s = 600;
  std::int64_t refresh_ttl_s = 30LL * 24 * 3600;
  std::int64_t link_ttl_s = 600;
  std::int64_t code_ttl_s = 300;
  int max_wrong_codes = 5;           // then the phone is locked out
  std::int64_t lock_out_s = 900;     // for this long
  double codes_per_window = 3;       // codes sent to one phone ...
  std::int64_t code_window_s = 600;  // ... per this window
  /// Wrong codes are counted per phone across its codes; the count is forgotten only once the
  /// phone's last code expired this long ago (or at a sign-in, or with a lock-out).
  std::int64_t wrong_window_s = 3600;
  double codes_per_address = 10;         // codes sent at the request of one address ...
  std::int64_t address_window_s = 3600;  // ... per this window
  /// False when no SMS gateway is configured outside the sandbox: sign-in answers NOT_READY.
  bool sender_ready = true;
  /// Called after a deletion enqueued events (wakes the webhook worker).
  std::function<void()> on_events = {};
};

struct CitizenTokens {
  std::string access_token;
  std::string refresh_token;
  std::int64_t expires_in = 0;
};

struct LinkToken {
  std::string token;
  std::int64_t expires_in = 0;
};

/// A signed-in account and the language its messages use.
struct CitizenSession {
  Citizen citizen;
  Language language = Language::kNe;
};

/// True for an E.164 number: '+', a first digit 1-9, 8 to 15 digits in all.
bool is_e164(std::string_view phone) noexcept;
/// Six decimal digits from the CSPRNG, without modulo bias.
std::string new_sign_in_code();

/// The account use cases behind /api/v1/account. Bodies are decoded here (INVALID_REQUEST naming
/// the field); every refusal's detail is in the account's language. Thread-safe.
class CitizenService {
 public:
  CitizenService(CitizenStore& store, OAuthService& tokens, Cache& cache, CodeSender& sender,
                 const Clock& clock, const MasterKey& master_key, CitizenSettings settings = {});

  /// POST /account/sign-in {"phone", "language"?}: sends a code; the code's lifetime in
  /// seconds. The same answer whether or not the number has an account.
  /// `address` (the requester's, as the throttle keys it) has its own limit on codes sent.
  Outcome<std::int64_t> start_sign_in(std::string_view body, std::string_view address = "");
  /// POST /account/sign-in/verify {"phone", "code", "language"?}: the account (made when new)
  /// and its first token pair. WRONG_CODE, CODE_EXPIRED; RATE_LIMITED while locked out.
  Outcome<CitizenTokens> finish_sign_in(std::string_view body);
  /// POST /account/token {"refresh_token", "language"?}: the next pair; a reused token revokes
  /// its family (UNAUTHORIZED).
  Outcome<CitizenTokens> refresh(std::string_view body);
  /// The account an `Authorization: Bearer` access token names, or UNAUTHORIZED.
  Outcome<CitizenSession> authenticate(std::string_view authorization);
  /// PATCH /account {"language"}.
  Outcome<Citizen> update(const CitizenSession& session, std::string_view body);
  std::vector<LinkedProof> proofs(const CitizenSession& session);
  /// POST /account/link-token {"nonce"}: an opaque handle ("pgl_" + 256 random bits) naming
  /// nothing; the account, nonce and expiry stay in the store.
  Outcome<LinkToken> link_token(const CitizenSession& session, std::string_view body);
  /// The account a verify body's `account_link` names, bound to the request `nonce`, spent by
  /// this call; INVALID_REQUEST (field account_link) otherwise.
  Outcome<std::string> resolve_link(std::string_view token, std::string_view nonce);
  /// DELETE /account: see CitizenStore::delete_citizen. Returns the partners told.
  Outcome<std::size_t> remove(const CitizenSession& session);

  /// HMAC-SHA256 (hex) of `text` under the accounts' key derived from the master key.
  std::string mac(std::string_view purpose, std::string_view text) const;

 private:
  Outcome<CitizenTokens> issue(const Citizen& citizen, const std::string& family_id);

  CitizenStore& store_;
  OAuthService& tokens_;
  Cache& cache_;
  CodeSender& sender_;
  const Clock& clock_;
  std::array<std::uint8_t, 32> key_{};
  CitizenSettings settings_;
};

}  // namespace pg::core
