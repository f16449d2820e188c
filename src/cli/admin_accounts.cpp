// Admin accounts for the composition root and the CLI (see admin_accounts.hpp).
#include "cli/admin_accounts.hpp"

#include <boost/json.hpp>
#include <iostream>
#include <stdexcept>

#include "core/service.hpp"

namespace pg::cli {

namespace json = boost::json;

std::unique_ptr<core::AccountService> account_service(const Backends& backends,
                                                      const core::Clock& clock,
                                                      const Settings& settings) {
  auto* accounts = dynamic_cast<core::AccountStore*>(backends.store);
  if (!accounts || !backends.audit)
    throw std::runtime_error("this storage does not provide admin accounts");
  core::AccountSettings a;
  a.public_url = settings.public_url;
  a.password_cost.memory_kib = static_cast<std::uint32_t>(settings.admin_password_memory_kib);
  if (settings.admin_session_idle_seconds)
    a.session_idle_ms = static_cast<std::int64_t>(settings.admin_session_idle_seconds) * 1000;
  if (settings.admin_session_max_seconds)
    a.session_absolute_ms = static_cast<std::int64_t>(settings.admin_session_max_seconds) * 1000;
  return std::make_unique<core::AccountService>(*accounts, *backends.audit, clock,
                                                backends.master_key, a);
}

namespace {
json::object admin_json(const core::AdminAccount& a) {
  return json::object{
      {"admin_id", a.id},
      {"email", a.email},
      {"role", a.role},
      {"status", a.status},
      {"totp_algorithm",
       a.status == core::kAdminInvited ? json::value(nullptr) : json::value(a.totp_algorithm)},
      {"locked_until",
       a.locked_until ? json::value(core::rfc3339(a.locked_until)) : json::value(nullptr)},
      {"created_at", core::rfc3339(a.created_at)}};
}

template <class T>
T& value_or_throw(core::Outcome<T>& result) {
  if (!result) {
    const std::string& field = result.error().field;
    throw std::runtime_error((field.empty() ? "" : "--" + field + ": ") + result.error().detail);
  }
  return result.value();
}
}  // namespace

void add_admin_account_commands(CLI::App& admin, int& exit_code,
                                const std::function<void(CLI::App*)>& storage,
                                std::function<std::pair<Backends, Settings>()> open,
                                std::function<core::Actor()> actor) {
  static const core::SystemClock clock;
  struct Flags {
    std::string email, role, who, public_url;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* create = admin.add_subcommand(
      "create-admin", "Invite an admin; prints a one-time enrolment link (valid 24 h)");
  create->add_option("--email", f->email, "the admin's email (their sign-in name)")->required();
  create->add_option("--role", f->role, "viewer, operator or approver")
      ->required()
      ->check(CLI::IsMember({"viewer", "operator", "approver"}));
  create->add_option("--public-url", f->public_url,
                     "the server's public base URL for the link (default: the public_url setting)");
  storage(create);
  create->callback([f, open, actor, &exit_code] {
    auto [backends, settings] = open();
    if (!f->public_url.empty()) settings.public_url = f->public_url;
    const auto service = account_service(backends, clock, settings);
    auto created = service->create_admin(actor(), f->email, f->role);
    const core::CreatedAdmin& c = value_or_throw(created);
    json::object out = admin_json(c.account);
    out["enrolment_link"] = c.enrolment_link;
    out["enrolment_expires_at"] = core::rfc3339(c.account.enrolment_expires_at);
    std::cout << json::serialize(out) << std::endl;
    exit_code = 0;
  });

  CLI::App* list = admin.add_subcommand("list-admins", "List admin accounts (never secrets)");
  storage(list);
  list->callback([open, &exit_code] {
    auto [backends, settings] = open();
    const auto service = account_service(backends, clock, settings);
    json::array items;
    for (const auto& a : service->list_admins()) items.push_back(admin_json(a));
    std::cout << json::serialize(json::object{{"admins", items}}) << std::endl;
    exit_code = 0;
  });

  CLI::App* disable =
      admin.add_subcommand("disable-admin", "Disable an admin account at once (its sessions end)");
  disable->add_option("--admin", f->who, "the admin's id or email")->required();
  storage(disable);
  disable->callback([f, open, actor, &exit_code] {
    auto [backends, settings] = open();
    const auto service = account_service(backends, clock, settings);
    auto disabled = service->disable_admin(actor(), f->who);
    std::cout << json::serialize(admin_json(value_or_throw(disabled))) << std::endl;
    exit_code = 0;
  });
}

}  // namespace pg::cli
