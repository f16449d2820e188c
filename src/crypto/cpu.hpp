// Run-time choice of the arithmetic paths: mulx/adcx/adox when the CPU has BMI2 and ADX, the
// portable __int128 path otherwise; and AVX-512 IFMA for batches of Poseidon(2) hashes when the
// CPU has it, the scalar loop otherwise. Tests and benchmarks force either path to compare them.
#pragma once

namespace pg::crypto {

namespace detail {
extern bool g_use_adx;
extern bool g_use_ifma;
}  // namespace detail

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

/// True when batched Poseidon(2) (poseidon_batch.hpp) currently takes the AVX-512 IFMA path.
inline bool cpu_has_ifma() noexcept {
  return detail::g_use_ifma;
}

/// True when this CPU and OS support AVX-512 F, VL and IFMA and the IFMA kernel was compiled in.
bool cpu_supports_ifma() noexcept;

/// Selects the batch path: false forces the scalar loop; true uses IFMA if (and only if)
/// cpu_supports_ifma(). Not thread-safe, like set_adx_enabled.
void set_ifma_enabled(bool enabled) noexcept;

}  // namespace pg::crypto
