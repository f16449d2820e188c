// The issuer node's service: enrolment, the tree and its signed feed, revocation, key rotation.
#include "issuer/node.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/secrets.hpp"
#include "crypto/poseidon.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "crypto/uint256.hpp"
#include "issuer/sqlite_issuer_store.hpp"
#include "log/log.hpp"

namespace pg::issuer {
namespace {

namespace fs = std::filesystem;
using crypto::Fr;

constexpr std::size_t kPepperBytes = 32;
constexpr std::chrono::milliseconds kMaxWait{30000};

std::string decimal(const Fr& value) {
  return crypto::snarkjs::to_decimal(value.to_canonical());
}

/// A canonical decimal below r, or nullopt.
std::optional<Fr> parse_fr(std::string_view text) {
  crypto::Limbs limbs{};
  if (!crypto::limbs_from_decimal(text, limbs)) return std::nullopt;
  return Fr::from_canonical_checked(limbs);
}

/// A random element nobody knows a preimage of: 253 random bits are always below r.
Fr random_padding() {
  const std::string bytes = core::random_bytes(32);
  crypto::Limbs limbs{};
  std::memcpy(limbs.data(), bytes.data(), 32);
  limbs[3] &= (std::uint64_t{1} << 61) - 1;
  return Fr::from_canonical(limbs);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// `s` is digit groups of the given lengths joined by '-'.
bool dashed_digits(std::string_view s, std::initializer_list<std::size_t> groups) {
  std::size_t pos = 0, i = 0;
  for (const std::size_t n : groups) {
    if (i++ > 0) {
      if (pos >= s.size() || s[pos] != '-') return false;
      ++pos;
    }
    if (pos + n > s.size() || !all_digits(s.substr(pos, n))) return false;
    pos += n;
  }
  return pos == s.size();
}

/// Writes `bytes` to `file` with mode 0600 by a temporary file and a rename; throws on failure.
void write_private_file(const fs::path& file, std::string_view bytes) {
  const fs::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot create " + tmp.string() + ": " + std::strerror(errno));
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + tmp.string());
  fs::rename(tmp, file);
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The database file exists with mode 0600 before SQLite opens it (SQLite gives its WAL and shm
/// files the database's mode).
void create_private(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot create " + file.string() + ": " + std::strerror(errno));
  ::close(fd);
}

std::string record_kind_name(const AuthorityRecord& record) {
  return std::visit(
      [](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, MohaRecord>) {
          return "moha";
        } else if constexpr (std::is_same_v<T, TuRecord>) {
          return "tu";
        } else {
          return "nrb";
        }
      },
      record);
}

std::string record_number(const AuthorityRecord& record) {
  return std::visit(
      [](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, MohaRecord>) {
          return r.certificate_no;
        } else if constexpr (std::is_same_v<T, TuRecord>) {
          return r.registration_no;
        } else {
          return r.pan;
        }
      },
      record);
}

boost::json::array decimals(const std::vector<Fr>& values) {
  boost::json::array out;
  for (const Fr& v : values) out.emplace_back(decimal(v));
  return out;
}

}  // namespace

std::string_view error_code_name(NodeErrorCode code) noexcept {
  switch (code) {
    case NodeErrorCode::kInvalidRequest:
      return "INVALID_REQUEST";
    case NodeErrorCode::kUnknownRecord:
      return "UNKNOWN_RECORD";
    case NodeErrorCode::kWrongCode:
      return "WRONG_CODE";
    case NodeErrorCode::kCodeExpired:
      return "CODE_EXPIRED";
    case NodeErrorCode::kLockedOut:
      return "LOCKED_OUT";
    case NodeErrorCode::kRateLimited:
      return "RATE_LIMITED";
    case NodeErrorCode::kAuthorityUnavailable:
      return "AUTHORITY_UNAVAILABLE";
    case NodeErrorCode::kAuthorityBadAnswer:
      return "AUTHORITY_BAD_ANSWER";
    case NodeErrorCode::kRevoked:
      return "REVOKED";
    case NodeErrorCode::kNotFound:
      return "NOT_FOUND";
    case NodeErrorCode::kUnauthorized:
      return "UNAUTHORIZED";
    case NodeErrorCode::kInternal:
      return "INTERNAL";
  }
  return "INTERNAL";
}

std::uint32_t issuer_id_of(AuthorityKind kind) noexcept {
  switch (kind) {
    case AuthorityKind::kMoha:
      return 1;
    case AuthorityKind::kTu:
      return 2;
    case AuthorityKind::kNrb:
      return 3;
  }
  return 0;
}

bool record_shape_ok(AuthorityKind kind, std::string_view record) noexcept {
  switch (kind) {
    case AuthorityKind::kMoha:  // citizenship certificate DD-DD-DD-DDDDD
      return dashed_digits(record, {2, 2, 2, 5});
    case AuthorityKind::kTu:  // registration D-D-DD-DDDD-YYYY
      return dashed_digits(record, {1, 1, 2, 4, 4});
    case AuthorityKind::kNrb:  // PAN, nine digits
      return record.size() == 9 && all_digits(record);
  }
  return false;
}

std::string offer_link(std::string_view issuer_url, std::string_view record) {
  const auto encode = [](std::string& out, std::string_view text) {
    constexpr std::string_view kHex = "0123456789ABCDEF";
    for (const char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
        out.push_back(ch);
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
      }
    }
  };
  std::string link = "proofgate-wallet://enroll?issuer=";
  encode(link, issuer_url);
  link += "&record=";
  encode(link, record);
  return link;
}

unsigned RateLimiter::take(const std::string& key, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  const double rate = capacity_ / static_cast<double>(period_ms_);  // tokens per ms
  const auto refilled = [&](const Bucket& b) {
    return std::min(
        capacity_,
        b.tokens + static_cast<double>(std::max<std::int64_t>(0, now_ms - b.updated)) * rate);
  };
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      // Full buckets carry no state worth keeping. When too few are full, the eighth of the
      // buckets holding the most tokens goes: a burst of distinct keys never frees the buckets
      // that are actually holding someone back (clearing the map would hand a record under a
      // code-guessing attack fresh attempts).
      std::erase_if(buckets_, [&](const auto& kv) { return refilled(kv.second) >= capacity_; });
      if (buckets_.size() >= max_keys_) {
        std::vector<std::pair<double, std::string>> by_tokens;
        by_tokens.reserve(buckets_.size());
        for (const auto& [k, b] : buckets_) by_tokens.emplace_back(refilled(b), k);
        const std::size_t drop = std::max<std::size_t>(1, by_tokens.size() / 8);
        std::nth_element(by_tokens.begin(),
                         by_tokens.begin() + static_cast<std::ptrdiff_t>(drop - 1), by_tokens.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        for (std::size_t i = 0; i < drop; ++i) buckets_.erase(by_tokens[i].second);
      }
    }
    it = buckets_.emplace(key, Bucket{capacity_, now_ms}).first;
  }
  Bucket& b = it->second;
  b.tokens = refilled(b);  // a clock stepping back adds nothing
  b.updated = std::max(b.updated, now_ms);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return static_cast<unsigned>(std::ceil((1.0 - b.tokens) / rate / 1000.0));
}

IssuerNode::IssuerNode(NodeSettings settings, NodeDeps deps)
    : settings_(std::move(settings)),
      deps_(std::move(deps)),
      issuer_id_(issuer_id_of(settings_.kind)),
      per_address_(settings_.limits.requests_per_address, settings_.limits.address_period_ms),
      starts_per_record_(settings_.limits.starts_per_record, settings_.limits.record_period_ms),
      completions_per_record_(settings_.limits.completions_per_record,
                              settings_.limits.record_period_ms) {
  if (deps_.authority == nullptr || !deps_.convert || !deps_.today) {
    throw std::invalid_argument("issuer node: authority, convert and today are required");
  }
  if (!deps_.now) deps_.now = core_now_ms;
  const fs::path& dir = settings_.data_dir;
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);

  // <data-dir>/chain is written once the store holds a chain: the pepper's digest. A data
  // directory that has one never starts a second chain with its key (an empty store: another
  // database, a lost file) nor a new pepper (credentials of the old one would be issued twice).
  const fs::path chain_file = dir / "chain";
  const bool had_chain = fs::exists(chain_file);
  const fs::path pepper_file = dir / "pepper";
  if (!fs::exists(pepper_file)) {
    if (had_chain) {
      throw std::runtime_error(pepper_file.string() +
                               " is missing but this data directory already has a chain; "
                               "restore the pepper from the backup, refusing to make a new one");
    }
    write_private_file(pepper_file, core::random_bytes(kPepperBytes));
  }
  pepper_ = read_file(pepper_file);
  if (pepper_.size() != kPepperBytes) {
    throw std::runtime_error(pepper_file.string() + " does not hold " +
                             std::to_string(kPepperBytes) + " bytes");
  }

  if (deps_.open_store) {
    store_ = deps_.open_store();
  } else {
    const fs::path db_file = dir / "issuer.db";
    create_private(db_file);
    store_ = std::make_unique<SqliteIssuerStore>(db_file);
  }
  load_signing_key();

  reload_tree();
  std::optional<feed::FeedEntry> last = store_->last_entry();
  const std::string pepper_digest = "pepper_sha256=" + core::hex(core::sha256(pepper_)) + "\n";
  if (had_chain && read_file(chain_file) != pepper_digest) {
    throw std::runtime_error(chain_file.string() + " does not match " + pepper_file.string() +
                             ": the pepper was replaced; restore it, refusing to start");
  }
  if (!last && had_chain) {
    throw std::runtime_error(
        "the store is empty but this data directory already has a chain (" + chain_file.string() +
        "): the node is pointed at another database or a lost file; refusing to start a second "
        "chain signed by the same key");
  }
  if (!last && deps_.open_store && fs::exists(dir / "issuer.db")) {
    throw std::runtime_error("the configured store is empty but " + (dir / "issuer.db").string() +
                             " holds this node's SQLite store; move its chain first, refusing to "
                             "start a second chain signed by the same key");
  }
  if (!last) {
    if (tree_.size() != 0) {
      throw std::runtime_error("the store holds " + std::to_string(tree_.size()) +
                               " leaves but no feed entry; refusing to start");
    }
    feed::FeedEntry genesis;
    genesis.issuer_id = issuer_id_;
    genesis.seq = 1;
    genesis.root = decimal(tree_.root());
    genesis.prev_root = "0";
    genesis.leaf_count = 0;
    genesis.issued_at = deps_.now();
    genesis.key_id = signing_key_->key_id();
    genesis.signature = signing_key_->sign(feed::signing_text(genesis));
    store_->append_genesis(genesis);
    last = store_->last_entry();
  }
  const std::string tree_root = decimal(tree_.root());
  if (tree_root != last->root || tree_.size() != last->leaf_count) {
    throw std::runtime_error("the tree rebuilt from the store has root " + tree_root + " over " +
                             std::to_string(tree_.size()) +
                             " leaves, but the last feed entry (seq " + std::to_string(last->seq) +
                             ") has root " + last->root + " over " +
                             std::to_string(last->leaf_count) + " leaves; refusing to start");
  }
  if (!had_chain) write_private_file(chain_file, pepper_digest);
  last_ = *last;
  last_seq_ = last_.seq;
  log::info("issuer node ready", {{"issuer_id", issuer_id_},
                                  {"leaf_count", tree_.size()},
                                  {"root_seq", last_.seq},
                                  {"key_id", signing_key_->key_id()}});
}

IssuerNode::~IssuerNode() {
  stop_waiting();
}

std::int64_t IssuerNode::core_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void IssuerNode::load_signing_key() {
  const fs::path key_file = settings_.data_dir / "signing.key";
  std::vector<KeyRecord> keys = store_->keys();
  const auto current = std::find_if(keys.begin(), keys.end(),
                                    [](const KeyRecord& k) { return k.retired_after == 0; });
  if (!fs::exists(key_file)) {
    if (!keys.empty()) {
      throw std::runtime_error(key_file.string() + " is missing but the store knows signing keys");
    }
    feed::SigningKey::generate().save(key_file);
  }
  auto loaded = feed::SigningKey::load(key_file);
  if (!loaded) throw std::runtime_error(key_file.string() + ": " + loaded.error());
  std::string key_id = loaded->key_id();
  if (current != keys.end() && current->key_id != key_id) {
    // A rotation committed its feed entry but stopped before swapping the key files: finish it.
    const fs::path next = settings_.data_dir / ("signing.key." + current->key_id + ".new");
    if (!fs::exists(next)) {
      throw std::runtime_error(key_file.string() + " holds key " + key_id +
                               " but the store's current key is " + current->key_id +
                               "; refusing to start");
    }
    fs::rename(key_file, settings_.data_dir / ("signing.key." + key_id + ".retired"));
    fs::rename(next, key_file);
    loaded = feed::SigningKey::load(key_file);
    if (!loaded) throw std::runtime_error(key_file.string() + ": " + loaded.error());
    key_id = loaded->key_id();
  }
  if (keys.empty()) store_->insert_key({key_id, loaded->public_key_b64(), deps_.now(), 0});
  signing_key_.emplace(std::move(loaded).value());
}

void IssuerNode::reload_tree() {
  const std::vector<std::string> values = store_->leaf_values();
  std::vector<Fr> leaves;
  leaves.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::optional<Fr> leaf = parse_fr(values[i]);
    if (!leaf) throw std::runtime_error("the stored leaf " + std::to_string(i) + " is malformed");
    leaves.push_back(*leaf);
  }
  tree_ = MerkleTree::from_leaves(leaves);
}

Mac IssuerNode::mac(std::string_view label, std::string_view text) const {
  std::string message(label);
  message += '\n';
  message += kind_name(settings_.kind);
  message += '\n';
  message += text;
  Mac out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), pepper_.data(), static_cast<int>(pepper_.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
           &len) == nullptr ||
      len != out.size()) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return out;
}

NodeError IssuerNode::authority_error(const AuthorityFailure& failure) {
  ++authority_failures_;
  using K = AuthorityFailure::Kind;
  switch (failure.kind) {
    case K::kUnknownRecord:
      return {NodeErrorCode::kUnknownRecord, "the authority knows no such record", 0};
    case K::kWrongCode:
      return {NodeErrorCode::kWrongCode, "the code is wrong", 0};
    case K::kCodeExpired:
      return {NodeErrorCode::kCodeExpired, "the code has expired or was used already", 0};
    case K::kLockedOut:
      return {NodeErrorCode::kLockedOut, "too many codes or wrong codes for this record; try later",
              failure.retry_after_s};
    case K::kUnavailable:
      log::warn("authority unavailable", {{"detail", failure.detail}});
      return {NodeErrorCode::kAuthorityUnavailable, "the authority is unavailable; try later",
              failure.retry_after_s};
    case K::kBadAnswer:
      log::error("authority answered outside the protocol", {{"detail", failure.detail}});
      return {NodeErrorCode::kAuthorityBadAnswer, "the authority's answer was not usable", 0};
  }
  return {NodeErrorCode::kInternal, "unknown authority failure", 0};
}

NodeResult<CodeSent> IssuerNode::start_enrolment(std::string_view record, std::string_view source) {
  const std::int64_t now = deps_.now();
  if (const unsigned wait = per_address_.take(std::string(source), now); wait > 0) {
    return NodeError{NodeErrorCode::kRateLimited, "too many requests from this address", wait};
  }
  if (!record_shape_ok(settings_.kind, record)) {
    return NodeError{NodeErrorCode::kInvalidRequest,
                     "record: not a " + std::string(kind_name(settings_.kind)) + " record number",
                     0};
  }
  const Mac subject = mac("subject", record);
  const std::string key(subject.begin(), subject.end());
  if (const unsigned wait = starts_per_record_.take(key, now); wait > 0) {
    return NodeError{NodeErrorCode::kRateLimited, "too many enrolments started for this record",
                     wait};
  }
  ++authority_calls_;
  AuthorityResult<CodeSent> sent = deps_.authority->send_code(record);
  if (!sent) return authority_error(sent.error());
  log::info("enrolment code sent");
  return std::move(sent).value();
}

NodeResult<IssuedCredential> IssuerNode::complete_enrolment(std::string_view record,
                                                            std::string_view code,
                                                            std::string_view holder_commitment,
                                                            std::string_view source) {
  const std::int64_t now = deps_.now();
  if (const unsigned wait = per_address_.take(std::string(source), now); wait > 0) {
    return NodeError{NodeErrorCode::kRateLimited, "too many requests from this address", wait};
  }
  if (!record_shape_ok(settings_.kind, record)) {
    return NodeError{NodeErrorCode::kInvalidRequest,
                     "record: not a " + std::string(kind_name(settings_.kind)) + " record number",
                     0};
  }
  if (code.size() != 6 || !all_digits(code)) {
    return NodeError{NodeErrorCode::kInvalidRequest, "code: must be six digits", 0};
  }
  const std::optional<Fr> commitment = parse_fr(holder_commitment);
  if (!commitment || commitment->is_zero()) {
    return NodeError{NodeErrorCode::kInvalidRequest,
                     "holder_commitment: must be a canonical nonzero decimal field element", 0};
  }
  const Mac subject = mac("subject", record);
  const Mac code_mac = mac("code", std::string(record) + '\n' + std::string(code));
  if (const unsigned wait =
          completions_per_record_.take(std::string(subject.begin(), subject.end()), now);
      wait > 0) {
    return NodeError{NodeErrorCode::kRateLimited, "too many completions for this record", wait};
  }

  // A retry of an acknowledged completion (same record, commitment and code: the code is spent at
  // the authority) gets the stored credential with a current path.
  if (std::optional<StoredLeaf> existing = store_->find_credential(subject, holder_commitment);
      existing && core::equal_ct(existing->code_mac, code_mac)) {
    if (existing->revoked_at != 0) {
      return NodeError{NodeErrorCode::kRevoked, "this credential was revoked", 0};
    }
    boost::system::error_code ec;
    const boost::json::value stored = boost::json::parse(existing->credential, ec);
    if (ec || !stored.is_object())
      return NodeError{NodeErrorCode::kInternal, "stored credential", 0};
    std::lock_guard lock(tree_mutex_);
    return IssuedCredential{false, with_path(stored.as_object(), existing->leaf_index)};
  }

  ++authority_calls_;
  AuthorityResult<AuthorityRecord> fetched = deps_.authority->fetch_record(record, code);
  if (!fetched) return authority_error(fetched.error());
  // The record lives only in this scope: once the leaf is made it is gone from memory.
  const AuthorityRecord authority_record = std::move(fetched).value();
  if (record_kind_name(authority_record) != kind_name(settings_.kind) ||
      record_number(authority_record) != record) {
    return authority_error({AuthorityFailure::Kind::kBadAnswer,
                            "the record is of another kind or number than asked", 0});
  }
  auto converted = deps_.convert(authority_record, deps_.today(now));
  if (!converted) {
    log::warn("record not convertible to a credential");
    return NodeError{NodeErrorCode::kAuthorityBadAnswer,
                     "the record cannot be made into a credential: " + converted.error(), 0};
  }
  const CredentialAttributes& attrs = *converted;
  if (attrs.issuer_id != issuer_id_) {
    return NodeError{NodeErrorCode::kInternal, "the conversion gave another issuer id", 0};
  }
  boost::json::object attributes;
  for (const auto& [name, value] : attrs.attributes) attributes[name] = value;
  const std::optional<Fr> leaf = credential_leaf(attrs, *commitment);
  if (!leaf) return NodeError{NodeErrorCode::kInternal, "too many attributes for the leaf", 0};

  try {
    std::lock_guard lock(tree_mutex_);
    // Another completion for this holder and record may have won the race since the look-up.
    if (std::optional<StoredLeaf> existing = store_->find_credential(subject, holder_commitment)) {
      if (existing->revoked_at != 0) {
        return NodeError{NodeErrorCode::kRevoked, "this credential was revoked", 0};
      }
      boost::system::error_code ec;
      const boost::json::value stored = boost::json::parse(existing->credential, ec);
      if (ec || !stored.is_object())
        return NodeError{NodeErrorCode::kInternal, "stored credential", 0};
      return IssuedCredential{false, with_path(stored.as_object(), existing->leaf_index)};
    }
    const std::uint64_t index = tree_.size();
    boost::json::object credential{{"issuer", kind_name(settings_.kind)},
                                   {"issuer_id", attrs.issuer_id},
                                   {"issuer_url", settings_.public_url},
                                   {"schema", attrs.schema},
                                   {"schema_id", attrs.schema_id},
                                   {"attributes", std::move(attributes)},
                                   {"expiry", attrs.expiry},
                                   {"leaf_index", index},
                                   {"leaf", decimal(*leaf)}};
    NewLeaf row;
    row.leaf_index = index;
    row.leaf = decimal(*leaf);
    row.subject = subject;
    row.code_mac = code_mac;
    row.holder_commitment = std::string(holder_commitment);
    row.credential = boost::json::serialize(credential);
    apply_change({std::move(row)}, std::nullopt, std::nullopt, false, nullptr, 0);
    log::info("credential issued", {{"leaf_index", index}, {"root_seq", last_.seq}});
    return IssuedCredential{true, with_path(credential, index)};
  } catch (const std::exception& e) {
    log::error("issuing a credential failed", {{"error", e.what()}});
    return NodeError{NodeErrorCode::kInternal, "the credential could not be stored", 0};
  }
}

feed::FeedEntry IssuerNode::apply_change(std::vector<NewLeaf> appended,
                                         std::optional<std::uint64_t> revoked,
                                         std::optional<AuditRecord> audit, bool force_padding,
                                         const feed::SigningKey* next_key,
                                         std::int64_t overlap_ms) {
  const std::int64_t now = std::max(deps_.now(), last_.issued_at);
  // What undoes this change in memory when the store does not take it. Not a reload from the
  // store: a failed write usually means the store is unreachable.
  const std::uint64_t size_before = tree_.size();
  std::optional<Fr> revoked_before;
  try {
    if (revoked && *revoked < size_before) revoked_before = tree_.leaf(*revoked);
    for (NewLeaf& leaf : appended) {
      if (leaf.leaf_index != tree_.size() || !tree_.append(*parse_fr(leaf.leaf))) {
        throw std::runtime_error("the tree is full or the leaf index is not the next one");
      }
    }
    if (revoked && !tree_.set(*revoked, Fr::zero())) {
      throw std::runtime_error("no leaf at the revoked index");
    }
    // Roots never repeat (docs/issuers.md): a padding leaf makes a published root fresh.
    bool pad = force_padding;
    while (pad || store_->root_published(decimal(tree_.root()))) {
      pad = false;
      NewLeaf padding;
      padding.padding = true;
      padding.leaf_index = tree_.size();
      const Fr value = random_padding();
      padding.leaf = decimal(value);
      if (!tree_.append(value)) throw std::runtime_error("the tree is full");
      appended.push_back(std::move(padding));
    }
    TreeChange change;
    change.appended = std::move(appended);
    change.revoked = revoked;
    change.at = now;
    change.audit = std::move(audit);
    feed::FeedEntry& entry = change.entry;
    entry.issuer_id = issuer_id_;
    entry.seq = last_.seq + 1;
    entry.root = decimal(tree_.root());
    entry.prev_root = last_.root;
    entry.leaf_count = tree_.size();
    entry.issued_at = now;
    entry.key_id = signing_key_->key_id();
    if (next_key != nullptr) {
      entry.next_key =
          feed::KeyAnnouncement{next_key->key_id(), next_key->public_key_b64(), now + overlap_ms};
      change.new_key = KeyRecord{next_key->key_id(), next_key->public_key_b64(), now, 0};
    }
    entry.signature = signing_key_->sign(feed::signing_text(entry));
    store_->commit(change);
    last_ = entry;
  } catch (...) {
    // The store wrote nothing (a write it cannot tell landed or not stops it until a restart,
    // which rebuilds the tree from it): back to the tree before this change.
    tree_.truncate(size_before);
    if (revoked_before) tree_.set(*revoked, *revoked_before);
    throw;
  }
  {
    std::lock_guard lock(feed_mutex_);
    last_seq_ = last_.seq;
  }
  feed_cv_.notify_all();
  return last_;
}

boost::json::object IssuerNode::with_path(const boost::json::object& stored,
                                          std::uint64_t leaf_index) {
  boost::json::object out = stored;
  const MerklePath path = tree_.path(leaf_index);
  out["root"] = decimal(tree_.root());
  out["root_seq"] = last_.seq;
  out["siblings"] = decimals(path.siblings);
  boost::json::array indices;
  for (const std::uint8_t i : path.path_indices) indices.emplace_back(static_cast<int>(i));
  out["path_indices"] = std::move(indices);
  return out;
}

NodeResult<boost::json::object> IssuerNode::credential_path(std::uint64_t leaf_index) {
  std::lock_guard lock(tree_mutex_);  // the stored row and the tree from the same moment
  const std::optional<StoredLeaf> stored = store_->leaf(leaf_index);
  if (!stored || stored->padding) {
    return NodeError{NodeErrorCode::kNotFound, "no credential at this leaf index", 0};
  }
  if (stored->revoked_at != 0) {
    return NodeError{NodeErrorCode::kRevoked, "this credential was revoked", 0};
  }
  return with_path(boost::json::object{{"leaf_index", leaf_index}, {"leaf", stored->leaf}},
                   leaf_index);
}

FeedAnswer IssuerNode::feed_since(std::uint64_t since, std::chrono::milliseconds wait) {
  wait = std::clamp(wait, std::chrono::milliseconds{0}, kMaxWait);
  {
    std::unique_lock lock(feed_mutex_);
    if (last_seq_ <= since && wait.count() > 0 && !stopping_ &&
        waiters_ < settings_.limits.max_feed_waiters) {
      ++waiters_;
      feed_cv_.wait_for(lock, wait, [&] { return last_seq_ > since || stopping_; });
      --waiters_;
    }
  }
  FeedAnswer answer;
  answer.entries = store_->entries_since(since, feed::kMaxEntriesPerAnswer);
  std::lock_guard lock(feed_mutex_);
  answer.last_seq = last_seq_;
  return answer;
}

std::size_t IssuerNode::feed_waiters() {
  std::lock_guard lock(feed_mutex_);
  return waiters_;
}

void IssuerNode::stop_waiting() {
  {
    std::lock_guard lock(feed_mutex_);
    stopping_ = true;
  }
  feed_cv_.notify_all();
}

NodeResult<std::string> IssuerNode::offer(std::string_view record, std::string_view actor) {
  if (!record_shape_ok(settings_.kind, record)) {
    return NodeError{NodeErrorCode::kInvalidRequest,
                     "record: not a " + std::string(kind_name(settings_.kind)) + " record number",
                     0};
  }
  // The audit names the record by its subject (the pepper-HMAC the leaves carry), so the audit
  // table, like the leaves, lists no record number in clear (docs/issuers.md, "What the issuer
  // node stores").
  const Mac subject = mac("subject", record);
  try {
    store_->record_audit({deps_.now(), std::string(actor), "offer", core::hex(subject), ""});
  } catch (const std::exception& e) {
    log::error("recording an offer failed", {{"error", e.what()}});
    return NodeError{NodeErrorCode::kInternal, "the offer could not be audited", 0};
  }
  return offer_link(settings_.public_url, record);
}

NodeResult<RevokeAnswer> IssuerNode::revoke(std::uint64_t leaf_index, std::string_view reason,
                                            std::string_view actor) {
  try {
    std::lock_guard lock(tree_mutex_);
    const std::optional<StoredLeaf> stored = store_->leaf(leaf_index);
    if (!stored || stored->padding) {
      return NodeError{NodeErrorCode::kNotFound, "no credential at this leaf index", 0};
    }
    if (stored->revoked_at != 0) {
      return NodeError{NodeErrorCode::kRevoked, "this credential was revoked already", 0};
    }
    AuditRecord audit{deps_.now(), std::string(actor), "revoke", std::to_string(leaf_index),
                      std::string(reason)};
    const feed::FeedEntry entry = apply_change({}, leaf_index, std::move(audit), false, nullptr, 0);
    log::info("credential revoked", {{"leaf_index", leaf_index}, {"root_seq", entry.seq}});
    return RevokeAnswer{leaf_index, entry.root, entry.seq};
  } catch (const std::exception& e) {
    log::error("revocation failed", {{"error", e.what()}});
    return NodeError{NodeErrorCode::kInternal, "the revocation could not be stored", 0};
  }
}

std::vector<CredentialStatus> IssuerNode::list(std::int64_t after, std::size_t limit,
                                               std::string_view actor) {
  store_->record_audit({deps_.now(), std::string(actor), "list_credentials", std::to_string(after),
                        "limit " + std::to_string(limit)});
  std::vector<CredentialStatus> out;
  for (const StoredLeaf& leaf : store_->list_credentials(after, limit)) {
    out.push_back({leaf.leaf_index, leaf.revoked_at != 0, leaf.issued_at, leaf.revoked_at});
  }
  return out;
}

NodeStats IssuerNode::stats(std::string_view actor) {
  store_->record_audit({deps_.now(), std::string(actor), "stats", "", ""});
  NodeStats s;
  const auto [total, revoked] = store_->credential_counts();
  (void)total;
  s.revoked = revoked;
  {
    std::lock_guard lock(tree_mutex_);
    s.leaf_count = tree_.size();
    s.root = last_.root;
    s.root_seq = last_.seq;
  }
  s.authority_calls = authority_calls_;
  s.authority_failures = authority_failures_;
  if (deps_.breaker_state) s.breaker = deps_.breaker_state();
  if (deps_.adapter_counters) {
    const auto [attempts, retries, fast_fails] = deps_.adapter_counters();
    s.authority_attempts = attempts;
    s.authority_retries = retries;
    s.authority_fast_fails = fast_fails;
  }
  return s;
}

std::vector<AuditRow> IssuerNode::audit_page(std::int64_t before, std::size_t limit,
                                             std::string_view actor) {
  const std::string target = before == INT64_MAX ? "" : std::to_string(before);
  store_->record_audit(
      {deps_.now(), std::string(actor), "read_audit", target, "limit " + std::to_string(limit)});
  return store_->audit_page(before, limit);
}

NodeResult<KeyRecord> IssuerNode::rotate_key(std::int64_t overlap_seconds, std::string_view actor) {
  if (overlap_seconds < 0 || overlap_seconds > 30LL * 24 * 3600) {
    return NodeError{NodeErrorCode::kInvalidRequest,
                     "overlap_seconds: must be between 0 and 2592000 (30 days)", 0};
  }
  try {
    std::lock_guard lock(tree_mutex_);
    feed::SigningKey next = feed::SigningKey::generate();
    const std::string old_id = signing_key_->key_id();
    const fs::path key_file = settings_.data_dir / "signing.key";
    const fs::path next_file = settings_.data_dir / ("signing.key." + next.key_id() + ".new");
    // The new key is on disk before the entry announcing it commits; a crash between the commit
    // and the renames below is finished at the next start (load_signing_key).
    next.save(next_file);
    AuditRecord audit{deps_.now(), std::string(actor), "rotate_key", next.key_id(),
                      "overlap_seconds " + std::to_string(overlap_seconds)};
    const feed::FeedEntry entry =
        apply_change({}, std::nullopt, std::move(audit), true, &next, overlap_seconds * 1000);
    fs::rename(key_file, settings_.data_dir / ("signing.key." + old_id + ".retired"));
    fs::rename(next_file, key_file);
    KeyRecord record{next.key_id(), next.public_key_b64(), entry.issued_at, 0};
    signing_key_.emplace(std::move(next));
    log::info("signing key rotated", {{"key_id", record.key_id}, {"root_seq", entry.seq}});
    return record;
  } catch (const std::exception& e) {
    log::error("key rotation failed", {{"error", e.what()}});
    return NodeError{NodeErrorCode::kInternal, "the key rotation could not be stored", 0};
  }
}

std::vector<KeyRecord> IssuerNode::keys() {
  return store_->keys();
}

void IssuerNode::audit(std::string_view actor, std::string_view action, std::string_view target,
                       std::string_view detail) {
  store_->record_audit({deps_.now(), std::string(actor), std::string(action), std::string(target),
                        std::string(detail)});
}

unsigned IssuerNode::admin_auth_failure(std::string_view source) {
  return admin_failures_.take(std::string(source), deps_.now());
}

std::pair<std::string, std::uint64_t> IssuerNode::current_root() {
  std::lock_guard lock(tree_mutex_);
  return {last_.root, last_.seq};
}

}  // namespace pg::issuer
