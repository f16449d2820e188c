// Run-time choice of the multiplication path: mulx/adcx/adox when the CPU has BMI2 and ADX,
// the portable __int128 path otherwise. Tests and benchmarks force either path to compare them.
#pragma once

namespace pg::crypto {

namespace detail {
extern bool g_use_adx;
}

/// True when field multiplication currently takes the BMI2/ADX path.
inline bool cpu_has_adx() noexcept {
  return detail::g_use_adx;
}

/// True when this CPU supports BMI2 and ADX (what the path would be without an override).
bool cpu_supports_adx() noexcept;

/// Selects the multiplication path: `enabled` = false forces the portable path; true uses
/// BMI2/ADX if (and only if) the CPU supports it. Not thread-safe: call before any arithmetic
/// runs on other threads (tests, benchmarks, the CLI's --portable switch).
void set_adx_enabled(bool enabled) noexcept;

}  // namespace pg::crypto
