// The issuer node's SQLite store: its schema (embedded as migrations), its queries and the row
// mapping, on the shared SQLite building blocks of store/sqlite/sqlite_db.hpp.
#include "issuer/sqlite_issuer_store.hpp"

#include <boost/json.hpp>
#include <cstring>

#include "store/migrations.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace pg::issuer {
namespace {

namespace sql = store::sqlite;

// The schema. A revoked leaf holds "0" (the tree's value); its credential JSON stays for the
// holder's retry answer. Record numbers exist only as their pepper-HMAC (subject).
constexpr store::Migration kMigrations[] = {{1, "0001_issuer.sql", R"sql(
CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
) STRICT;

CREATE TABLE leaves (
  leaf_index        INTEGER PRIMARY KEY CHECK (leaf_index >= 0),
  leaf              TEXT NOT NULL,
  kind              TEXT NOT NULL CHECK (kind IN ('credential', 'padding')),
  subject           BLOB CHECK (subject IS NULL OR length(subject) = 32),
  holder_commitment TEXT,
  code_mac          BLOB CHECK (code_mac IS NULL OR length(code_mac) = 32),
  issued_at         INTEGER NOT NULL,
  revoked_at        INTEGER,
  credential        TEXT,
  CHECK ((kind = 'credential') = (subject IS NOT NULL AND holder_commitment IS NOT NULL
                                  AND credential IS NOT NULL AND code_mac IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX leaves_subject_commitment ON leaves (subject, holder_commitment)
  WHERE kind = 'credential';

CREATE TABLE feed (
  seq   INTEGER PRIMARY KEY CHECK (seq >= 1),
  entry TEXT NOT NULL CHECK (json_valid(entry)),
  root  TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE audit (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  at     INTEGER NOT NULL,
  actor  TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
) STRICT;

CREATE TABLE keys (
  key_id        TEXT PRIMARY KEY NOT NULL,
  public_key    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  retired_after INTEGER
) STRICT;
)sql"}};

constexpr std::string_view kLeafColumns =
    "leaf_index, leaf, kind, holder_commitment, code_mac, issued_at, revoked_at, credential";

std::string select_leaves(std::string_view where) {
  return "SELECT " + std::string(kLeafColumns) + " FROM leaves " + std::string(where);
}

StoredLeaf leaf_from_row(const sql::Row& row) {
  StoredLeaf leaf;
  leaf.leaf_index = static_cast<std::uint64_t>(row.integer("leaf_index"));
  leaf.leaf = row.text("leaf");
  leaf.padding = row.text("kind") == "padding";
  leaf.holder_commitment = row.text("holder_commitment");
  const std::string mac = row.bytes("code_mac");
  if (mac.size() == leaf.code_mac.size()) std::memcpy(leaf.code_mac.data(), mac.data(), mac.size());
  leaf.issued_at = row.integer("issued_at");
  leaf.revoked_at = row.integer("revoked_at");
  leaf.credential = row.text("credential");
  return leaf;
}

feed::FeedEntry entry_from_text(const std::string& text, std::string_view operation) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec) sql::fail(operation, "a stored feed entry is not JSON");
  auto entry = feed::entry_from_json(value);
  if (!entry) sql::fail(operation, "a stored feed entry is malformed: " + entry.error());
  return std::move(entry).value();
}

}  // namespace

struct SqliteIssuerStore::Connection {
  sql::DatabaseHandle db;  // first: destroyed after every statement
  sql::StatementHandle begin, commit, rollback;
  sql::StatementHandle leaf_values, leaf, find_credential, list_credentials, counts;
  sql::StatementHandle insert_leaf, revoke_leaf;
  sql::StatementHandle last_entry, entries_since, root_published, insert_entry, feed_empty;
  sql::StatementHandle insert_audit, audit_trail, audit_page;
  sql::StatementHandle keys, insert_key, retire_keys;

  sql::Transaction transaction(std::string_view operation) {
    return sql::Transaction(db.get(), begin, commit, rollback, operation);
  }
};

SqliteIssuerStore::SqliteIssuerStore(const std::filesystem::path& file)
    : connection_(std::make_unique<Connection>()) {
  Connection& c = *connection_;
  const std::string operation = "open " + file.string();
  c.db = sql::open_database(file.string(), "FULL", 5000, operation);
  sqlite3* db = c.db.get();
  c.begin = sql::prepare(db, "BEGIN IMMEDIATE", operation);
  c.commit = sql::prepare(db, "COMMIT", operation);
  c.rollback = sql::prepare(db, "ROLLBACK", operation);
  sql::migrate(db, c.begin, c.commit, c.rollback, kMigrations, operation);

  c.leaf_values =
      sql::prepare(db, "SELECT leaf_index, leaf FROM leaves ORDER BY leaf_index", operation);
  c.leaf = sql::prepare(db, select_leaves("WHERE leaf_index = ?1"), operation);
  c.find_credential = sql::prepare(
      db, select_leaves("WHERE kind = 'credential' AND subject = ?1 AND holder_commitment = ?2"),
      operation);
  c.list_credentials = sql::prepare(
      db,
      select_leaves("WHERE kind = 'credential' AND leaf_index > ?1 ORDER BY leaf_index LIMIT ?2"),
      operation);
  c.counts = sql::prepare(db,
                          "SELECT count(*) AS total, count(revoked_at) AS revoked FROM leaves "
                          "WHERE kind = 'credential'",
                          operation);
  c.insert_leaf = sql::prepare(db, R"sql(
    INSERT INTO leaves (leaf_index, leaf, kind, subject, holder_commitment, code_mac, issued_at,
                        credential)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql",
                               operation);
  c.revoke_leaf = sql::prepare(
      db,
      "UPDATE leaves SET leaf = '0', revoked_at = ?2 WHERE leaf_index = ?1 AND kind = 'credential' "
      "AND revoked_at IS NULL RETURNING 1",
      operation);
  c.last_entry = sql::prepare(db, "SELECT entry FROM feed ORDER BY seq DESC LIMIT 1", operation);
  c.entries_since =
      sql::prepare(db, "SELECT entry FROM feed WHERE seq > ?1 ORDER BY seq LIMIT ?2", operation);
  c.root_published = sql::prepare(db, "SELECT 1 FROM feed WHERE root = ?1", operation);
  c.insert_entry =
      sql::prepare(db, "INSERT INTO feed (seq, entry, root) VALUES (?1, ?2, ?3)", operation);
  c.feed_empty = sql::prepare(db, "SELECT 1 FROM feed LIMIT 1", operation);
  c.insert_audit = sql::prepare(
      db, "INSERT INTO audit (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
      operation);
  c.audit_trail = sql::prepare(
      db, "SELECT at, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT ?1",
      operation);
  c.audit_page = sql::prepare(db,
                              "SELECT id, at, actor, action, target, detail FROM audit "
                              "WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
                              operation);
  c.keys = sql::prepare(
      db,
      "SELECT key_id, public_key, created_at, retired_after FROM keys ORDER BY created_at, rowid",
      operation);
  c.insert_key = sql::prepare(
      db,
      "INSERT INTO keys (key_id, public_key, created_at, retired_after) VALUES (?1, ?2, ?3, ?4)",
      operation);
  c.retire_keys =
      sql::prepare(db, "UPDATE keys SET retired_after = ?1 WHERE retired_after IS NULL", operation);
}

SqliteIssuerStore::~SqliteIssuerStore() = default;

std::vector<std::string> SqliteIssuerStore::leaf_values() {
  constexpr std::string_view kOperation = "read leaves";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  std::vector<std::string> out;
  sql::Query query(c.db.get(), c.leaf_values, kOperation);
  while (query.step()) {
    const sql::Row row(query);
    if (row.integer("leaf_index") != static_cast<std::int64_t>(out.size())) {
      sql::fail(kOperation, "leaf " + std::to_string(out.size()) + " is missing");
    }
    out.push_back(row.text("leaf"));
  }
  return out;
}

std::optional<StoredLeaf> SqliteIssuerStore::leaf(std::uint64_t index) {
  constexpr std::string_view kOperation = "read leaf";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  sql::Query query(c.db.get(), c.leaf, kOperation);
  query.integer(1, static_cast<std::int64_t>(index));
  if (!query.step()) return std::nullopt;
  return leaf_from_row(sql::Row(query));
}

std::optional<StoredLeaf> SqliteIssuerStore::find_credential(const Mac& subject,
                                                             std::string_view holder_commitment) {
  constexpr std::string_view kOperation = "find credential";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  sql::Query query(c.db.get(), c.find_credential, kOperation);
  query.blob(1, subject.data(), subject.size()).text(2, holder_commitment);
  if (!query.step()) return std::nullopt;
  return leaf_from_row(sql::Row(query));
}

std::vector<StoredLeaf> SqliteIssuerStore::list_credentials(std::int64_t after, std::size_t limit) {
  constexpr std::string_view kOperation = "list credentials";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  std::vector<StoredLeaf> out;
  sql::Query query(c.db.get(), c.list_credentials, kOperation);
  query.integer(1, after).integer(2, static_cast<std::int64_t>(limit));
  while (query.step()) out.push_back(leaf_from_row(sql::Row(query)));
  return out;
}

std::pair<std::uint64_t, std::uint64_t> SqliteIssuerStore::credential_counts() {
  constexpr std::string_view kOperation = "count credentials";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  sql::Query query(c.db.get(), c.counts, kOperation);
  query.step();
  const sql::Row row(query);
  return {static_cast<std::uint64_t>(row.integer("total")),
          static_cast<std::uint64_t>(row.integer("revoked"))};
}

std::optional<feed::FeedEntry> SqliteIssuerStore::last_entry() {
  constexpr std::string_view kOperation = "read last feed entry";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  sql::Query query(c.db.get(), c.last_entry, kOperation);
  if (!query.step()) return std::nullopt;
  return entry_from_text(query.column_text(0), kOperation);
}

std::vector<feed::FeedEntry> SqliteIssuerStore::entries_since(std::uint64_t since,
                                                              std::size_t limit) {
  constexpr std::string_view kOperation = "read feed";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  std::vector<feed::FeedEntry> out;
  sql::Query query(c.db.get(), c.entries_since, kOperation);
  query.integer(1, static_cast<std::int64_t>(since)).integer(2, static_cast<std::int64_t>(limit));
  while (query.step()) out.push_back(entry_from_text(query.column_text(0), kOperation));
  return out;
}

bool SqliteIssuerStore::root_published(std::string_view root) {
  constexpr std::string_view kOperation = "look up root";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  return sql::Query(c.db.get(), c.root_published, kOperation).text(1, root).step();
}

bool SqliteIssuerStore::append_genesis(const feed::FeedEntry& entry) {
  constexpr std::string_view kOperation = "append genesis entry";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  auto transaction = c.transaction(kOperation);
  if (sql::Query(c.db.get(), c.feed_empty, kOperation).step()) return false;
  const std::string text = boost::json::serialize(feed::to_json(entry));
  sql::Query(c.db.get(), c.insert_entry, kOperation)
      .integer(1, static_cast<std::int64_t>(entry.seq))
      .text(2, text)
      .text(3, entry.root)
      .run();
  transaction.commit();
  return true;
}

void SqliteIssuerStore::commit(const TreeChange& change) {
  constexpr std::string_view kOperation = "commit tree change";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  sqlite3* db = c.db.get();
  auto transaction = c.transaction(kOperation);
  for (const NewLeaf& leaf : change.appended) {
    sql::Query query(db, c.insert_leaf, kOperation);
    query.integer(1, static_cast<std::int64_t>(leaf.leaf_index))
        .text(2, leaf.leaf)
        .text(3, leaf.padding ? "padding" : "credential")
        .integer(7, change.at);
    if (leaf.padding) {
      query.null(4).null(5).null(6).null(8);
    } else {
      query.blob(4, leaf.subject.data(), leaf.subject.size())
          .text(5, leaf.holder_commitment)
          .blob(6, leaf.code_mac.data(), leaf.code_mac.size())
          .text(8, leaf.credential);
    }
    query.run();
  }
  if (change.revoked) {
    sql::Query query(db, c.revoke_leaf, kOperation);
    query.integer(1, static_cast<std::int64_t>(*change.revoked)).integer(2, change.at);
    if (!query.step()) sql::fail(kOperation, "no active credential at that leaf index");
  }
  const std::string text = boost::json::serialize(feed::to_json(change.entry));
  sql::Query(db, c.insert_entry, kOperation)
      .integer(1, static_cast<std::int64_t>(change.entry.seq))
      .text(2, text)
      .text(3, change.entry.root)
      .run();
  if (change.new_key) {
    sql::Query(db, c.retire_keys, kOperation)
        .integer(1, change.entry.next_key ? change.entry.next_key->previous_valid_until : change.at)
        .run();
    sql::Query(db, c.insert_key, kOperation)
        .text(1, change.new_key->key_id)
        .text(2, change.new_key->public_key)
        .integer(3, change.new_key->created_at)
        .null(4)
        .run();
  }
  if (change.audit) {
    const AuditRecord& a = *change.audit;
    sql::Query(db, c.insert_audit, kOperation)
        .integer(1, a.at)
        .text(2, a.actor)
        .text(3, a.action)
        .text(4, a.target)
        .text(5, a.detail)
        .run();
  }
  transaction.commit();
}

void SqliteIssuerStore::record_audit(const AuditRecord& a) {
  constexpr std::string_view kOperation = "record audit";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  sql::Query(c.db.get(), c.insert_audit, kOperation)
      .integer(1, a.at)
      .text(2, a.actor)
      .text(3, a.action)
      .text(4, a.target)
      .text(5, a.detail)
      .run();
}

std::vector<AuditRecord> SqliteIssuerStore::audit_trail(std::size_t limit) {
  constexpr std::string_view kOperation = "read audit";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  std::vector<AuditRecord> out;
  sql::Query query(c.db.get(), c.audit_trail, kOperation);
  query.integer(1, static_cast<std::int64_t>(limit));
  while (query.step()) {
    const sql::Row row(query);
    out.push_back({row.integer("at"), row.text("actor"), row.text("action"), row.text("target"),
                   row.text("detail")});
  }
  return out;
}

std::vector<AuditRow> SqliteIssuerStore::audit_page(std::int64_t before, std::size_t limit) {
  constexpr std::string_view kOperation = "read audit page";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  std::vector<AuditRow> out;
  sql::Query query(c.db.get(), c.audit_page, kOperation);
  query.integer(1, before);
  query.integer(2, static_cast<std::int64_t>(limit));
  while (query.step()) {
    const sql::Row row(query);
    out.push_back({row.integer("id"),
                   {row.integer("at"), row.text("actor"), row.text("action"), row.text("target"),
                    row.text("detail")}});
  }
  return out;
}

std::vector<KeyRecord> SqliteIssuerStore::keys() {
  constexpr std::string_view kOperation = "read keys";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  std::vector<KeyRecord> out;
  sql::Query query(c.db.get(), c.keys, kOperation);
  while (query.step()) {
    const sql::Row row(query);
    out.push_back({row.text("key_id"), row.text("public_key"), row.integer("created_at"),
                   row.integer("retired_after")});
  }
  return out;
}

void SqliteIssuerStore::insert_key(const KeyRecord& key) {
  constexpr std::string_view kOperation = "insert key";
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  sql::Query(c.db.get(), c.insert_key, kOperation)
      .text(1, key.key_id)
      .text(2, key.public_key)
      .integer(3, key.created_at)
      .nullable_integer(4, key.retired_after)
      .run();
}

}  // namespace pg::issuer
