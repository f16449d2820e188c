// How both adapters map a circuit_versions row to core::CircuitState, and back to its enabled
// column (src/store/*/migrations: 0010 on SQLite, 0009 on PostgreSQL).
#pragma once

#include <string>
#include <string_view>

#include "core/lifecycle.hpp"

namespace pg::store::lifecycle_rows {

/// The enabled column for a state: on for enabled and deprecated.
inline bool enabled_column(std::string_view state) {
  return state == core::kCircuitEnabled || state == core::kCircuitDeprecated;
}

/// A row with no state (only set_circuit_enabled wrote it) reads as enabled/disabled by its
/// enabled column; an enabled or deprecated version that set_circuit_enabled switched off reads
/// as disabled (the emergency switch wins). Switching an uploaded or disabled version on with
/// set_circuit_enabled does not enable it: that needs the approval.
inline core::CircuitState circuit_state(std::string claim_type, std::string version, bool enabled,
                                        std::string state, core::UnixMillis sunset_at,
                                        std::string successor, core::UnixMillis deprecated_at,
                                        core::UnixMillis updated_at) {
  core::CircuitState s;
  s.claim_type = std::move(claim_type);
  s.version = std::move(version);
  if (state.empty()) {
    s.state = std::string(enabled ? core::kCircuitEnabled : core::kCircuitDisabled);
  } else if (!enabled && enabled_column(state)) {
    s.state = std::string(core::kCircuitDisabled);
  } else {
    s.state = std::move(state);
  }
  s.sunset_at = sunset_at;
  s.successor = std::move(successor);
  s.deprecated_at = deprecated_at;
  s.updated_at = updated_at;
  return s;
}

}  // namespace pg::store::lifecycle_rows
