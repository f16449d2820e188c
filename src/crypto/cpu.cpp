// CPU feature detection for the field multiplication path.
#include "crypto/cpu.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace pg::crypto {

bool cpu_supports_adx() noexcept {
#if defined(__x86_64__)
  // CPUID leaf 7, sub-leaf 0: EBX bit 8 = BMI2 (mulx), bit 19 = ADX (adcx/adox).
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return ((ebx >> 8) & 1) && ((ebx >> 19) & 1);
#else
  return false;
#endif
}

namespace detail {
bool g_use_adx = cpu_supports_adx();
}

void set_adx_enabled(bool enabled) noexcept {
  detail::g_use_adx = enabled && cpu_supports_adx();
}

}  // namespace pg::crypto
