// x86-64 assembly for 4-limb fields: modular addition and subtraction with carry chains and
// cmov (any x86-64), and Montgomery multiplication with mulx/adcx/adox (BMI2 + ADX only): CIOS
// with two interleaved carry chains (CF for the high halves, OF for the low halves), the
// schedule of gnark-crypto's generated amd64 code (ePrint 2022/1400).
#pragma once

#include <cstdint>

#include "crypto/uint256.hpp"

namespace pg::crypto::detail {

#if defined(__x86_64__)
/// (a + b) mod m for a, b < m < 2^255.
[[gnu::always_inline]] inline Limbs add_mod_x86(const Limbs& a, const Limbs& b, const Limbs& m) noexcept {
  std::uint64_t s0 = a[0], s1 = a[1], s2 = a[2], s3 = a[3], t0, t1, t2, t3;
  __asm__(
      "addq 0(%[b]), %[s0]\n\t"
      "adcq 8(%[b]), %[s1]\n\t"
      "adcq 16(%[b]), %[s2]\n\t"
      "adcq 24(%[b]), %[s3]\n\t"
      "movq %[s0], %[t0]\n\t"
      "movq %[s1], %[t1]\n\t"
      "movq %[s2], %[t2]\n\t"
      "movq %[s3], %[t3]\n\t"
      "subq 0(%[m]), %[t0]\n\t"
      "sbbq 8(%[m]), %[t1]\n\t"
      "sbbq 16(%[m]), %[t2]\n\t"
      "sbbq 24(%[m]), %[t3]\n\t"
      // Borrow: the sum was below m, keep it.
      "cmovcq %[s0], %[t0]\n\t"
      "cmovcq %[s1], %[t1]\n\t"
      "cmovcq %[s2], %[t2]\n\t"
      "cmovcq %[s3], %[t3]\n\t"
      : [s0] "+&r"(s0), [s1] "+&r"(s1), [s2] "+&r"(s2), [s3] "+&r"(s3), [t0] "=&r"(t0),
        [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)
      : [b] "r"(b.data()), [m] "r"(m.data())
      : "cc", "memory");
  return {t0, t1, t2, t3};
}

/// (a - b) mod m for a, b < m.
[[gnu::always_inline]] inline Limbs sub_mod_x86(const Limbs& a, const Limbs& b, const Limbs& m) noexcept {
  std::uint64_t d0 = a[0], d1 = a[1], d2 = a[2], d3 = a[3], t0, t1, t2, t3, mask;
  __asm__(
      "subq 0(%[b]), %[d0]\n\t"
      "sbbq 8(%[b]), %[d1]\n\t"
      "sbbq 16(%[b]), %[d2]\n\t"
      "sbbq 24(%[b]), %[d3]\n\t"
      "sbbq %[mask], %[mask]\n\t"  // all ones when a < b
      "movq 0(%[m]), %[t0]\n\t"
      "movq 8(%[m]), %[t1]\n\t"
      "movq 16(%[m]), %[t2]\n\t"
      "movq 24(%[m]), %[t3]\n\t"
      "andq %[mask], %[t0]\n\t"
      "andq %[mask], %[t1]\n\t"
      "andq %[mask], %[t2]\n\t"
      "andq %[mask], %[t3]\n\t"
      "addq %[t0], %[d0]\n\t"
      "adcq %[t1], %[d1]\n\t"
      "adcq %[t2], %[d2]\n\t"
      "adcq %[t3], %[d3]\n\t"
      : [d0] "+&r"(d0), [d1] "+&r"(d1), [d2] "+&r"(d2), [d3] "+&r"(d3), [t0] "=&r"(t0),
        [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [mask] "=&r"(mask)
      : [b] "r"(b.data()), [m] "r"(m.data())
      : "cc", "memory");
  return {d0, d1, d2, d3};
}

[[gnu::always_inline]] inline Limbs mont_mul_adx(const Limbs& a, const Limbs& b, const Limbs& m,
                          std::uint64_t inv) noexcept {
  std::uint64_t t0, t1, t2, t3, hi;
  __asm__(
      // k = 0: t = a * b[0], then reduce
      "movq 0(%[b]), %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[a]), %[t0], %[t1]\n\t"
      "mulxq 8(%[a]), %%rax, %[t2]\n\t"
      "adoxq %%rax, %[t1]\n\t"
      "mulxq 16(%[a]), %%rax, %[t3]\n\t"
      "adoxq %%rax, %[t2]\n\t"
      "mulxq 24(%[a]), %%rax, %[hi]\n\t"
      "adoxq %%rax, %[t3]\n\t"
      "movl $0, %%eax\n\t"
      "adoxq %%rax, %[hi]\n\t"
      "movq %[inv], %%rdx\n\t"
      "imulq %[t0], %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t0], %%rax\n\t"
      "movq %%rbx, %[t0]\n\t"
      "mulxq 8(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t1], %[t0]\n\t"
      "adoxq %%rax, %[t0]\n\t"
      "movq %%rbx, %[t1]\n\t"
      "mulxq 16(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t2], %[t1]\n\t"
      "adoxq %%rax, %[t1]\n\t"
      "movq %%rbx, %[t2]\n\t"
      "mulxq 24(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t3], %[t2]\n\t"
      "adoxq %%rax, %[t2]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %%rbx\n\t"
      "adoxq %[hi], %%rbx\n\t"
      "movq %%rbx, %[t3]\n\t"
      // k = 1: t += a * b[1] (carry word in hi), then reduce: q = t0 * inv, t = (t + q*m) / 2^64
      "movq 8(%[b]), %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[a]), %%rax, %[hi]\n\t"
      "adoxq %%rax, %[t0]\n\t"
      "mulxq 8(%[a]), %%rax, %%rbx\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "adoxq %%rax, %[t1]\n\t"
      "mulxq 16(%[a]), %%rax, %[hi]\n\t"
      "adcxq %%rbx, %[t2]\n\t"
      "adoxq %%rax, %[t2]\n\t"
      "mulxq 24(%[a]), %%rax, %%rbx\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "adoxq %%rax, %[t3]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %%rbx\n\t"
      "adoxq %%rax, %%rbx\n\t"
      "movq %%rbx, %[hi]\n\t"
      "movq %[inv], %%rdx\n\t"
      "imulq %[t0], %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t0], %%rax\n\t"
      "movq %%rbx, %[t0]\n\t"
      "mulxq 8(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t1], %[t0]\n\t"
      "adoxq %%rax, %[t0]\n\t"
      "movq %%rbx, %[t1]\n\t"
      "mulxq 16(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t2], %[t1]\n\t"
      "adoxq %%rax, %[t1]\n\t"
      "movq %%rbx, %[t2]\n\t"
      "mulxq 24(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t3], %[t2]\n\t"
      "adoxq %%rax, %[t2]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %%rbx\n\t"
      "adoxq %[hi], %%rbx\n\t"
      "movq %%rbx, %[t3]\n\t"
      // k = 2: t += a * b[2] (carry word in hi), then reduce: q = t0 * inv, t = (t + q*m) / 2^64
      "movq 16(%[b]), %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[a]), %%rax, %[hi]\n\t"
      "adoxq %%rax, %[t0]\n\t"
      "mulxq 8(%[a]), %%rax, %%rbx\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "adoxq %%rax, %[t1]\n\t"
      "mulxq 16(%[a]), %%rax, %[hi]\n\t"
      "adcxq %%rbx, %[t2]\n\t"
      "adoxq %%rax, %[t2]\n\t"
      "mulxq 24(%[a]), %%rax, %%rbx\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "adoxq %%rax, %[t3]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %%rbx\n\t"
      "adoxq %%rax, %%rbx\n\t"
      "movq %%rbx, %[hi]\n\t"
      "movq %[inv], %%rdx\n\t"
      "imulq %[t0], %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t0], %%rax\n\t"
      "movq %%rbx, %[t0]\n\t"
      "mulxq 8(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t1], %[t0]\n\t"
      "adoxq %%rax, %[t0]\n\t"
      "movq %%rbx, %[t1]\n\t"
      "mulxq 16(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t2], %[t1]\n\t"
      "adoxq %%rax, %[t1]\n\t"
      "movq %%rbx, %[t2]\n\t"
      "mulxq 24(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t3], %[t2]\n\t"
      "adoxq %%rax, %[t2]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %%rbx\n\t"
      "adoxq %[hi], %%rbx\n\t"
      "movq %%rbx, %[t3]\n\t"
      // k = 3: t += a * b[3] (carry word in hi), then reduce: q = t0 * inv, t = (t + q*m) / 2^64
      "movq 24(%[b]), %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[a]), %%rax, %[hi]\n\t"
      "adoxq %%rax, %[t0]\n\t"
      "mulxq 8(%[a]), %%rax, %%rbx\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "adoxq %%rax, %[t1]\n\t"
      "mulxq 16(%[a]), %%rax, %[hi]\n\t"
      "adcxq %%rbx, %[t2]\n\t"
      "adoxq %%rax, %[t2]\n\t"
      "mulxq 24(%[a]), %%rax, %%rbx\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "adoxq %%rax, %[t3]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %%rbx\n\t"
      "adoxq %%rax, %%rbx\n\t"
      "movq %%rbx, %[hi]\n\t"
      "movq %[inv], %%rdx\n\t"
      "imulq %[t0], %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t0], %%rax\n\t"
      "movq %%rbx, %[t0]\n\t"
      "mulxq 8(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t1], %[t0]\n\t"
      "adoxq %%rax, %[t0]\n\t"
      "movq %%rbx, %[t1]\n\t"
      "mulxq 16(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t2], %[t1]\n\t"
      "adoxq %%rax, %[t1]\n\t"
      "movq %%rbx, %[t2]\n\t"
      "mulxq 24(%[m]), %%rax, %%rbx\n\t"
      "adcxq %[t3], %[t2]\n\t"
      "adoxq %%rax, %[t2]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %%rbx\n\t"
      "adoxq %[hi], %%rbx\n\t"
      "movq %%rbx, %[t3]\n\t"
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [hi] "=&r"(hi)
      : [a] "r"(a.data()), [b] "r"(b.data()), [m] "r"(m.data()), [inv] "m"(inv)
      : "rax", "rbx", "rdx", "cc", "memory");
  const Limbs r{t0, t1, t2, t3};
  std::uint64_t borrow = 0;
  const Limbs s = sub_limbs(r, m, borrow);
  return borrow ? r : s;
}
#else
[[gnu::always_inline]] inline Limbs mont_mul_adx(const Limbs& a, const Limbs& b, const Limbs& m,
                          std::uint64_t inv) noexcept {
  return mont_mul_portable(a, b, m, inv);
}
#endif

}  // namespace pg::crypto::detail
