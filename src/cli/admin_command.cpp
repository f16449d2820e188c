// `proofgate admin ...`: partner and state management on the data directory, usable while the
// server runs (SQLite's locks keep both consistent). Each command parses its flags, calls one
// core::AdminService use case (which writes the change and its audit entry in one transaction) and
// prints the answer. Also the audit archives of retention: docs/retention.md.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "cli/admin_accounts.hpp"
#include "cli/backends.hpp"
#include "cli/clients.hpp"
#include "cli/commands.hpp"
#include "core/admin_service.hpp"
#include "core/audit.hpp"
#include "core/audit_chain.hpp"
#include "core/oauth.hpp"
#include "core/service.hpp"
#include "http/admin.hpp"

namespace pg::cli {

namespace json = boost::json;

namespace {
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    const std::string item =
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct AdminFlags {
  std::string data_dir = "./data", database_url, master_key_file;
  std::string name, scopes, domains, webhook_url;
  std::uint32_t issuer_id = 0;
  std::string root, claim_type, version, client_id;
  bool enabled = true, allow_loopback_webhook = false, test = false, sandbox = false;
  std::int64_t overlap_seconds = 86400;
  // retention, anonymise-user, audit
  std::int64_t older_than_days = 730;  // 24 months
  std::string archive_dir, user_id, from, to;
  std::size_t batch = 1000, limit = 10000;
};

Backends open(const AdminFlags& f) {
  RawSettings flags{{"data_dir", f.data_dir}};
  if (!f.database_url.empty()) flags["database_url"] = f.database_url;
  if (!f.master_key_file.empty()) flags["master_key_file"] = f.master_key_file;
  static const core::SystemClock clock;
  return open_backends(resolve_settings(flags, std::nullopt), clock, /*with_cache=*/false);
}

// --- The audit trail ---

/// Who runs the CLI: the operating-system account (there is no other identity here).
core::Actor cli_actor() {
  std::string id;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    id = pw->pw_name;
  } else {
    id = "uid:" + std::to_string(geteuid());
  }
  return {std::string(core::kActorAdminCli), id};
}

/// A use case's value, or its refusal as the one line the CLI prints ("--flag: detail", exit 2).
template <class T>
T& value_or_throw(core::Outcome<T>& result) {
  if (!result) {
    std::string field = result.error().field;
    std::replace(field.begin(), field.end(), '_', '-');
    throw std::runtime_error((field.empty() ? "" : "--" + field + ": ") + result.error().detail);
  }
  return result.value();
}

void print(const json::value& v) {
  std::cout << json::serialize(v) << std::endl;
}

/// UTC with milliseconds: 2026-09-21T10:15:00.123Z.
std::string iso_millis(core::UnixMillis ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> hms(t - day);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

/// Parses YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff]Z (UTC) into Unix milliseconds.
core::UnixMillis parse_iso(const std::string& text, std::string_view flag) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  const auto bad = [&] {
    return std::runtime_error(std::string(flag) + ": '" + text +
                              "' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff]Z");
  };
  const auto digits = [&](std::size_t at, std::size_t n, int& out) {
    if (at + n > text.size()) throw bad();
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') throw bad();
      out = out * 10 + (text[i] - '0');
    }
  };
  digits(0, 4, y);
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') throw bad();
  digits(5, 2, mo);
  digits(8, 2, d);
  if (text.size() > 10) {
    if (text[10] != 'T' || text.size() < 20 || text[13] != ':' || text[16] != ':' ||
        text.back() != 'Z')
      throw bad();
    digits(11, 2, h);
    digits(14, 2, mi);
    digits(17, 2, sec);
    if (text.size() == 24 && text[19] == '.') {
      digits(20, 3, ms);
    } else if (text.size() != 20) {
      throw bad();
    }
  }
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) throw bad();
  return (sys_days(ymd).time_since_epoch() + hours(h) + minutes(mi) + seconds(sec) +
          milliseconds(ms)) /
         1ms;
}

/// One entry as a JSON line (the export's and the archives' format, with the chain fields).
std::string audit_line(const core::AuditEntry& e) {
  return core::audit_export_line(e);
}

/// `admin audit verify FILE`: checks an export's chain offline (core::check_audit_export).
/// Exit 0 intact, 1 broken (the first bad entry named), 2 unreadable or not an export.
int verify_audit_file(const std::string& path, const std::string& anchor, const std::string& head) {
  std::vector<std::string> lines;
  const auto read_all = [&lines](std::istream& in) {
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return !in.bad();
  };
  bool read = false;
  if (path == "-") {
    read = read_all(std::cin);
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      std::cerr << "error: cannot open " << path << ": " << std::strerror(errno) << '\n';
      return 2;
    }
    read = read_all(file);
  }
  if (!read) {
    std::cerr << "error: cannot read " << path << '\n';
    return 2;
  }
  for (const auto& [flag, value] : {std::pair{"--anchor", &anchor}, std::pair{"--head", &head}}) {
    if (!value->empty() && (value->size() != 64 ||
                            value->find_first_not_of("0123456789abcdef") != std::string::npos)) {
      std::cerr << "error: " << flag << " must be 64 lowercase hex digits\n";
      return 2;
    }
  }
  const auto optional = [](const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string_view>(s);
  };
  const core::AuditChainCheck check =
      core::check_audit_export(lines, optional(anchor), optional(head));
  using Verdict = core::AuditChainCheck::Verdict;
  switch (check.verdict) {
    case Verdict::kIntact:
      if (check.entries == 0) {
        std::cout << "0 entries\n";
      } else {
        std::cout << check.entries << " entries, chain intact from seq " << check.first_seq
                  << " to " << check.last_seq << ", head " << check.head << '\n';
      }
      return 0;
    case Verdict::kBroken:
      std::cerr << "chain broken at line " << check.line << " (seq " << check.seq
                << "): " << check.reason << '\n';
      return 1;
    case Verdict::kMalformed:
      std::cerr << "error: line " << check.line << " is not an audit export entry: " << check.reason
                << '\n';
      return 2;
  }
  return 2;
}

// --- Archives: gzip'd JSON lines, written durably ---

std::string gzip(std::string_view text) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer (CRC-32 and length), which `gunzip -t` checks.
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const std::size_t written = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate failed");
  out.resize(written);
  return out;
}

std::string gunzip(std::string_view data) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::runtime_error("gunzip: inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || z.avail_in != 0)
    throw std::runtime_error("gunzip: not one whole gzip stream");
  return out;
}

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) fail_errno("open " + path.string());
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail_errno("fsync " + path.string());
  }
  ::close(fd);
}

std::string read_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("open " + path.string());
  std::string out;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      fail_errno("read " + path.string());
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

/// Writes one batch to dir/audit-<from>-<to>-<n>.jsonl.gz (from, to: the first and last entry's
/// time, UTC; n: the count) and makes it durable before returning: written to a temporary file,
/// fsynced, read back and compared, linked to its name (never over an existing file: a re-run
/// archiving the same batch gets a ".2", ".3", ... before .jsonl.gz), the directory fsynced.
/// Returns the file name.
std::string archive_batch(const std::filesystem::path& dir,
                          const std::vector<core::AuditEntry>& rows) {
  std::string text;
  for (const auto& row : rows) text += audit_line(row) + "\n";
  const std::string packed = gzip(text);
  const auto compact = [](core::UnixMillis ms) {
    std::string s = iso_millis(ms);  // 2026-09-21T10:15:00.123Z -> 20260921T101500.123Z
    std::erase(s, '-');
    std::erase(s, ':');
    return s;
  };
  const std::string stem = "audit-" + compact(rows.front().at) + "-" + compact(rows.back().at) +
                           "-" + std::to_string(rows.size());
  const std::filesystem::path tmp = dir / ("." + stem + "." + std::to_string(::getpid()) + ".tmp");
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno("create " + tmp.string());
    std::size_t done = 0;
    while (done < packed.size()) {
      const ssize_t n = ::write(fd, packed.data() + done, packed.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ::close(fd);
        fail_errno("write " + tmp.string());
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
      ::close(fd);
      fail_errno("fsync " + tmp.string());
    }
    if (::close(fd) != 0) fail_errno("close " + tmp.string());
  }
  if (gunzip(read_file(tmp)) != text) {
    throw std::runtime_error("archive " + tmp.string() +
                             ": reading it back does not give what was written");
  }
  std::string name;
  for (int k = 1;; ++k) {
    name = stem + (k == 1 ? "" : "." + std::to_string(k)) + ".jsonl.gz";
    if (::link(tmp.c_str(), (dir / name).c_str()) == 0) break;
    if (errno != EEXIST) fail_errno("link " + (dir / name).string());
  }
  ::unlink(tmp.c_str());
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
  return name;
}
}  // namespace

void add_admin_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<AdminFlags>();
  CLI::App* admin =
      app.add_subcommand("admin", "Manage partners, issuer roots and circuit versions");
  admin->require_subcommand(1);
  const auto storage = [f](CLI::App* c) {
    c->add_option("--data-dir", f->data_dir,
                  "data directory of the embedded default (default ./data)");
    c->add_option("--database-url", f->database_url, "PostgreSQL URL (production storage)");
    c->add_option("--master-key-file", f->master_key_file,
                  "the deployment's master key (default <data-dir>/master.key)");
  };
  static const core::SystemClock clock;

  CLI::App* create =
      admin->add_subcommand("create-client", "Create a partner; prints its API key once");
  create->add_option("--name", f->name, "partner name")->required();
  create->add_option("--scopes", f->scopes, "claim types, comma-separated")->required();
  create
      ->add_option("--domains", f->domains,
                   "verifier domains, comma-separated; each belongs to this partner only")
      ->required();
  create->add_option("--webhook-url", f->webhook_url,
                     "where webhooks go (a secret is generated and shown once)");
  create->add_flag("--allow-loopback-webhook", f->allow_loopback_webhook,
                   "DEVELOPMENT/TESTS ONLY: accept a webhook URL on loopback over plain http");
  create->add_flag("--test", f->test,
                   "a test client only (pg_test_ key, sandbox roots only, claims no domain); "
                   "without it the live client and its test twin are made together");
  storage(create);
  create->callback([f, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    auto created = wiring.service().create_client(
        cli_actor(), {f->name, split_list(f->scopes), split_list(f->domains), f->webhook_url,
                      f->allow_loopback_webhook, f->test});
    print(created_client_json(value_or_throw(created)));
    exit_code = 0;
  });

  CLI::App* revoke = admin->add_subcommand(
      "revoke-key", "Revoke a partner's API key at once (the next request with it gets 401)");
  revoke->add_option("--client-id", f->client_id, "the partner")->required();
  storage(revoke);
  revoke->callback([f, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    auto revoked = wiring.service().revoke_key(cli_actor(), f->client_id);
    const core::RevokedKey& r = value_or_throw(revoked);
    json::object out{{"client_id", r.client_id}, {"revoked", true}};
    out["already_revoked"] = r.already_revoked;
    if (!r.already_revoked) out["revoked_at"] = core::rfc3339(r.revoked_at);
    print(out);
    exit_code = 0;
  });

  CLI::App* rotate = admin->add_subcommand("rotate-webhook-secret",
                                           "New webhook secret for a partner (shown once); the old "
                                           "one keeps signing during the overlap");
  rotate->add_option("--client-id", f->client_id, "the partner")->required();
  rotate
      ->add_option("--overlap-seconds", f->overlap_seconds,
                   "how long the old secret still signs (default 86400)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{30} * 86400));
  rotate->add_option("--webhook-url", f->webhook_url, "a new webhook URL as well (optional)");
  rotate->add_flag("--allow-loopback-webhook", f->allow_loopback_webhook,
                   "DEVELOPMENT/TESTS ONLY (see create-client)");
  storage(rotate);
  rotate->callback([f, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    auto rotated = wiring.service().rotate_webhook_secret(
        cli_actor(), f->client_id, f->overlap_seconds, f->webhook_url, f->allow_loopback_webhook);
    const core::RotatedSecret& r = value_or_throw(rotated);
    print(json::object{{"client_id", r.client_id},
                       {"webhook_secret", r.webhook_secret},
                       {"previous_secret_signs_until", core::rfc3339(r.previous_signs_until)}});
    exit_code = 0;
  });

  CLI::App* token = admin->add_subcommand(
      "new-admin-token",
      "A new admin token for /api/admin (shown once) and the SHA-256 to configure");
  token->callback([&exit_code] {
    const auto [text, digest] = http::new_admin_token();
    print(json::object{{"admin_token", text},
                       {"admin_token_sha256", digest},
                       {"configure", "PROOFGATE_ADMIN_TOKEN_SHA256=" + digest}});
    exit_code = 0;
  });

  CLI::App* list =
      admin->add_subcommand("list-clients", "List partners (never their keys or secrets)");
  storage(list);
  list->callback([f, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    json::array out;
    for (const auto& c : wiring.service().list_clients()) {
      json::object o{{"client_id", c.id},
                     {"name", c.name},
                     {"key_prefix", c.key_prefix},
                     {"scopes", json::array(c.scopes.begin(), c.scopes.end())},
                     {"domains", json::array(c.domains.begin(), c.domains.end())},
                     {"webhook_url", c.webhook_url},
                     {"last_used", c.last_used},
                     {"mode", core::mode_name(c.mode)}};
      o["live_client_id"] =
          c.live_client_id.empty() ? json::value(nullptr) : json::value(c.live_client_id);
      o["revoked_at"] = c.revoked_at ? json::value(core::rfc3339(c.revoked_at)) : nullptr;
      o["status"] = c.suspended_at ? "suspended" : "active";
      out.push_back(std::move(o));
    }
    print(out);
    exit_code = 0;
  });

  // --- Partners: show, update, suspend, resume, rotate the API key ---
  CLI::App* show = admin->add_subcommand("show-client", "A partner with its keys (never a key)");
  show->add_option("--client-id", f->client_id, "the partner")->required();
  storage(show);
  show->callback([f, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    auto found = wiring.service().show_client(f->client_id);
    print(http::client_detail_json(value_or_throw(found), clock.now_ms()));
    exit_code = 0;
  });

  CLI::App* update = admin->add_subcommand(
      "update-client",
      "Change a partner's name, scopes, domains or webhook URL (only those given)");
  update->add_option("--client-id", f->client_id, "the partner")->required();
  update->add_option("--name", f->name, "new name");
  update->add_option("--scopes", f->scopes, "new claim types, comma-separated");
  update->add_option("--domains", f->domains, "new verifier domains, comma-separated");
  update->add_option("--webhook-url", f->webhook_url,
                     "new webhook URL (the address guard applies)");
  update->add_flag("--allow-loopback-webhook", f->allow_loopback_webhook,
                   "DEVELOPMENT/TESTS ONLY (see create-client)");
  storage(update);
  update->callback([f, update, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    core::ClientUpdate u;
    if (update->count("--name") > 0) u.name = f->name;
    if (update->count("--scopes") > 0) u.scopes = split_list(f->scopes);
    if (update->count("--domains") > 0) u.domains = split_list(f->domains);
    if (update->count("--webhook-url") > 0) u.webhook_url = f->webhook_url;
    u.allow_loopback_webhook = f->allow_loopback_webhook;
    auto updated = wiring.service().update_client(cli_actor(), f->client_id, u);
    print(http::client_detail_json(value_or_throw(updated), clock.now_ms()));
    exit_code = 0;
  });

  for (const bool suspend : {true, false}) {
    CLI::App* c = admin->add_subcommand(
        suspend ? "suspend-client" : "resume-client",
        suspend ? "Suspend a partner: its API calls answer 403 CLIENT_SUSPENDED, its webhooks wait"
                : "Resume a suspended partner (its held webhooks are delivered)");
    c->add_option("--client-id", f->client_id, "the partner")->required();
    storage(c);
    c->callback([f, suspend, &exit_code] {
      Backends d = open(*f);
      AdminWiring wiring(d, clock);
      auto done = suspend ? wiring.service().suspend_client(cli_actor(), f->client_id)
                          : wiring.service().resume_client(cli_actor(), f->client_id);
      const core::Suspension& s = value_or_throw(done);
      json::object out{{"client_id", s.client_id},
                       {"status", s.suspended ? "suspended" : "active"},
                       {"changed", s.changed}};
      out["at"] = s.changed ? json::value(core::rfc3339(s.at)) : json::value(nullptr);
      print(out);
      exit_code = 0;
    });
  }

  CLI::App* rotate_key = admin->add_subcommand(
      "rotate-key", "New API key for a partner (shown once); the old keys work during the overlap");
  rotate_key->add_option("--client-id", f->client_id, "the partner")->required();
  rotate_key
      ->add_option("--overlap-seconds", f->overlap_seconds,
                   "how long the old keys keep working (default 86400)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{30} * 86400));
  storage(rotate_key);
  rotate_key->callback([f, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    auto rotated = wiring.service().rotate_key(cli_actor(), f->client_id, f->overlap_seconds);
    const core::RotatedKey& r = value_or_throw(rotated);
    print(json::object{{"client_id", r.client_id},
                       {"api_key", r.api_key},
                       {"key_prefix", r.key_prefix},
                       {"previous_keys_expire_at", core::rfc3339(r.previous_expires_at)}});
    exit_code = 0;
  });

  // OAuth2 client credentials (docs/partners.md, "Tokens").
  const auto oauth_audit = [](std::string action, json::object details) {
    const core::Actor actor = cli_actor();
    core::AuditEntry e;
    e.actor_type = actor.type;
    e.actor_id = actor.id;
    e.action = std::move(action);
    e.details_json = json::serialize(details);
    e.at = clock.now_ms();
    return e;
  };
  CLI::App* rotate_secret =
      admin->add_subcommand("rotate-client-secret",
                            "New OAuth2 client secret for a partner (shown once; the old one "
                            "stops at once)");
  rotate_secret->add_option("--client-id", f->client_id, "the partner")->required();
  storage(rotate_secret);
  rotate_secret->callback([f, &exit_code, oauth_audit] {
    Backends d = open(*f);
    auto* store = dynamic_cast<core::OAuthStore*>(d.store);
    if (!store) throw std::runtime_error("this storage does not provide the OAuth port");
    const auto audit = oauth_audit("client.secret_rotated", {{"client_id", f->client_id}});
    auto rotated = core::rotate_client_secret(*store, f->client_id, audit.at, audit);
    const core::RotatedClientSecret& r = value_or_throw(rotated);
    print(json::object{{"client_id", r.client_id}, {"client_secret", r.client_secret}});
    exit_code = 0;
  });
  CLI::App* rotate_token_key =
      admin->add_subcommand("rotate-token-key",
                            "New access-token signing key; the old one verifies until its tokens "
                            "expire (then leaves /.well-known/jwks.json)");
  storage(rotate_token_key);
  rotate_token_key->callback([f, &exit_code, oauth_audit] {
    Backends d = open(*f);
    auto* store = dynamic_cast<core::OAuthStore*>(d.store);
    if (!store) throw std::runtime_error("this storage does not provide the OAuth port");
    core::OAuthService oauth(*d.store, *store, clock, d.master_key, {});
    const core::TokenKey key = oauth.rotate_key(oauth_audit("token_key.rotated", {}));
    print(json::object{{"kid", key.kid}, {"created_at", core::rfc3339(key.created_at)}});
    exit_code = 0;
  });

  CLI::App* publish =
      admin->add_subcommand("publish-root", "Publish an issuer's current credential root");
  publish->add_option("--issuer-id", f->issuer_id, "issuer id (1 MOHA, 2 TU, 3 NRB/IRD)")
      ->required();
  publish->add_option("--root", f->root, "the root, a decimal field element")->required();
  publish->add_flag("--sandbox", f->sandbox,
                    "a sandbox issuer's root: only test clients accept it (its own chain)");
  storage(publish);
  publish->callback([f, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    auto published = wiring.service().publish_root(cli_actor(), f->issuer_id, f->root, f->sandbox);
    const core::IssuerRoot& r = value_or_throw(published);
    print(json::object{
        {"issuer_id", r.issuer_id}, {"root", r.root}, {"sandbox", r.sandbox}, {"current", true}});
    exit_code = 0;
  });

  CLI::App* circuit = admin->add_subcommand("set-circuit", "Enable or disable a circuit version");
  circuit->add_option("--claim-type", f->claim_type, "claim type")->required();
  circuit->add_option("--version", f->version, "version MAJOR.MINOR.PATCH")->required();
  circuit->add_option("--enabled", f->enabled, "true or false")->required();
  storage(circuit);
  circuit->callback([f, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    auto set =
        wiring.service().set_circuit_enabled(cli_actor(), f->claim_type, f->version, f->enabled);
    print(json::object{
        {"claim_type", f->claim_type}, {"version", f->version}, {"enabled", value_or_throw(set)}});
    exit_code = 0;
  });

  add_admin_lifecycle_commands(*admin, exit_code);  // approvals, circuit versions
  add_admin_sweep_command(*admin, exit_code);

  CLI::App* retention = admin->add_subcommand(
      "retention",
      "Archive audit entries older than the window (gzip'd JSON lines), then remove them");
  retention
      ->add_option("--older-than-days", f->older_than_days,
                   "the retention window in days (default 730)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100} * 366));
  retention->add_option("--archive-dir", f->archive_dir,
                        "where the archives go (default <data-dir>/audit-archive)");
  retention
      ->add_option("--batch", f->batch, "entries per archive file and transaction (default 1000)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  storage(retention);
  retention->callback([f, &exit_code] {
    Backends d = open(*f);
    const std::filesystem::path dir = f->archive_dir.empty()
                                          ? d.data_dir / "audit-archive"
                                          : std::filesystem::path(f->archive_dir);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw std::runtime_error("--archive-dir: cannot create " + dir.string() + ": " +
                               ec.message());
    AdminWiring wiring(d, clock);
    auto run = wiring.service().retention(
        cli_actor(), f->older_than_days, f->batch,
        [&dir](const std::vector<core::AuditEntry>& rows) { return archive_batch(dir, rows); });
    const core::RetentionRun& r = value_or_throw(run);
    print(json::object{{"cutoff", iso_millis(r.cutoff)},
                       {"older_than_days", r.older_than_days},
                       {"archived", r.archived},
                       {"archive_dir", std::filesystem::absolute(dir).string()},
                       {"files", json::array(r.files.begin(), r.files.end())}});
    exit_code = 0;
  });

  CLI::App* anonymise = admin->add_subcommand(
      "anonymise-user", "Account deletion: keep the user's proofs but remove their user id");
  anonymise->add_option("--user-id", f->user_id, "the user")->required();
  storage(anonymise);
  anonymise->callback([f, &exit_code] {
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    auto done = wiring.service().anonymise_user(cli_actor(), f->user_id);
    const core::Anonymised& a = value_or_throw(done);
    // The user id only as its SHA-256, as in the audit entry.
    print(json::object{{"user_id_sha256", a.user_id_sha256},
                       {"proofs_anonymised", a.proofs_anonymised}});
    exit_code = 0;
  });

  CLI::App* audit = admin->add_subcommand(
      "audit", "Export the audit trail as JSON lines with its hash chain, oldest first");
  CLI::App* audit_export = audit->add_subcommand(
      "export", "Export the audit trail (as `admin audit` with no subcommand)");
  for (CLI::App* c : {audit, audit_export}) {
    c->add_option(
        "--from", f->from,
        "from (inclusive), YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff]Z; default: the beginning");
    c->add_option("--to", f->to, "to (exclusive), same forms; default: now");
    c->add_option("--limit", f->limit, "at most this many entries (default 10000)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
    storage(c);
  }
  const auto export_audit = [f, &exit_code] {
    const core::UnixMillis from = f->from.empty() ? 0 : parse_iso(f->from, "--from");
    const core::UnixMillis to = f->to.empty() ? clock.now_ms() + 1 : parse_iso(f->to, "--to");
    Backends d = open(*f);
    AdminWiring wiring(d, clock);
    auto entries = wiring.service().export_audit(from, to, f->limit);
    for (const auto& entry : value_or_throw(entries)) std::cout << audit_line(entry) << '\n';
    std::cout << std::flush;
    exit_code = 0;
  };
  audit_export->callback(export_audit);
  audit->callback([audit, export_audit] {
    if (audit->get_subcommands().empty()) export_audit();
  });

  auto verify_file = std::make_shared<std::string>();
  auto anchor = std::make_shared<std::string>();
  auto head = std::make_shared<std::string>();
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Check an audit export offline: every hash, seq contiguity and prev links. Exit 0 intact, "
      "1 broken (names the first bad entry), 2 unreadable");
  verify->add_option("FILE", *verify_file, "the export (JSON lines); - reads stdin")->required();
  verify->add_option("--anchor", *anchor,
                     "the prev_hash the first entry must have (the hash before the export)");
  verify->add_option("--head", *head, "the hash the last entry must have (a published head)");
  verify->callback([verify_file, anchor, head, &exit_code] {
    exit_code = verify_audit_file(*verify_file, *anchor, *head);
  });

  add_admin_account_commands(
      *admin, exit_code, storage,
      [f] {
        RawSettings flags{{"data_dir", f->data_dir}};
        if (!f->database_url.empty()) flags["database_url"] = f->database_url;
        if (!f->master_key_file.empty()) flags["master_key_file"] = f->master_key_file;
        Settings s = resolve_settings(flags, std::nullopt);
        Backends b = open_backends(s, clock, /*with_cache=*/false);
        return std::pair{std::move(b), std::move(s)};
      },
      cli_actor);
}

}  // namespace pg::cli
