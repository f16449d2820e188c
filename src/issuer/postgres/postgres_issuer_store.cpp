// The issuer node's PostgreSQL store: its statements as named constants, the session (lock, schema,
// migrations) and the row mapping, on src/store/postgres's connection helpers.
#include "issuer/postgres/postgres_issuer_store.hpp"

#include <boost/json.hpp>
#include <cstring>

#include "issuer/postgres/migrations.hpp"
#include "log/log.hpp"
#include "store/postgres/connection.hpp"

namespace pg::issuer {
namespace {

namespace sql = store::postgres;
using sql::Params;
using sql::Statement;

// --- The session ---

constexpr Statement kTryLock{
    "issuer_try_lock", "SELECT pg_try_advisory_lock($1::integer, $2::integer) AS locked", false};
constexpr Statement kBackendPid{"issuer_backend_pid", "SELECT pg_backend_pid()::bigint", false};
// The holder of this issuer's lock (pg_try_advisory_lock(int4, int4): classid, objid, objsubid 2).
constexpr Statement kLockHolder{"issuer_lock_holder", R"sql(
  SELECT pid::bigint FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND classid = $1::integer::oid
    AND objid = $2::integer::oid AND objsubid = 2)sql",
                                false};
constexpr Statement kTerminate{"issuer_terminate_own",
                               "SELECT pg_terminate_backend($1::integer, 5000) AS ended", false};
constexpr Statement kCreateMigrations{"issuer_create_migrations", R"sql(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  ))sql",
                                      false};
constexpr Statement kAppliedVersion{
    "issuer_applied_version", "SELECT coalesce(max(version), 0) AS version FROM schema_migrations",
    false};
constexpr Statement kRecordMigration{
    "issuer_record_migration", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
    false};
// The feed's last entry as (seq, root, entry); no row while the feed is empty.
constexpr Statement kLastSeq{"issuer_last_seq",
                             "SELECT seq, root, entry FROM feed ORDER BY seq DESC LIMIT 1", false};

// --- Leaves ---

// The three leaf reads name the columns leaf_from_row() reads, in its order.
constexpr Statement kLeafValues{"issuer_leaf_values",
                                "SELECT leaf_index, leaf FROM leaves ORDER BY leaf_index", true};
constexpr Statement kLeaf{
    "issuer_leaf",
    "SELECT leaf_index, leaf, kind, holder_commitment, code_mac, issued_at, revoked_at, credential "
    "FROM leaves WHERE leaf_index = $1",
    true};
constexpr Statement kFindCredential{
    "issuer_find_credential",
    "SELECT leaf_index, leaf, kind, holder_commitment, code_mac, issued_at, revoked_at, credential "
    "FROM leaves WHERE kind = 'credential' AND subject = $1 AND holder_commitment = $2",
    true};
constexpr Statement kListCredentials{
    "issuer_list_credentials",
    "SELECT leaf_index, leaf, kind, holder_commitment, code_mac, issued_at, revoked_at, credential "
    "FROM leaves WHERE kind = 'credential' AND leaf_index > $1 ORDER BY leaf_index LIMIT $2",
    true};
constexpr Statement kCounts{"issuer_counts",
                            "SELECT count(*) AS total, count(revoked_at) AS revoked FROM leaves "
                            "WHERE kind = 'credential'",
                            true};
constexpr Statement kInsertLeaf{"issuer_insert_leaf", R"sql(
  INSERT INTO leaves (leaf_index, leaf, kind, subject, holder_commitment, code_mac, issued_at,
                      credential)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8))sql",
                                true};
constexpr Statement kRevokeLeaf{
    "issuer_revoke_leaf",
    "UPDATE leaves SET leaf = '0', revoked_at = $2 WHERE leaf_index = $1 AND kind = 'credential' "
    "AND revoked_at IS NULL RETURNING 1",
    true};

// --- The feed ---

constexpr Statement kLastEntry{"issuer_last_entry",
                               "SELECT entry FROM feed ORDER BY seq DESC LIMIT 1", true};
constexpr Statement kEntriesSince{
    "issuer_entries_since", "SELECT entry FROM feed WHERE seq > $1 ORDER BY seq LIMIT $2", true};
constexpr Statement kRootPublished{"issuer_root_published", "SELECT 1 FROM feed WHERE root = $1",
                                   true};
constexpr Statement kInsertEntry{"issuer_insert_entry",
                                 "INSERT INTO feed (seq, entry, root) VALUES ($1, $2, $3)", true};
constexpr Statement kFeedEmpty{"issuer_feed_empty", "SELECT 1 FROM feed LIMIT 1", false};

// --- Audit and keys ---

constexpr Statement kInsertAudit{
    "issuer_insert_audit",
    "INSERT INTO audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)", true};
constexpr Statement kAuditTrail{
    "issuer_audit_trail",
    "SELECT at, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT $1", true};
constexpr Statement kAuditPage{"issuer_audit_page",
                               "SELECT id, at, actor, action, target, detail FROM audit "
                               "WHERE id < $1 ORDER BY id DESC LIMIT $2",
                               true};
constexpr Statement kKeys{"issuer_keys",
                          "SELECT key_id, public_key, created_at, retired_after FROM keys "
                          "ORDER BY created_at, position",
                          false};
constexpr Statement kInsertKey{
    "issuer_insert_key",
    "INSERT INTO keys (key_id, public_key, created_at, retired_after) VALUES ($1, $2, $3, $4)",
    false};
constexpr Statement kRetireKeys{
    "issuer_retire_keys", "UPDATE keys SET retired_after = $1 WHERE retired_after IS NULL", false};

std::int64_t as_int(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}

std::string_view mac_bytes(const Mac& mac) {
  return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}

StoredLeaf leaf_from_row(const sql::Result& r, int row) {
  StoredLeaf leaf;
  leaf.leaf_index = static_cast<std::uint64_t>(r.integer(row, 0));
  leaf.leaf = r.text(row, 1);
  leaf.padding = r.text(row, 2) == "padding";
  leaf.holder_commitment = r.text(row, 3);
  const std::string mac = r.bytes(row, 4);
  if (mac.size() == leaf.code_mac.size()) std::memcpy(leaf.code_mac.data(), mac.data(), mac.size());
  leaf.issued_at = r.integer(row, 5);
  leaf.revoked_at = r.integer(row, 6);
  leaf.credential = r.text(row, 7);
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

void insert_entry(sql::Connection& c, const feed::FeedEntry& entry, std::string_view operation) {
  c.run(kInsertEntry,
        Params()
            .integer(as_int(entry.seq))
            .text(boost::json::serialize(feed::to_json(entry)))
            .text(entry.root),
        operation);
}

void insert_audit(sql::Connection& c, const AuditRecord& a, std::string_view operation) {
  c.run(kInsertAudit,
        Params().integer(a.at).text(a.actor).text(a.action).text(a.target).text(a.detail),
        operation);
}

/// The schema's name: issuer_<issuer>, where <issuer> is lower-case letters only (so the name
/// needs no quoting and can never reach into another schema).
std::string schema_of(const std::string& issuer) {
  if (issuer.empty() || issuer.size() > 32 ||
      issuer.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos) {
    sql::fail("open", "the issuer name must be 1 to 32 lower-case letters");
  }
  return "issuer_" + issuer;
}

/// The rows of one change (its leaves, revocation, entry, key and audit record) on an open
/// transaction.
void write_change(sql::Connection& c, const TreeChange& change, std::string_view operation) {
  for (const NewLeaf& leaf : change.appended) {
    Params params;
    params.integer(as_int(leaf.leaf_index))
        .text(leaf.leaf)
        .text(leaf.padding ? "padding" : "credential");
    if (leaf.padding) {
      params.null().null().null();
    } else {
      params.bytes(mac_bytes(leaf.subject))
          .text(leaf.holder_commitment)
          .bytes(mac_bytes(leaf.code_mac));
    }
    params.integer(change.at);
    if (leaf.padding) {
      params.null();
    } else {
      params.text(leaf.credential);
    }
    c.run(kInsertLeaf, params, operation);
  }
  if (change.revoked) {
    const sql::Result r =
        c.run(kRevokeLeaf, Params().integer(as_int(*change.revoked)).integer(change.at), operation);
    if (r.rows() == 0) sql::fail(operation, "no active credential at that leaf index");
  }
  insert_entry(c, change.entry, operation);
  if (change.new_key) {
    c.run(kRetireKeys,
          Params().integer(change.entry.next_key ? change.entry.next_key->previous_valid_until
                                                 : change.at),
          operation);
    c.run(kInsertKey,
          Params()
              .text(change.new_key->key_id)
              .text(change.new_key->public_key)
              .integer(change.new_key->created_at)
              .null(),
          operation);
  }
  if (change.audit) insert_audit(c, *change.audit, operation);
}

}  // namespace

PostgresIssuerStore::FeedHead PostgresIssuerStore::last_of(sql::Connection& c,
                                                           std::string_view operation) {
  const sql::Result r = c.run(kLastSeq, Params(), operation);
  if (r.rows() == 0) return {};
  return {static_cast<std::uint64_t>(r.integer(0, 0)), r.text(0, 1),
          entry_from_text(r.text(0, 2), operation).signature};
}

PostgresIssuerStore::FeedHead PostgresIssuerStore::head_of(const feed::FeedEntry& entry) {
  return {entry.seq, entry.root, entry.signature};
}

std::string PostgresIssuerStore::describe(const FeedHead& head) const {
  return "seq " + std::to_string(head.seq) + " (root " + head.root + ")";
}

void PostgresIssuerStore::fail_until_restart(std::string_view operation, std::string message) {
  session_.reset();  // and with it the lock: a node that can go on may take it
  fatal_ = std::move(message);
  log::error("issuer store: stopped until the node is restarted",
             {{"issuer", settings_.issuer}, {"reason", fatal_}});
  sql::fail(operation, fatal_);
}

struct PostgresIssuerStore::Session {
  std::unique_ptr<sql::Connection> connection;
  std::int64_t backend_pid = 0;  // the server process holding this session's lock
};

PostgresIssuerStore::PostgresIssuerStore(PostgresIssuerSettings settings)
    : settings_(std::move(settings)), schema_(schema_of(settings_.issuer)) {
  std::lock_guard lock(mutex_);
  ++connect_attempts_;
  session_ = open_session();
  last_pid_ = session_->backend_pid;
  known_ = last_of(*session_->connection, "open");
}

PostgresIssuerStore::~PostgresIssuerStore() = default;

std::unique_ptr<PostgresIssuerStore::Session> PostgresIssuerStore::open_session(
    std::int64_t previous_pid) {
  const std::string operation = "open " + schema_;
  sql::ConnectionSettings connection_settings;
  connection_settings.url = settings_.url;
  connection_settings.connect_timeout = settings_.connect_timeout;
  connection_settings.statement_timeout = settings_.statement_timeout;
  auto session = std::make_unique<Session>();
  session->connection = sql::Connection::open(connection_settings, {});
  sql::Connection& c = *session->connection;
  // The server probes this session's socket after 10 s of silence and ends it after 3 unanswered
  // probes 5 s apart: a node that vanished (host down, network cut) frees its lock in ~25 s
  // instead of the kernel's two hours. Ignored on a Unix socket, where the kernel knows at once.
  c.execute(
      "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; "
      "SET tcp_keepalives_count = 3",
      operation);
  session->backend_pid = c.run(kBackendPid, Params(), operation).integer(0, 0);
  const auto try_lock = [&] {
    return c
        .run(kTryLock, Params().integer(kIssuerNodeLockClass).integer(settings_.issuer_id),
             operation)
        .boolean(0, 0);
  };
  // Session-level: held until this connection closes (the node stops or dies), so a second node
  // for the same issuer never appends beside this one. Try, never wait: it refuses to start.
  bool locked = try_lock();
  if (!locked && previous_pid != 0) {
    const sql::Result holder =
        c.run(kLockHolder, Params().integer(kIssuerNodeLockClass).integer(settings_.issuer_id),
              operation);
    if (holder.rows() == 1 && holder.integer(0, 0) == previous_pid) {
      log::warn("issuer store: ending this node's own lost session that still holds the lock",
                {{"issuer", settings_.issuer}, {"backend_pid", previous_pid}});
      c.run(kTerminate, Params().integer(previous_pid), operation);
      locked = try_lock();
    }
  }
  if (!locked) {
    sql::fail(operation, "another issuer node holds the lock of issuer " + settings_.issuer +
                             " on this database (pg_try_advisory_lock(" +
                             std::to_string(kIssuerNodeLockClass) + ", " +
                             std::to_string(settings_.issuer_id) +
                             ")); refusing to start a second one");
  }
  // Under the lock: no other process creates or migrates this schema meanwhile.
  c.execute("CREATE SCHEMA IF NOT EXISTS " + schema_ + "; SET search_path TO " + schema_,
            operation);
  c.run(kCreateMigrations, Params(), operation);
  const auto migrations = store::issuer_postgres_migrations();
  const std::int64_t applied = c.run(kAppliedVersion, Params(), operation).integer(0, 0);
  if (applied > migrations.back().version) {
    sql::fail(operation, "the schema is at version " + std::to_string(applied) +
                             ", newer than this binary's " +
                             std::to_string(migrations.back().version));
  }
  for (const store::Migration& migration : migrations) {
    if (migration.version <= applied) continue;
    const std::string step = operation + ": migration " + std::string(migration.name);
    sql::Transaction transaction(c, step);
    c.execute(migration.sql, step);
    c.run(kRecordMigration, Params().integer(migration.version).text(migration.name), step);
    transaction.commit();
  }
  return session;
}

std::unique_ptr<PostgresIssuerStore::Session> PostgresIssuerStore::reconnect(
    std::string_view operation) {
  using std::chrono::milliseconds;
  const auto now = std::chrono::steady_clock::now();
  if (unreachable_ && now < next_attempt_) {
    const auto wait = std::chrono::ceil<milliseconds>(next_attempt_ - now).count();
    sql::fail(operation, "issuer database unreachable; next attempt in " + std::to_string(wait) +
                             " ms (last error: " + last_error_ + ")");
  }
  ++connect_attempts_;
  try {
    std::unique_ptr<Session> fresh = open_session(last_pid_);
    last_pid_ = fresh->backend_pid;
    if (unreachable_) {
      log::info("issuer store: the database is reachable again",
                {{"issuer", settings_.issuer}, {"connect_attempts", connect_attempts_.load()}});
    }
    unreachable_ = false;
    delay_ = milliseconds(0);
    return fresh;
  } catch (const core::StoreError& e) {
    delay_ = delay_.count() == 0 ? settings_.reconnect_delay_min
                                 : std::min(delay_ * 2, settings_.reconnect_delay_max);
    next_attempt_ = std::chrono::steady_clock::now() + delay_;
    last_error_ = e.what();
    if (!unreachable_) {
      log::warn("issuer store: the database is unreachable; calls fail until a reconnect succeeds",
                {{"issuer", settings_.issuer}, {"error", last_error_}});
    }
    unreachable_ = true;
    throw;
  }
}

PostgresIssuerStore::Session& PostgresIssuerStore::session(std::string_view operation) {
  if (!fatal_.empty()) sql::fail(operation, fatal_);
  if (session_ && session_->connection->healthy()) return *session_;
  // The server closed the connection, and with it the lock: another node may have served the
  // issuer meanwhile. Take the lock again and go on only if the feed is where this node left it.
  session_.reset();
  std::unique_ptr<Session> fresh = reconnect(operation);
  const FeedHead head = last_of(*fresh->connection, operation);
  if (unresolved_) {
    // A write whose COMMIT answer was lost while the database was unreachable, reported to the
    // node as failed: not written is what the node believes; written, its tree lacks the entry.
    const FeedHead written = *unresolved_;
    unresolved_.reset();
    if (head == written) {
      fail_until_restart(operation, "the feed of issuer " + settings_.issuer + " holds " +
                                        describe(written) +
                                        ", a write reported as failed while the database was "
                                        "unreachable; restart the node");
    }
  }
  // The root and the signature too: a promoted replica may hold another entry under the same seq.
  if (head != known_) {
    fail_until_restart(operation, "the feed of issuer " + settings_.issuer + " moved from " +
                                      describe(known_) + " to " + describe(head) +
                                      " while this node was disconnected; restart the node");
  }
  session_ = std::move(fresh);
  return *session_;
}

template <typename Write>
bool PostgresIssuerStore::write_feed(std::string_view operation, const FeedHead& target,
                                     Write&& write) {
  CommitFaults* faults = settings_.faults.get();
  bool commit_sent = false;
  bool injected = false;
  try {
    sql::Connection& c = *session(operation).connection;
    sql::Transaction transaction(c, operation);
    if (!write(c)) return false;
    if (faults != nullptr && faults->drop_before_commit.exchange(false)) {
      injected = true;
      sql::fail(operation, "the connection was lost before COMMIT (injected fault)");
    }
    commit_sent = true;
    if (faults != nullptr && faults->lose_commit.exchange(false)) {
      injected = true;
      sql::fail(operation, "the connection was lost during COMMIT (injected fault)");
    }
    transaction.commit();
    if (faults != nullptr && faults->lose_commit_answer.exchange(false)) {
      injected = true;
      sql::fail(operation, "the connection was lost waiting for COMMIT's answer (injected fault)");
    }
  } catch (const core::StoreError&) {
    // A server that answered (a refused row, a failed COMMIT) leaves the connection idle: nothing
    // was written. A connection lost before COMMIT: the server rolls back.
    const bool lost = injected || (session_ && !session_->connection->idle());
    if (lost) session_.reset();
    if (injected && faults->while_disconnected) faults->while_disconnected();
    if (!lost || !commit_sent) throw;
    resolve_lost_commit(operation, target);
  }
  known_ = target;
  return true;
}

void PostgresIssuerStore::resolve_lost_commit(std::string_view operation, const FeedHead& target) {
  log::warn("issuer store: the answer of a COMMIT was lost; reading the feed to know its fate",
            {{"issuer", settings_.issuer}, {"seq", target.seq}});
  FeedHead head;
  try {
    std::unique_ptr<Session> fresh = reconnect(operation);
    head = last_of(*fresh->connection, operation);
    session_ = std::move(fresh);
  } catch (const core::StoreError& e) {
    session_.reset();
    unresolved_ = target;  // the next reconnect decides
    sql::fail(operation, "the answer of COMMIT was lost and the feed could not be read (" +
                             std::string(e.what()) + "); the change may have been written");
  }
  if (head == target) {
    log::info("issuer store: the COMMIT whose answer was lost had landed",
              {{"issuer", settings_.issuer}, {"seq", target.seq}});
    return;
  }
  if (head == known_) {
    sql::fail(operation,
              "the connection was lost during COMMIT and the change was not written; "
              "try again");
  }
  const bool lookalike = head.seq == target.seq && head.root == target.root;
  fail_until_restart(operation, "the feed of issuer " + settings_.issuer + " moved from " +
                                    describe(known_) + " to " + describe(head) +
                                    (lookalike ? ", another signer's entry," : "") +
                                    " while this node's COMMIT of " + describe(target) +
                                    " had its answer lost; restart the node");
}

std::vector<std::string> PostgresIssuerStore::leaf_values() {
  constexpr std::string_view kOperation = "read leaves";
  std::lock_guard lock(mutex_);
  const sql::Result r = session(kOperation).connection->run(kLeafValues, Params(), kOperation);
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    if (r.integer(row, 0) != static_cast<std::int64_t>(out.size())) {
      sql::fail(kOperation, "leaf " + std::to_string(out.size()) + " is missing");
    }
    out.push_back(r.text(row, 1));
  }
  return out;
}

std::optional<StoredLeaf> PostgresIssuerStore::leaf(std::uint64_t index) {
  constexpr std::string_view kOperation = "read leaf";
  std::lock_guard lock(mutex_);
  const sql::Result r =
      session(kOperation).connection->run(kLeaf, Params().integer(as_int(index)), kOperation);
  if (r.rows() == 0) return std::nullopt;
  return leaf_from_row(r, 0);
}

std::optional<StoredLeaf> PostgresIssuerStore::find_credential(const Mac& subject,
                                                               std::string_view holder_commitment) {
  constexpr std::string_view kOperation = "find credential";
  std::lock_guard lock(mutex_);
  const sql::Result r =
      session(kOperation)
          .connection->run(kFindCredential,
                           Params().bytes(mac_bytes(subject)).text(holder_commitment), kOperation);
  if (r.rows() == 0) return std::nullopt;
  return leaf_from_row(r, 0);
}

std::vector<StoredLeaf> PostgresIssuerStore::list_credentials(std::int64_t after,
                                                              std::size_t limit) {
  constexpr std::string_view kOperation = "list credentials";
  std::lock_guard lock(mutex_);
  const sql::Result r =
      session(kOperation)
          .connection->run(kListCredentials, Params().integer(after).integer(as_int(limit)),
                           kOperation);
  std::vector<StoredLeaf> out;
  for (int row = 0; row < r.rows(); ++row) out.push_back(leaf_from_row(r, row));
  return out;
}

std::pair<std::uint64_t, std::uint64_t> PostgresIssuerStore::credential_counts() {
  constexpr std::string_view kOperation = "count credentials";
  std::lock_guard lock(mutex_);
  const sql::Result r = session(kOperation).connection->run(kCounts, Params(), kOperation);
  return {static_cast<std::uint64_t>(r.integer(0, 0)), static_cast<std::uint64_t>(r.integer(0, 1))};
}

std::optional<feed::FeedEntry> PostgresIssuerStore::last_entry() {
  constexpr std::string_view kOperation = "read last feed entry";
  std::lock_guard lock(mutex_);
  const sql::Result r = session(kOperation).connection->run(kLastEntry, Params(), kOperation);
  if (r.rows() == 0) return std::nullopt;
  return entry_from_text(r.text(0, 0), kOperation);
}

std::vector<feed::FeedEntry> PostgresIssuerStore::entries_since(std::uint64_t since,
                                                                std::size_t limit) {
  constexpr std::string_view kOperation = "read feed";
  std::lock_guard lock(mutex_);
  const sql::Result r =
      session(kOperation)
          .connection->run(kEntriesSince, Params().integer(as_int(since)).integer(as_int(limit)),
                           kOperation);
  std::vector<feed::FeedEntry> out;
  for (int row = 0; row < r.rows(); ++row)
    out.push_back(entry_from_text(r.text(row, 0), kOperation));
  return out;
}

bool PostgresIssuerStore::root_published(std::string_view root) {
  constexpr std::string_view kOperation = "look up root";
  std::lock_guard lock(mutex_);
  return session(kOperation)
             .connection->run(kRootPublished, Params().text(root), kOperation)
             .rows() > 0;
}

bool PostgresIssuerStore::append_genesis(const feed::FeedEntry& entry) {
  constexpr std::string_view kOperation = "append genesis entry";
  std::lock_guard lock(mutex_);
  return write_feed(kOperation, head_of(entry), [&](sql::Connection& c) {
    if (c.run(kFeedEmpty, Params(), kOperation).rows() > 0) return false;
    insert_entry(c, entry, kOperation);
    return true;
  });
}

void PostgresIssuerStore::commit(const TreeChange& change) {
  constexpr std::string_view kOperation = "commit tree change";
  std::lock_guard lock(mutex_);
  write_feed(kOperation, head_of(change.entry), [&](sql::Connection& c) {
    write_change(c, change, kOperation);
    return true;
  });
}

void PostgresIssuerStore::record_audit(const AuditRecord& a) {
  constexpr std::string_view kOperation = "record audit";
  std::lock_guard lock(mutex_);
  insert_audit(*session(kOperation).connection, a, kOperation);
}

std::vector<AuditRecord> PostgresIssuerStore::audit_trail(std::size_t limit) {
  constexpr std::string_view kOperation = "read audit";
  std::lock_guard lock(mutex_);
  const sql::Result r =
      session(kOperation).connection->run(kAuditTrail, Params().integer(as_int(limit)), kOperation);
  std::vector<AuditRecord> out;
  for (int row = 0; row < r.rows(); ++row) {
    out.push_back(
        {r.integer(row, 0), r.text(row, 1), r.text(row, 2), r.text(row, 3), r.text(row, 4)});
  }
  return out;
}

std::vector<AuditRow> PostgresIssuerStore::audit_page(std::int64_t before, std::size_t limit) {
  constexpr std::string_view kOperation = "read audit page";
  std::lock_guard lock(mutex_);
  const sql::Result r =
      session(kOperation)
          .connection->run(kAuditPage, Params().integer(before).integer(as_int(limit)), kOperation);
  std::vector<AuditRow> out;
  for (int row = 0; row < r.rows(); ++row) {
    out.push_back(
        {r.integer(row, 0),
         {r.integer(row, 1), r.text(row, 2), r.text(row, 3), r.text(row, 4), r.text(row, 5)}});
  }
  return out;
}

std::vector<KeyRecord> PostgresIssuerStore::keys() {
  constexpr std::string_view kOperation = "read keys";
  std::lock_guard lock(mutex_);
  const sql::Result r = session(kOperation).connection->run(kKeys, Params(), kOperation);
  std::vector<KeyRecord> out;
  for (int row = 0; row < r.rows(); ++row) {
    out.push_back({r.text(row, 0), r.text(row, 1), r.integer(row, 2), r.integer(row, 3)});
  }
  return out;
}

void PostgresIssuerStore::insert_key(const KeyRecord& key) {
  constexpr std::string_view kOperation = "insert key";
  std::lock_guard lock(mutex_);
  session(kOperation)
      .connection->run(kInsertKey,
                       Params()
                           .text(key.key_id)
                           .text(key.public_key)
                           .integer(key.created_at)
                           .nullable_integer(key.retired_after),
                       kOperation);
}

}  // namespace pg::issuer
