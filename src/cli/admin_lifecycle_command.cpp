// `proofgate admin approvals|approve|cancel-approval|circuits|request-enable|disable-circuit|
// deprecate-circuit|set-min-version|upload-circuit`: the two-person rule and the circuit lifecycle
// from a shell, each a call of core::LifecycleService (docs/admin.md "Approvals",
// docs/circuits.md). The actor is the OS account; `--as NAME` (tests only, with
// PROOFGATE_ALLOW_AS=1) acts as another CLI admin so that a test can be two people on one machine.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "cli/backends.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/upload_circuit.hpp"
#include "core/lifecycle.hpp"
#include "core/release_signature.hpp"
#include "core/service.hpp"
#include "http/lifecycle_api.hpp"

namespace pg::cli {

namespace json = boost::json;

namespace {

struct LifecycleFlags {
  std::string data_dir = "./data", database_url, master_key_file;
  std::string id, state, acting_as, claim_type, version, sunset, successor, client_id;
  std::string dir, artifacts_dir, release_public_keys;
  bool insecure_development_keys = false;
  std::size_t limit = 100;
};

core::Actor actor_of(const LifecycleFlags& f) {
  std::string os;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    os = pw->pw_name;
  } else {
    os = "uid:" + std::to_string(geteuid());
  }
  if (f.acting_as.empty()) return {std::string(core::kActorAdminCli), os};
  const char* allowed = std::getenv("PROOFGATE_ALLOW_AS");
  if (allowed == nullptr || std::string_view(allowed) != "1")
    throw std::runtime_error("--as: for tests only; set PROOFGATE_ALLOW_AS=1 to use it");
  return {std::string(core::kActorAdminCli), f.acting_as};
}

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

/// Opens the storage and runs `work` with the lifecycle use cases of this process (no catalog:
/// the server decides which versions it loads) and the resolved settings.
void with_lifecycle(const LifecycleFlags& f,
                    const std::function<void(core::LifecycleService&, const Settings&)>& work);
void with_lifecycle(const LifecycleFlags& f,
                    const std::function<void(core::LifecycleService&)>& work) {
  with_lifecycle(f, [&](core::LifecycleService& s, const Settings&) { work(s); });
}
void with_lifecycle(const LifecycleFlags& f,
                    const std::function<void(core::LifecycleService&, const Settings&)>& work) {
  RawSettings flags{{"data_dir", f.data_dir}};
  if (!f.database_url.empty()) flags["database_url"] = f.database_url;
  if (!f.master_key_file.empty()) flags["master_key_file"] = f.master_key_file;
  static const core::SystemClock clock;
  const Settings s = resolve_settings(flags, std::nullopt);
  Backends d = open_backends(s, clock, /*with_cache=*/false);
  core::LifecycleService service({*d.lifecycle, *d.store, nullptr, clock, nullptr, {}, {}},
                                 {static_cast<std::int64_t>(s.approval_ttl_seconds)});
  work(service, s);
}

}  // namespace

void add_admin_lifecycle_commands(CLI::App& admin, int& exit_code) {
  auto f = std::make_shared<LifecycleFlags>();
  const auto storage = [f](CLI::App* c) {
    c->add_option("--data-dir", f->data_dir,
                  "data directory of the embedded default (default ./data)");
    c->add_option("--database-url", f->database_url, "PostgreSQL URL (production storage)");
    c->add_option("--master-key-file", f->master_key_file,
                  "the deployment's master key (default <data-dir>/master.key)");
  };
  const auto acting = [f](CLI::App* c) {
    c->add_option("--as", f->acting_as,
                  "TESTS ONLY (needs PROOFGATE_ALLOW_AS=1): act as this CLI admin, not the OS "
                  "account");
  };
  const auto circuit = [f](CLI::App* c) {
    c->add_option("--claim-type", f->claim_type, "claim type")->required();
    c->add_option("--version", f->version, "version MAJOR.MINOR.PATCH")->required();
  };

  CLI::App* list = admin.add_subcommand("approvals", "List actions waiting for a second admin");
  list->add_option("--state", f->state, "pending, approved, expired or cancelled (default all)");
  list->add_option("--limit", f->limit, "at most this many (default 100)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000}));
  storage(list);
  list->callback([f, &exit_code] {
    with_lifecycle(*f, [&](core::LifecycleService& s) {
      auto found = s.list_approvals(f->state, f->limit);
      json::array items;
      for (const auto& a : value_or_throw(found)) items.push_back(http::approval_json(a));
      print(json::object{{"approvals", items}});
    });
    exit_code = 0;
  });

  CLI::App* approve =
      admin.add_subcommand("approve",
                           "Approve another admin's pending action; the last approval it needs "
                           "(two for request-enable, else one) carries it out");
  approve->add_option("id", f->id, "the pending action's id")->required();
  acting(approve);
  storage(approve);
  approve->callback([f, &exit_code] {
    with_lifecycle(*f, [&](core::LifecycleService& s) {
      auto done = s.approve(actor_of(*f), f->id);
      print(http::approval_json(value_or_throw(done)));
    });
    exit_code = 0;
  });

  CLI::App* cancel = admin.add_subcommand("cancel-approval", "Cancel a pending action");
  cancel->add_option("id", f->id, "the pending action's id")->required();
  acting(cancel);
  storage(cancel);
  cancel->callback([f, &exit_code] {
    with_lifecycle(*f, [&](core::LifecycleService& s) {
      auto done = s.cancel(actor_of(*f), f->id);
      print(http::approval_json(value_or_throw(done)));
    });
    exit_code = 0;
  });

  CLI::App* circuits = admin.add_subcommand(
      "circuits", "List circuit versions with a lifecycle row and who used them");
  storage(circuits);
  circuits->callback([f, &exit_code] {
    with_lifecycle(*f, [&](core::LifecycleService& s) {
      json::array items;
      for (const auto& l : s.list_circuits()) {
        json::object o = http::circuit_state_json(l.state);
        json::array partners;
        for (const auto& [client_id, proofs] : l.partners)
          partners.push_back(json::object{{"client_id", client_id}, {"proofs", proofs}});
        o["partners"] = partners;
        items.push_back(o);
      }
      print(json::object{{"circuits", items}});
    });
    exit_code = 0;
  });

  CLI::App* enable = admin.add_subcommand(
      "request-enable", "Ask to enable a circuit version: two other admins must approve it");
  circuit(enable);
  acting(enable);
  storage(enable);
  enable->callback([f, &exit_code] {
    with_lifecycle(*f, [&](core::LifecycleService& s) {
      auto pending = s.request_enable(actor_of(*f), f->claim_type, f->version);
      print(http::approval_json(value_or_throw(pending)));
    });
    exit_code = 0;
  });

  CLI::App* disable = admin.add_subcommand(
      "disable-circuit", "Disable a circuit version at once and tell every partner (emergency)");
  circuit(disable);
  acting(disable);
  storage(disable);
  disable->callback([f, &exit_code] {
    with_lifecycle(*f, [&](core::LifecycleService& s) {
      auto state = s.disable(actor_of(*f), f->claim_type, f->version);
      print(http::circuit_state_json(value_or_throw(state)));
    });
    exit_code = 0;
  });

  CLI::App* deprecate = admin.add_subcommand(
      "deprecate-circuit", "Deprecate a circuit version: it stops verifying at its sunset");
  circuit(deprecate);
  deprecate->add_option("--sunset", f->sunset, "when it stops verifying, YYYY-MM-DDTHH:MM:SSZ")
      ->required();
  deprecate->add_option("--successor", f->successor, "the version partners should move to");
  acting(deprecate);
  storage(deprecate);
  deprecate->callback([f, &exit_code] {
    const auto sunset = core::parse_utc_time(f->sunset);
    if (!sunset)
      throw std::runtime_error("--sunset: '" + f->sunset + "' is not YYYY-MM-DDTHH:MM:SSZ");
    with_lifecycle(*f, [&](core::LifecycleService& s) {
      auto state = s.deprecate(actor_of(*f), f->claim_type, f->version, *sunset, f->successor);
      print(http::circuit_state_json(value_or_throw(state)));
    });
    exit_code = 0;
  });

  CLI::App* minimum = admin.add_subcommand(
      "set-min-version",
      "Set a partner's oldest accepted version of a claim type (no --version: remove it)");
  minimum->add_option("--client-id", f->client_id, "the partner")->required();
  minimum->add_option("--claim-type", f->claim_type, "claim type")->required();
  minimum->add_option("--version", f->version, "the oldest version it accepts, MAJOR.MINOR.PATCH");
  acting(minimum);
  storage(minimum);
  minimum->callback([f, &exit_code] {
    with_lifecycle(*f, [&](core::LifecycleService& s) {
      auto set = s.set_min_version(actor_of(*f), f->client_id, f->claim_type, f->version);
      print(http::min_versions_json(f->client_id, value_or_throw(set)));
    });
    exit_code = 0;
  });

  CLI::App* upload = admin.add_subcommand(
      "upload-circuit",
      "Check a circuit version's files and store them in the artifacts directory as uploaded");
  upload
      ->add_option("--dir", f->dir,
                   "the version's folder (manifest.json, verification_key.json, "
                   "circuit.wasm, circuit.zkey[, transcript.json, manifest.sig])")
      ->required();
  upload->add_option("--artifacts-dir", f->artifacts_dir,
                     "where the server loads versions from (default: the artifacts_dir setting)");
  upload->add_option("--release-public-keys", f->release_public_keys,
                     "release keys manifest.sig must verify under (default: the "
                     "release_public_keys setting, as the server's)");
  upload->add_flag("--insecure-development-keys", f->insecure_development_keys,
                   "DEVELOPMENT/TESTS ONLY: accept a development key (as serve --demo; also "
                   "the insecure_development_keys setting)");
  acting(upload);
  storage(upload);
  upload->callback([f, &exit_code] {
    with_lifecycle(*f, [&](core::LifecycleService& s, const Settings& settings) {
      UploadRequest u;
      u.dir = f->dir;
      u.artifacts_dir = f->artifacts_dir.empty() ? settings.artifacts_dir : f->artifacts_dir;
      // The server's key policy: its settings (environment, config file), unless the flags say.
      const bool development = f->insecure_development_keys || settings.insecure_development_keys;
      if (development && !settings.database_url.empty())
        throw std::runtime_error("--insecure-development-keys: refused in production mode");
      u.policy.allow_development_keys = development;
      const std::string& release_keys =
          f->release_public_keys.empty() ? settings.release_public_keys : f->release_public_keys;
      auto keys = core::parse_release_keys(release_keys);
      if (!keys) throw std::runtime_error("--release-public-keys: " + keys.error());
      u.policy.release_keys = *keys;
      print(upload_circuit(u, s, actor_of(*f)));
    });
    exit_code = 0;
  });
}

}  // namespace pg::cli
