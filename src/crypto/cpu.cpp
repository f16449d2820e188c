// CPU feature detection for the field multiplication path.
#include "crypto/cpu.hpp"

namespace pg::crypto {

bool cpu_supports_adx() noexcept {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx");
#else
  return false;
#endif
}

namespace detail {
bool g_use_adx = cpu_supports_adx();
}

void set_adx_enabled(bool enabled) noexcept { detail::g_use_adx = enabled && cpu_supports_adx(); }

}  // namespace pg::crypto
