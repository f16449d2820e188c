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
[[gnu::always_inline]] inline Limbs add_mod_x86(const Limbs& a, const Limbs& b,
                                                const Limbs& m) noexcept {
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
[[gnu::always_inline]] inline Limbs sub_mod_x86(const Limbs& a, const Limbs& b,
                                                const Limbs& m) noexcept {
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
      // Final conditional subtraction: t - m unless that borrows.
      "movq %[t0], %%rax\n\t"
      "movq %[t1], %%rbx\n\t"
      "movq %[t2], %%rdx\n\t"
      "movq %[t3], %[hi]\n\t"
      "subq 0(%[m]), %%rax\n\t"
      "sbbq 8(%[m]), %%rbx\n\t"
      "sbbq 16(%[m]), %%rdx\n\t"
      "sbbq 24(%[m]), %[hi]\n\t"
      "cmovncq %%rax, %[t0]\n\t"
      "cmovncq %%rbx, %[t1]\n\t"
      "cmovncq %%rdx, %[t2]\n\t"
      "cmovncq %[hi], %[t3]\n\t"
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [hi] "=&r"(hi)
      : [a] "r"(a.data()), [b] "r"(b.data()), [m] "r"(m.data()), [inv] "m"(inv)
      : "rax", "rbx", "rdx", "cc", "memory");
  return {t0, t1, t2, t3};
}

/// The 512-bit product a * b (schoolbook with mulx and two carry chains); a and b may be any
/// 256-bit integers (the tower passes unreduced sums below 2p).
[[gnu::always_inline]] inline void mul_wide_adx_into(const std::uint64_t* a, const std::uint64_t* b,
                                                     std::uint64_t* out) noexcept {
  std::uint64_t q0, q1, q2, q3, q4;
  // volatile: the product is written through `out`, which the outputs do not show.
  __asm__ volatile(
      "movq 0(%[b]), %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[a]), %[q0], %[q1]\n\t"
      "mulxq 8(%[a]), %%rax, %[q2]\n\t"
      "adcxq %%rax, %[q1]\n\t"
      "mulxq 16(%[a]), %%rax, %[q3]\n\t"
      "adcxq %%rax, %[q2]\n\t"
      "mulxq 24(%[a]), %%rax, %[q4]\n\t"
      "adcxq %%rax, %[q3]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %[q4]\n\t"
      "movq %[q0], 0(%[out])\n\t"
      "movq 8(%[b]), %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[a]), %%rax, %%rbx\n\t"
      "adoxq %%rax, %[q1]\n\t"
      "adcxq %%rbx, %[q2]\n\t"
      "mulxq 8(%[a]), %%rax, %%rbx\n\t"
      "adoxq %%rax, %[q2]\n\t"
      "adcxq %%rbx, %[q3]\n\t"
      "mulxq 16(%[a]), %%rax, %%rbx\n\t"
      "adoxq %%rax, %[q3]\n\t"
      "adcxq %%rbx, %[q4]\n\t"
      "mulxq 24(%[a]), %%rax, %[q0]\n\t"
      "adoxq %%rax, %[q4]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %[q0]\n\t"
      "adoxq %%rax, %[q0]\n\t"
      "movq %[q1], 8(%[out])\n\t"
      "movq 16(%[b]), %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[a]), %%rax, %%rbx\n\t"
      "adoxq %%rax, %[q2]\n\t"
      "adcxq %%rbx, %[q3]\n\t"
      "mulxq 8(%[a]), %%rax, %%rbx\n\t"
      "adoxq %%rax, %[q3]\n\t"
      "adcxq %%rbx, %[q4]\n\t"
      "mulxq 16(%[a]), %%rax, %%rbx\n\t"
      "adoxq %%rax, %[q4]\n\t"
      "adcxq %%rbx, %[q0]\n\t"
      "mulxq 24(%[a]), %%rax, %[q1]\n\t"
      "adoxq %%rax, %[q0]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %[q1]\n\t"
      "adoxq %%rax, %[q1]\n\t"
      "movq %[q2], 16(%[out])\n\t"
      "movq 24(%[b]), %%rdx\n\t"
      "xorl %%eax, %%eax\n\t"
      "mulxq 0(%[a]), %%rax, %%rbx\n\t"
      "adoxq %%rax, %[q3]\n\t"
      "adcxq %%rbx, %[q4]\n\t"
      "mulxq 8(%[a]), %%rax, %%rbx\n\t"
      "adoxq %%rax, %[q4]\n\t"
      "adcxq %%rbx, %[q0]\n\t"
      "mulxq 16(%[a]), %%rax, %%rbx\n\t"
      "adoxq %%rax, %[q0]\n\t"
      "adcxq %%rbx, %[q1]\n\t"
      "mulxq 24(%[a]), %%rax, %[q2]\n\t"
      "adoxq %%rax, %[q1]\n\t"
      "movl $0, %%eax\n\t"
      "adcxq %%rax, %[q2]\n\t"
      "adoxq %%rax, %[q2]\n\t"
      "movq %[q3], 24(%[out])\n\t"
      "movq %[q4], 32(%[out])\n\t"
      "movq %[q0], 40(%[out])\n\t"
      "movq %[q1], 48(%[out])\n\t"
      "movq %[q2], 56(%[out])\n\t"
      : [q0] "=&r"(q0), [q1] "=&r"(q1), [q2] "=&r"(q2), [q3] "=&r"(q3), [q4] "=&r"(q4)
      : [a] "r"(a), [b] "r"(b), [out] "r"(out)
      : "rax", "rbx", "rdx", "cc", "memory");
}

[[gnu::always_inline]] inline Wide mul_wide_adx(const Limbs& a, const Limbs& b) noexcept {
  Wide out;
  mul_wide_adx_into(a.data(), b.data(), out.data());
  return out;
}

/// Montgomery reduction w / 2^256 mod m of a 512-bit w < m * 2^256, result below m.
[[gnu::always_inline]] inline Limbs mont_reduce_adx_from(const std::uint64_t* w, const Limbs& m,
                                                         std::uint64_t inv) noexcept {
  std::uint64_t t0, t1, t2, t3, hi;
  __asm__(
      "movq 0(%[w]), %[t0]\n\t"
      "movq 8(%[w]), %[t1]\n\t"
      "movq 16(%[w]), %[t2]\n\t"
      "movq 24(%[w]), %[t3]\n\t"
      "xorl %k[hi], %k[hi]\n\t"
      // word 0: t = (t + hi 2^256 + q m) / 2^64, then t3 += w[4] with the carry in hi
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
      "xorl %k[hi], %k[hi]\n\t"
      "addq 32(%[w]), %[t3]\n\t"
      "adcq $0, %[hi]\n\t"
      // word 1: t = (t + hi 2^256 + q m) / 2^64, then t3 += w[5] with the carry in hi
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
      "xorl %k[hi], %k[hi]\n\t"
      "addq 40(%[w]), %[t3]\n\t"
      "adcq $0, %[hi]\n\t"
      // word 2: t = (t + hi 2^256 + q m) / 2^64, then t3 += w[6] with the carry in hi
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
      "xorl %k[hi], %k[hi]\n\t"
      "addq 48(%[w]), %[t3]\n\t"
      "adcq $0, %[hi]\n\t"
      // word 3: t = (t + hi 2^256 + q m) / 2^64, then t3 += w[7] with the carry in hi
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
      "xorl %k[hi], %k[hi]\n\t"
      "addq 56(%[w]), %[t3]\n\t"
      "adcq $0, %[hi]\n\t"
      // Final conditional subtraction: t - m unless that borrows.
      "movq %[t0], %%rax\n\t"
      "movq %[t1], %%rbx\n\t"
      "movq %[t2], %%rdx\n\t"
      "movq %[t3], %[hi]\n\t"
      "subq 0(%[m]), %%rax\n\t"
      "sbbq 8(%[m]), %%rbx\n\t"
      "sbbq 16(%[m]), %%rdx\n\t"
      "sbbq 24(%[m]), %[hi]\n\t"
      "cmovncq %%rax, %[t0]\n\t"
      "cmovncq %%rbx, %[t1]\n\t"
      "cmovncq %%rdx, %[t2]\n\t"
      "cmovncq %[hi], %[t3]\n\t"
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [hi] "=&r"(hi)
      : [w] "r"(w), [m] "r"(m.data()), [inv] "m"(inv)
      : "rax", "rbx", "rdx", "cc", "memory");
  return {t0, t1, t2, t3};
}

[[gnu::always_inline]] inline Limbs mont_reduce_adx(const Wide& w, const Limbs& m,
                                                    std::uint64_t inv) noexcept {
  return mont_reduce_adx_from(w.data(), m, inv);
}

/// d -= s for 512-bit integers in memory (callers guarantee no borrow out).
[[gnu::always_inline]] inline void sub_wide_in_place(std::uint64_t* d,
                                                     const std::uint64_t* s) noexcept {
  __asm__ volatile(
      "movq 0(%[d]), %%rax\n\t"
      "subq 0(%[s]), %%rax\n\t"
      "movq %%rax, 0(%[d])\n\t"
      "movq 8(%[d]), %%rax\n\t"
      "sbbq 8(%[s]), %%rax\n\t"
      "movq %%rax, 8(%[d])\n\t"
      "movq 16(%[d]), %%rax\n\t"
      "sbbq 16(%[s]), %%rax\n\t"
      "movq %%rax, 16(%[d])\n\t"
      "movq 24(%[d]), %%rax\n\t"
      "sbbq 24(%[s]), %%rax\n\t"
      "movq %%rax, 24(%[d])\n\t"
      "movq 32(%[d]), %%rax\n\t"
      "sbbq 32(%[s]), %%rax\n\t"
      "movq %%rax, 32(%[d])\n\t"
      "movq 40(%[d]), %%rax\n\t"
      "sbbq 40(%[s]), %%rax\n\t"
      "movq %%rax, 40(%[d])\n\t"
      "movq 48(%[d]), %%rax\n\t"
      "sbbq 48(%[s]), %%rax\n\t"
      "movq %%rax, 48(%[d])\n\t"
      "movq 56(%[d]), %%rax\n\t"
      "sbbq 56(%[s]), %%rax\n\t"
      "movq %%rax, 56(%[d])\n\t"
      :
      : [d] "r"(d), [s] "r"(s)
      : "rax", "cc", "memory");
}

/// d -= s for 512-bit integers in memory, then d += m * 2^256 if that borrowed: the difference of
/// two products below m^2 kept in [0, m 2^256) for Montgomery reduction.
[[gnu::always_inline]] inline void sub_wide_mod_in_place(std::uint64_t* d, const std::uint64_t* s,
                                                         const Limbs& m) noexcept {
  __asm__ volatile(
      "movq 0(%[d]), %%rax\n\t"
      "subq 0(%[s]), %%rax\n\t"
      "movq %%rax, 0(%[d])\n\t"
      "movq 8(%[d]), %%rax\n\t"
      "sbbq 8(%[s]), %%rax\n\t"
      "movq %%rax, 8(%[d])\n\t"
      "movq 16(%[d]), %%rax\n\t"
      "sbbq 16(%[s]), %%rax\n\t"
      "movq %%rax, 16(%[d])\n\t"
      "movq 24(%[d]), %%rax\n\t"
      "sbbq 24(%[s]), %%rax\n\t"
      "movq %%rax, 24(%[d])\n\t"
      "movq 32(%[d]), %%rax\n\t"
      "sbbq 32(%[s]), %%rax\n\t"
      "movq %%rax, 32(%[d])\n\t"
      "movq 40(%[d]), %%rax\n\t"
      "sbbq 40(%[s]), %%rax\n\t"
      "movq %%rax, 40(%[d])\n\t"
      "movq 48(%[d]), %%rax\n\t"
      "sbbq 48(%[s]), %%rax\n\t"
      "movq %%rax, 48(%[d])\n\t"
      "movq 56(%[d]), %%rax\n\t"
      "sbbq 56(%[s]), %%rax\n\t"
      "movq %%rax, 56(%[d])\n\t"
      "sbbq %%rax, %%rax\n\t"
      "movq 0(%[m]), %%rbx\n\t"
      "movq 8(%[m]), %%rcx\n\t"
      "movq 16(%[m]), %%rdx\n\t"
      "movq 24(%[m]), %%rsi\n\t"
      "andq %%rax, %%rbx\n\t"
      "andq %%rax, %%rcx\n\t"
      "andq %%rax, %%rdx\n\t"
      "andq %%rax, %%rsi\n\t"
      "addq %%rbx, 32(%[d])\n\t"
      "adcq %%rcx, 40(%[d])\n\t"
      "adcq %%rdx, 48(%[d])\n\t"
      "adcq %%rsi, 56(%[d])\n\t"
      :
      : [d] "r"(d), [s] "r"(s), [m] "r"(m.data())
      : "rax", "rbx", "rcx", "rdx", "rsi", "cc", "memory");
}

/// (a0 + a1 u)(b0 + b1 u) in Fp2 = Fp[u]/(u^2 + 1) for Montgomery representations below m
/// (unlike mont_mul_adx, unreduced inputs below 2m are NOT allowed: c0's range argument needs
/// a0 b0, a1 b1 < m^2):
/// Karatsuba with three 512-bit products and two reductions, all in registers and one scratch
/// buffer (c0 = a0 b0 - a1 b1 + [m 2^256], c1 = (a0 + a1)(b0 + b1) - a0 b0 - a1 b1).
[[gnu::noinline]] inline void fp2_mul_adx(const Limbs& a0, const Limbs& a1, const Limbs& b0,
                                          const Limbs& b1, const Limbs& m, std::uint64_t inv,
                                          Limbs& c0, Limbs& c1) noexcept {
  alignas(64) std::uint64_t t[32];  // t0 | t1 | t2 | sa, sb
  std::uint64_t* sa = t + 24;
  std::uint64_t* sb = t + 28;
  std::uint64_t carry = 0;
  const Limbs sum_a = add_limbs(a0, a1, carry);
  const Limbs sum_b = add_limbs(b0, b1, carry);
  for (int i = 0; i < 4; ++i) sa[i] = sum_a[i], sb[i] = sum_b[i];
  mul_wide_adx_into(a0.data(), b0.data(), t);
  mul_wide_adx_into(a1.data(), b1.data(), t + 8);
  mul_wide_adx_into(sa, sb, t + 16);
  sub_wide_in_place(t + 16, t);
  sub_wide_in_place(t + 16, t + 8);
  sub_wide_mod_in_place(t, t + 8, m);
  c0 = mont_reduce_adx_from(t, m, inv);
  c1 = mont_reduce_adx_from(t + 16, m, inv);
}
#else
[[gnu::always_inline]] inline Limbs mont_mul_adx(const Limbs& a, const Limbs& b, const Limbs& m,
                                                 std::uint64_t inv) noexcept {
  return mont_mul_portable(a, b, m, inv);
}
inline Wide mul_wide_adx(const Limbs& a, const Limbs& b) noexcept {
  return mul_wide_portable(a, b);
}
inline void fp2_mul_adx(const Limbs&, const Limbs&, const Limbs&, const Limbs&, const Limbs&,
                        std::uint64_t, Limbs&, Limbs&) noexcept {}
inline Limbs mont_reduce_adx(const Wide& w, const Limbs& m, std::uint64_t inv) noexcept {
  return mont_reduce_portable(w, m, inv);
}
#endif

}  // namespace pg::crypto::detail
