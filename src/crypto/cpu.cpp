// CPU feature detection for the field multiplication and Poseidon batch paths.
#include "crypto/cpu.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "crypto/poseidon_ifma.hpp"

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

bool cpu_supports_ifma() noexcept {
#if defined(__x86_64__)
  // CPUID leaf 7, sub-leaf 0: EBX bit 16 = AVX512F, bit 21 = AVX512IFMA, bit 31 = AVX512VL;
  // leaf 1 ECX bit 27 = OSXSAVE, and XCR0 bits 1, 2 (SSE, AVX state) and 5, 6, 7 (opmask, ZMM
  // upper halves, ZMM16-31) say the OS saves the AVX-512 registers (Intel SDM vol. 1 §15.2).
  if (!detail::kIfmaKernelCompiled) return false;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !((ecx >> 27) & 1)) return false;
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0xe6) != 0xe6) return false;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return ((ebx >> 16) & 1) && ((ebx >> 21) & 1) && ((ebx >> 31) & 1);
#else
  return false;
#endif
}

namespace detail {
bool g_use_adx = cpu_supports_adx();
bool g_use_ifma = cpu_supports_ifma();
}  // namespace detail

void set_adx_enabled(bool enabled) noexcept {
  detail::g_use_adx = enabled && cpu_supports_adx();
}

void set_ifma_enabled(bool enabled) noexcept {
  detail::g_use_ifma = enabled && cpu_supports_ifma();
}

}  // namespace pg::crypto
