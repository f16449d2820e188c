// core::OAuthStore on SqliteStore: client secrets and token signing keys (migration 0012).
// Statements are compiled per call: token issuance reads the key ring from a cache.
#include <sqlite3.h>

#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::store {

namespace {
using sqlite::prepare;
using sqlite::Query;
using sqlite::Row;

constexpr std::string_view kSecretHash =
    "SELECT secret_hash FROM client_secrets WHERE client_id = ?1";
constexpr std::string_view kClientExists = "SELECT 1 FROM api_clients WHERE id = ?1";
constexpr std::string_view kSetSecret = R"sql(
  INSERT INTO client_secrets (client_id, secret_hash, updated_at) VALUES (?1, ?2, ?3)
  ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash,
    updated_at = excluded.updated_at)sql";
constexpr std::string_view kTokenKeys = R"sql(
  SELECT kid, public_key, private_sealed, created_at, retired_at FROM token_keys
  ORDER BY created_at, kid)sql";
constexpr std::string_view kHasCurrentKey = "SELECT 1 FROM token_keys WHERE retired_at IS NULL";
constexpr std::string_view kRetireKeys =
    "UPDATE token_keys SET retired_at = ?1 WHERE retired_at IS NULL";
constexpr std::string_view kInsertKey = R"sql(
  INSERT INTO token_keys (kid, public_key, private_sealed, created_at) VALUES (?1, ?2, ?3, ?4))sql";
}  // namespace

std::optional<std::array<std::uint8_t, 32>> SqliteStore::client_secret_hash(
    std::string_view client_id) {
  constexpr std::string_view kOperation = "client_secret_hash";
  std::optional<std::array<std::uint8_t, 32>> out;
  on_connection(kOperation, nullptr, [&](sqlite3* db) {
    const auto statement = prepare(db, kSecretHash, kOperation, false);
    Query query(db, statement, kOperation);
    query.text(1, client_id);
    if (!query.step()) return true;
    const std::string hash = Row(query).bytes("secret_hash");
    if (hash.size() != 32) return true;
    out.emplace();
    std::copy(hash.begin(), hash.end(), out->begin());
    return true;
  });
  return out;
}

bool SqliteStore::set_client_secret(std::string_view client_id,
                                    const std::array<std::uint8_t, 32>& secret_hash,
                                    core::UnixMillis now, const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "set_client_secret";
  return on_connection(kOperation, &audit, [&](sqlite3* db) {
    {
      const auto statement = prepare(db, kClientExists, kOperation, false);
      Query known(db, statement, kOperation);
      if (!known.text(1, client_id).step()) return false;
    }
    const auto statement = prepare(db, kSetSecret, kOperation, false);
    Query(db, statement, kOperation)
        .text(1, client_id)
        .blob(2, secret_hash.data(), secret_hash.size())
        .integer(3, now)
        .run();
    return true;
  });
}

std::vector<core::TokenKey> SqliteStore::token_keys() {
  constexpr std::string_view kOperation = "token_keys";
  std::vector<core::TokenKey> keys;
  on_connection(kOperation, nullptr, [&](sqlite3* db) {
    const auto statement = prepare(db, kTokenKeys, kOperation, false);
    Query query(db, statement, kOperation);
    while (query.step()) {
      const Row r(query);
      keys.push_back({r.text("kid"), r.bytes("public_key"), r.bytes("private_sealed"),
                      r.integer("created_at"),
                      r.is_null("retired_at") ? 0 : r.integer("retired_at")});
    }
    return true;
  });
  return keys;
}

bool SqliteStore::add_token_key(const core::TokenKey& key, bool only_if_none,
                                const core::AuditEntry* audit) {
  constexpr std::string_view kOperation = "add_token_key";
  return with_connection(kOperation, true, [&](sqlite3* db, const SideWrites& side) {
    if (only_if_none) {
      const auto statement = prepare(db, kHasCurrentKey, kOperation, false);
      if (Query(db, statement, kOperation).step()) return false;
    }
    {
      const auto statement = prepare(db, kRetireKeys, kOperation, false);
      Query(db, statement, kOperation).integer(1, key.created_at).run();
    }
    const auto statement = prepare(db, kInsertKey, kOperation, false);
    Query(db, statement, kOperation)
        .text(1, key.kid)
        .blob(2, key.public_key.data(), key.public_key.size())
        .blob(3, key.private_sealed.data(), key.private_sealed.size())
        .integer(4, key.created_at)
        .run();
    if (audit) side.audit(*audit);
    return true;
  });
}

}  // namespace pg::store
