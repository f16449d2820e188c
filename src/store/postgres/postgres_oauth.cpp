// core::OAuthStore on PostgresStore: client secrets and token signing keys (migration 0011).
#include "store/postgres/connection.hpp"
#include "store/postgres/postgres_store.hpp"

namespace pg::store {

namespace {
using postgres::Connection;
using postgres::Params;
using postgres::Result;
using postgres::Statement;

constexpr Statement kSecretHash{
    "oauth_secret_hash", "SELECT secret_hash FROM client_secrets WHERE client_id = $1", true};
constexpr Statement kClientExists{"oauth_client_exists",
                                  "SELECT 1 FROM api_clients WHERE id = $1 FOR UPDATE", true};
constexpr Statement kSetSecret{"oauth_set_secret", R"sql(
  INSERT INTO client_secrets (client_id, secret_hash, updated_at) VALUES ($1, $2, $3)
  ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash,
    updated_at = excluded.updated_at)sql",
                               true};
constexpr Statement kTokenKeys{"oauth_token_keys", R"sql(
  SELECT kid, public_key, private_sealed, created_at, retired_at FROM token_keys
  ORDER BY created_at, kid)sql",
                               true};
// Serializes key changes: a first key made by two instances at once, or a rotation racing one.
constexpr Statement kLockKeys{"oauth_lock_keys", "LOCK TABLE token_keys IN EXCLUSIVE MODE", false};
constexpr Statement kHasCurrentKey{"oauth_has_current_key",
                                   "SELECT 1 FROM token_keys WHERE retired_at IS NULL", true};
constexpr Statement kRetireKeys{
    "oauth_retire_keys", "UPDATE token_keys SET retired_at = $1 WHERE retired_at IS NULL", true};
constexpr Statement kInsertKey{"oauth_insert_key", R"sql(
  INSERT INTO token_keys (kid, public_key, private_sealed, created_at) VALUES ($1, $2, $3, $4))sql",
                               true};
}  // namespace

std::optional<std::array<std::uint8_t, 32>> PostgresStore::client_secret_hash(
    std::string_view client_id) {
  constexpr std::string_view kOperation = "client_secret_hash";
  std::optional<std::array<std::uint8_t, 32>> out;
  on_connection(kOperation, nullptr, [&](Connection& c) {
    const Result r = c.run(kSecretHash, Params().text(client_id), kOperation);
    if (r.rows() == 0) return true;
    const std::string hash = r.bytes(0, 0);
    if (hash.size() != 32) return true;
    out.emplace();
    std::copy(hash.begin(), hash.end(), out->begin());
    return true;
  });
  return out;
}

bool PostgresStore::set_client_secret(std::string_view client_id,
                                      const std::array<std::uint8_t, 32>& secret_hash,
                                      core::UnixMillis now, const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "set_client_secret";
  return on_connection(kOperation, &audit, [&](Connection& c) {
    if (c.run(kClientExists, Params().text(client_id), kOperation).rows() == 0) return false;
    const std::string hash(reinterpret_cast<const char*>(secret_hash.data()), secret_hash.size());
    c.run(kSetSecret, Params().text(client_id).bytes(hash).integer(now), kOperation);
    return true;
  });
}

std::vector<core::TokenKey> PostgresStore::token_keys() {
  constexpr std::string_view kOperation = "token_keys";
  std::vector<core::TokenKey> keys;
  on_connection(kOperation, nullptr, [&](Connection& c) {
    const Result r = c.run(kTokenKeys, Params(), kOperation);
    for (int i = 0; i < r.rows(); ++i) {
      keys.push_back({r.text(i, 0), r.bytes(i, 1), r.bytes(i, 2), r.integer(i, 3),
                      r.is_null(i, 4) ? 0 : r.integer(i, 4)});
    }
    return true;
  });
  return keys;
}

bool PostgresStore::add_token_key(const core::TokenKey& key, bool only_if_none,
                                  const core::AuditEntry* audit) {
  constexpr std::string_view kOperation = "add_token_key";
  return with_connection(kOperation, true, [&](Connection& c, const SideWrites& side) {
    c.run(kLockKeys, Params(), kOperation);
    if (only_if_none && c.run(kHasCurrentKey, Params(), kOperation).rows() > 0) return false;
    c.run(kRetireKeys, Params().integer(key.created_at), kOperation);
    c.run(kInsertKey,
          Params()
              .text(key.kid)
              .bytes(key.public_key)
              .bytes(key.private_sealed)
              .integer(key.created_at),
          kOperation);
    if (audit) side.audit(*audit);
    return true;
  });
}

}  // namespace pg::store
