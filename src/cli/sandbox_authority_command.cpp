// `proofgate sandbox-authority`: runs a stand-in for MOHA's, TU's or NRB/IRD's system (the adapter
// protocol of docs/issuers.md over mutual TLS) until SIGTERM/SIGINT. TESTS AND DEMOS ONLY.
#include <csignal>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "authority/server.hpp"
#include "cli/commands.hpp"
#include "log/log.hpp"

namespace pg::cli {

namespace {

struct SandboxFlags {
  std::string kind;
  std::string listen;
  std::string data_dir;
  std::size_t records = 1000;
  std::string ca, cert, key;
};

std::optional<issuer::AuthorityKind> parse_kind(std::string_view name) {
  if (name == "moha") return issuer::AuthorityKind::kMoha;
  if (name == "tu") return issuer::AuthorityKind::kTu;
  if (name == "nrb") return issuer::AuthorityKind::kNrb;
  return std::nullopt;
}

int run_sandbox_authority(const SandboxFlags& f) {
  log::init(log::Level::kInfo);
  const std::optional<issuer::AuthorityKind> kind = parse_kind(f.kind);
  if (!kind) {
    std::cerr << "--kind: must be moha, tu or nrb\n";
    return kExitMalformed;
  }
  const auto colon = f.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    std::cerr << "--listen: must be HOST:PORT\n";
    return kExitMalformed;
  }
  std::string host = f.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = f.listen.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port_text) > 65535) {
    std::cerr << "--listen: the port must be 0 to 65535\n";
    return kExitMalformed;
  }
  // Signals are taken by sigwait on this thread, blocked before the server's thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  authority::SandboxSettings s;
  s.kind = *kind;
  s.host = host;
  s.port = static_cast<std::uint16_t>(std::stoul(port_text));
  s.data_dir = f.data_dir;
  s.records = f.records;
  s.ca_file = f.ca;
  s.cert_file = f.cert;
  s.key_file = f.key;
  std::optional<authority::SandboxAuthority> server;
  try {
    server.emplace(std::move(s));
  } catch (const std::runtime_error& e) {
    std::cerr << e.what() << "\n";
    return kExitMalformed;
  }
  // The one line tests read to learn the port (port 0: any free one).
  std::cout << "{\"listening\":\"" << server->listening() << "\"}" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  server->stop();
  log::info("sandbox authority stopped");
  return 0;
}

}  // namespace

void add_sandbox_authority_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "sandbox-authority",
      "TESTS AND DEMOS ONLY: a stand-in authority (MOHA, TU or NRB/IRD) over mutual TLS");
  auto f = std::make_shared<SandboxFlags>();
  cmd->add_option("--kind", f->kind, "moha, tu or nrb")->required();
  cmd->add_option("--listen", f->listen, "HOST:PORT (port 0: any free port)")->required();
  cmd->add_option("--data-dir", f->data_dir, "records.json and sms/<record>.code go here")
      ->required();
  cmd->add_option("--records", f->records, "how many records to generate")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  cmd->add_option("--ca", f->ca, "CA certificate (PEM) client certificates must chain to")
      ->required();
  cmd->add_option("--cert", f->cert, "the authority's certificate chain (PEM)")->required();
  cmd->add_option("--key", f->key, "the authority's private key (PEM)")->required();
  cmd->callback([f, &exit_code] { exit_code = run_sandbox_authority(*f); });
}

}  // namespace pg::cli
