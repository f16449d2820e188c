// Admin roles, ordered: each can do everything the one before it can.
#pragma once

#include <optional>
#include <string_view>

namespace pg::core {

/// viewer: read; operator: + partner and delivery changes; approver: + approving pending actions.
enum class Role { kViewer = 1, kOperator = 2, kApprover = 3 };

constexpr std::string_view role_name(Role r) noexcept {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kApprover:
      return "approver";
  }
  return "viewer";
}

constexpr std::optional<Role> role_from_name(std::string_view name) noexcept {
  if (name == "viewer") return Role::kViewer;
  if (name == "operator") return Role::kOperator;
  if (name == "approver") return Role::kApprover;
  return std::nullopt;
}

/// True when `held` is at least `needed`.
constexpr bool role_allows(Role held, Role needed) noexcept {
  return static_cast<int>(held) >= static_cast<int>(needed);
}

}  // namespace pg::core
