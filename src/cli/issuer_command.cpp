// `proofgate issuer serve`: one issuer node (docs/issuers.md) — its tree, store, signed root feed
// and admin API over HTTP, reading records from its authority over mutual TLS.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "calendar/bikram_sambat.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "core/secrets.hpp"
#include "http/admin.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"
#include "issuer/attributes.hpp"
#include "issuer/authority_client.hpp"
#include "issuer/http_routes.hpp"
#include "issuer/node.hpp"
#include "issuer/postgres/postgres_issuer_store.hpp"
#include "log/log.hpp"

namespace pg::cli {
namespace {

namespace fs = std::filesystem;
using Sha256 = std::array<std::uint8_t, 32>;

struct IssuerOptions {
  std::string issuer, listen = "127.0.0.1:8090", data_dir, authority_url, ca, cert, key;
  std::string admin_token_sha256, public_url;
};

std::optional<issuer::AuthorityKind> parse_kind(const std::string& name) {
  if (name == "moha") return issuer::AuthorityKind::kMoha;
  if (name == "tu") return issuer::AuthorityKind::kTu;
  if (name == "nrb") return issuer::AuthorityKind::kNrb;
  return std::nullopt;
}

/// 64 hex digits → the digest; nullopt for anything else.
std::optional<Sha256> parse_sha256_hex(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.size() != 64) return std::nullopt;
  Sha256 out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = core::hex_digit_value(text[2 * i]);
    const int lo = core::hex_digit_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return out;
}

/// The admin token's SHA-256: the flag, else <data-dir>/admin-token.sha256, else a new token
/// whose digest is stored there (0600) and which is printed once, to stdout.
std::optional<Sha256> admin_token_hash(const IssuerOptions& o) {
  if (!o.admin_token_sha256.empty()) {
    const auto hash = parse_sha256_hex(o.admin_token_sha256);
    if (!hash) std::cerr << "--admin-token-sha256: must be 64 hex digits" << std::endl;
    return hash;
  }
  const fs::path file = fs::path(o.data_dir) / "admin-token.sha256";
  if (fs::exists(file)) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const auto hash = parse_sha256_hex(text.str());
    if (!hash) std::cerr << file.string() << ": does not hold 64 hex digits" << std::endl;
    return hash;
  }
  const auto [token, hex] = http::new_admin_token();
  fs::create_directories(o.data_dir);
  fs::permissions(o.data_dir, fs::perms::owner_all, fs::perm_options::replace);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, hex.data(), hex.size()) != static_cast<ssize_t>(hex.size()) ||
      ::fsync(fd) != 0) {
    std::cerr << "cannot write " << file.string() << ": " << std::strerror(errno) << std::endl;
    if (fd >= 0) ::close(fd);
    return std::nullopt;
  }
  ::close(fd);
  std::cout << R"({"admin_token":")" << token << "\"}" << std::endl;
  return parse_sha256_hex(hex);
}

int serve_issuer(const IssuerOptions& o, const GivenFlags& given) {
  log::init(log::Level::kInfo);
  std::string database_url;
  try {
    database_url = given.resolve().database_url;
  } catch (const std::exception& e) {
    std::cerr << e.what() << std::endl;
    return kExitMalformed;
  }
  const std::optional<issuer::AuthorityKind> kind = parse_kind(o.issuer);
  if (!kind) {
    std::cerr << "--issuer: must be moha, tu or nrb" << std::endl;
    return kExitMalformed;
  }
  const std::size_t colon = o.listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      std::size_t used = 0;
      port = std::stoi(o.listen.substr(colon + 1), &used);
      if (used != o.listen.size() - colon - 1) port = -1;
    } catch (const std::exception&) {
      port = -1;
    }
  }
  if (port < 0 || port > 65535 || colon == 0) {
    std::cerr << "--listen: must be HOST:PORT" << std::endl;
    return kExitMalformed;
  }
  const std::optional<Sha256> token_hash = admin_token_hash(o);
  if (!token_hash) return kExitMalformed;

  issuer::AuthorityClientSettings client_settings;
  client_settings.url = o.authority_url;
  client_settings.kind = *kind;
  client_settings.ca_file = o.ca;
  client_settings.cert_file = o.cert;
  client_settings.key_file = o.key;
  try {
    issuer::MtlsAuthorityClient authority(client_settings);
    issuer::NodeSettings settings;
    settings.kind = *kind;
    settings.data_dir = o.data_dir;
    settings.public_url = o.public_url.empty() ? "http://" + o.listen : o.public_url;
    issuer::NodeDeps deps;
    deps.authority = &authority;
    deps.convert = issuer::credential_attributes;
    deps.today = [](std::int64_t unix_ms) { return calendar::nepal_yyyymmdd(unix_ms); };
    deps.now = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    // The adapter's breaker, for the admin stats (MtlsAuthorityClient::stats()).
    deps.breaker_state = [&authority] {
      return std::string(issuer::breaker_name(authority.stats().breaker));
    };
    deps.adapter_counters = [&authority] {
      const issuer::AuthorityClientStats st = authority.stats();
      return std::array<std::uint64_t, 3>{st.attempts, st.retries, st.fast_fails};
    };
    if (!database_url.empty()) {
      // PostgreSQL in production; the pepper and the signing key stay in the data directory.
      deps.open_store = [&]() -> std::unique_ptr<issuer::IssuerStore> {
        issuer::PostgresIssuerSettings ps;
        ps.url = database_url;
        ps.issuer = o.issuer;
        ps.issuer_id = issuer::issuer_id_of(*kind);
        try {
          return std::make_unique<issuer::PostgresIssuerStore>(ps);
        } catch (const std::exception& e) {
          throw std::runtime_error(std::string("database_url: ") + e.what());
        }
      };
    }
    issuer::IssuerNode node(settings, deps);
    log::info("issuer node storage",
              {{"issuer", o.issuer}, {"storage", database_url.empty() ? "sqlite" : "postgresql"}});

    http::ServerSettings server;
    server.host = o.listen.substr(0, colon);
    server.port = static_cast<unsigned short>(port);
    // A long poll holds a worker up to 30 s; the drain waits for them at shutdown.
    server.drain_timeout = std::chrono::seconds{31};
    // Each held long poll occupies a pool thread (asleep): the pool has room for every poll the
    // node holds and still keeps threads for enrolment, paths and the admin API (a client
    // opening many polls must not starve a revocation).
    server.workers = static_cast<unsigned>(settings.limits.max_feed_waiters) + 16;
    // ...but a stopping node answers its held polls at once rather than after their wait.
    server.on_shutdown = [&node] { node.stop_waiting(); };
    http::Metrics metrics;
    std::atomic<bool> stopping{false};
    http::run_server(
        server, issuer::issuer_handler(node, *token_hash), metrics, stopping,
        [&](const std::string& address) {
          std::cout << R"({"listening":")" << address << "\"}" << std::endl;
          log::info("issuer node listening", {{"address", address}, {"issuer", o.issuer}});
        });
    node.stop_waiting();
  } catch (const std::exception& e) {
    std::cerr << "issuer serve: " << e.what() << std::endl;
    return kExitInvalid;
  }
  log::info("stopped");
  return 0;
}

}  // namespace

/// `proofgate issuer serve --issuer moha|tu|nrb --listen H:P --data-dir D --authority-url U
/// --ca F --cert F --key F [--admin-token-sha256 HEX] [--public-url URL] [--database-url URL]
/// [--config F.toml]`: the settings table's `issuer serve` entries (database_url) come through
/// add_setting_flags like the verifier's.
void add_issuer_command(CLI::App& app, int& exit_code) {
  CLI::App* issuer = app.add_subcommand("issuer", "Run an issuer node (docs/issuers.md)");
  issuer->require_subcommand(1);
  CLI::App* serve = issuer->add_subcommand(
      "serve", "Serve one issuer's tree, signed root feed, enrolment and admin API");
  auto o = std::make_shared<IssuerOptions>();
  serve->add_option("--issuer", o->issuer, "moha | tu | nrb")->required();
  serve->add_option("--listen", o->listen, "HOST:PORT (port 0: any free port)");
  serve
      ->add_option("--data-dir", o->data_dir,
                   "Pepper, signing key, and the SQLite store unless --database-url (created 0700)")
      ->required();
  serve->add_option("--authority-url", o->authority_url, "https://host:port of the authority")
      ->required();
  serve->add_option("--ca", o->ca, "CA certificate (PEM) the authority's chains to")->required();
  serve->add_option("--cert", o->cert, "This node's client certificate (PEM)")->required();
  serve->add_option("--key", o->key, "This node's client key (PEM)")->required();
  serve->add_option("--admin-token-sha256", o->admin_token_sha256,
                    "SHA-256 (hex) of the admin token; default <data-dir>/admin-token.sha256");
  serve->add_option("--public-url", o->public_url,
                    "The URL credentials carry as issuer_url (default http://<listen>)");
  const std::shared_ptr<GivenFlags> given = add_setting_flags(*serve, kIssuerServe);
  serve->callback([o, given, &exit_code] { exit_code = serve_issuer(*o, *given); });
}

}  // namespace pg::cli
