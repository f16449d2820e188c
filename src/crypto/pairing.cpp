// Miller loop, line functions and final exponentiation of the optimal ate pairing on BN254.
#include "crypto/pairing.hpp"

namespace pg::crypto {

namespace {

/// A G2 point (X : Y : Z) standing for (X/Z, Y/Z), the running point T of the Miller loop.
struct G2Homogeneous {
  Fp2 x, y, z;

  /// T = 2T; returns the tangent line at the old T (ePrint 2010/354 Alg. 26, D-type twist).
  LineCoeffs double_step() noexcept {
    const TowerConstants& k = tower_constants();
    const Fp2 a = (x * y).half();
    const Fp2 b = y.square();
    const Fp2 c = z.square();
    const Fp2 e = (c.dbl() + c) * k.twist_b;
    const Fp2 f = e.dbl() + e;
    const Fp2 g = (b + f).half();
    const Fp2 h = (y + z).square() - (b + c);
    const Fp2 i = e - b;
    const Fp2 j = x.square();
    const Fp2 e2 = e.square();
    x = a * (b - f);
    y = g.square() - (e2.dbl() + e2);
    z = b * h;
    return {-h, j.dbl() + j, i};
  }

  /// T = T + Q; returns the line through T and Q (ePrint 2010/354 Alg. 27, D-type twist).
  LineCoeffs add_step(const G2Affine& q) noexcept {
    const Fp2 theta = y - q.y * z;
    const Fp2 lambda = x - q.x * z;
    const Fp2 c = theta.square();
    const Fp2 d = lambda.square();
    const Fp2 e = lambda * d;
    const Fp2 f = z * c;
    const Fp2 g = x * d;
    const Fp2 h = e + f - g.dbl();
    x = lambda * h;
    y = theta * (g - h) - e * y;
    z = z * e;
    const Fp2 j = theta * q.x - lambda * q.y;
    return {lambda, -theta, j};
  }
};

/// pi(Q) = (conj(x) xi^((p-1)/3), conj(y) xi^((p-1)/2)), the p-power Frobenius on the twist.
G2Affine frobenius_twist(const G2Affine& q) {
  const auto& g = tower_constants().gamma[1];
  return G2Affine::from_xy(q.x.conjugate() * g[2], q.y.conjugate() * g[3]);
}

inline void evaluate_line(Fp12& f, const LineCoeffs& l, const G1Affine& p) noexcept {
  f = f.mul_by_034(l.c0.mul_by_fp(p.y), l.c1.mul_by_fp(p.x), l.c2);
}

/// Multiplies f by the lines of all on-the-fly pairs, two at a time (their product first: 6 + 17
/// Fp2 multiplications for two lines instead of 2 x 13). `next(k)` advances pair k's running
/// point and returns its line.
template <class NextLine>
void evaluate_lines_pairwise(Fp12& f, std::span<const G1Affine> ps, NextLine next) {
  std::size_t k = 0;
  for (; k + 1 < ps.size(); k += 2) {
    const LineCoeffs a = next(k);
    const LineCoeffs b = next(k + 1);
    f = f.mul_by_01234(Fp12::mul_034_by_034(a.c0.mul_by_fp(ps[k].y), a.c1.mul_by_fp(ps[k].x), a.c2,
                                            b.c0.mul_by_fp(ps[k + 1].y),
                                            b.c1.mul_by_fp(ps[k + 1].x), b.c2));
  }
  if (k < ps.size()) evaluate_line(f, next(k), ps[k]);
}

/// Runs the Miller loop's line schedule on T = Q, handing each line to `sink`. The same schedule
/// drives preparation (the sink stores) and the on-the-fly loop (the sink evaluates).
struct LineSchedule {
  G2Homogeneous t;
  G2Affine q, neg_q;

  explicit LineSchedule(const G2Affine& point)
      : t{point.x, point.y, Fp2::one()}, q(point), neg_q(point.negate()) {}
};

/// f^(-x) in the cyclotomic subgroup (where the inverse is the conjugate), by the addition chain
/// for x = 4965661367192848881 that gnark-crypto's bn254 Expt uses: 62 cyclotomic squarings
/// and 17 multiplications (square-and-multiply over x's NAF needs 23).
Fp12 cyclotomic_exp_by_neg_x(const Fp12& a) noexcept {
  auto sqn = [](Fp12 v, int n) {
    for (int i = 0; i < n; ++i) v = v.cyclotomic_square();
    return v;
  };
  const Fp12 t10 = a.cyclotomic_square();
  const Fp12 t100 = t10.cyclotomic_square();
  const Fp12 t1000 = t100.cyclotomic_square();
  const Fp12 t10000 = t1000.cyclotomic_square();
  const Fp12 t10001 = a * t10000;
  const Fp12 t10011 = t10 * t10001;
  const Fp12 t10100 = a * t10011;
  const Fp12 t11001 = t1000 * t10001;
  const Fp12 t100010 = t10001.cyclotomic_square();
  const Fp12 t100111 = t10011 * t10100;
  const Fp12 t101001 = t10 * t100111;
  const Fp12 i27 = sqn(sqn(t100010, 6) * t100 * t11001, 7) * t11001;
  const Fp12 i44 = sqn(sqn(i27, 8) * t101001 * t10, 6) * t10001;
  const Fp12 i70 = sqn(sqn(sqn(i44, 8) * t101001, 6) * t101001, 10);
  return (sqn(t100111 * i70, 6) * t101001 * t1000).conjugate();
}

}  // namespace

G2Prepared G2Prepared::prepare(const G2Affine& q) {
  G2Prepared out;
  if (q.infinity) return out;
  out.infinity = false;
  out.lines.reserve(kMillerLines);
  LineSchedule s(q);
  for (int i = kAteLoop.length - 2; i >= 0; --i) {
    out.lines.push_back(s.t.double_step());
    const int d = kAteLoop.digits[i];
    if (d != 0) out.lines.push_back(s.t.add_step(d > 0 ? s.q : s.neg_q));
  }
  const G2Affine q1 = frobenius_twist(q);
  const G2Affine q2 = frobenius_twist(q1).negate();
  out.lines.push_back(s.t.add_step(q1));
  out.lines.push_back(s.t.add_step(q2));
  // Normalise: (c0, c1, c2) -> (1, c1/c0, c2/c0), with one inversion for all lines.
  std::vector<Fp2> prefix(out.lines.size());
  Fp2 acc = Fp2::one();
  for (std::size_t i = 0; i < out.lines.size(); ++i) {
    if (out.lines[i].c0.is_zero()) return out;  // cannot happen for points of order r
    prefix[i] = acc;
    acc *= out.lines[i].c0;
  }
  Fp2 inv = acc.inverse();
  for (std::size_t i = out.lines.size(); i-- > 0;) {
    const Fp2 c0_inv = inv * prefix[i];
    inv *= out.lines[i].c0;
    LineCoeffs& l = out.lines[i];
    l = LineCoeffs{Fp2::one(), l.c1 * c0_inv, l.c2 * c0_inv};
  }
  out.normalized = true;
  return out;
}

Fp12 multi_miller_loop(std::span<const PreparedPair> prepared, std::span<const PointPair> dynamic) {
  // Gather the pairs that contribute (no identity on either side).
  constexpr std::size_t kInline = 8;
  PreparedPair pre_buf[kInline];
  std::vector<PreparedPair> pre_heap;
  std::size_t n_pre = 0;
  for (const auto& pp : prepared) {
    if (pp.p.infinity || pp.q->infinity) continue;
    if (n_pre < kInline) {
      pre_buf[n_pre] = pp;
    } else {
      if (pre_heap.empty()) pre_heap.assign(pre_buf, pre_buf + kInline);
      pre_heap.push_back(pp);
    }
    ++n_pre;
  }
  const PreparedPair* pre = pre_heap.empty() ? pre_buf : pre_heap.data();
  // For normalised lines, evaluate at (x/y, 1/y) instead of (x, y): the line divided by y, an Fp
  // factor the final exponentiation ignores. One inversion for all the y's.
  std::vector<G1Affine> pre_eval(n_pre);
  {
    Fp acc = Fp::one();
    for (std::size_t k = 0; k < n_pre; ++k) {
      pre_eval[k].x = acc;
      acc *= pre[k].p.y;
    }
    Fp inv = acc.inverse();
    for (std::size_t k = n_pre; k-- > 0;) {
      const Fp y_inv = inv * pre_eval[k].x;
      inv *= pre[k].p.y;
      pre_eval[k] = pre[k].q->normalized ? G1Affine::from_xy(pre[k].p.x * y_inv, y_inv) : pre[k].p;
    }
  }
  auto eval_prepared = [&](Fp12& f, std::size_t k, int line) {
    const LineCoeffs& l = pre[k].q->lines[line];
    if (pre[k].q->normalized) {
      f = f.mul_by_34(l.c1.mul_by_fp(pre_eval[k].x), l.c2.mul_by_fp(pre_eval[k].y));
    } else {
      evaluate_line(f, l, pre[k].p);
    }
  };

  std::vector<LineSchedule> dyn;
  std::vector<G1Affine> dyn_p;
  dyn.reserve(dynamic.size());
  dyn_p.reserve(dynamic.size());
  for (const auto& dp : dynamic) {
    if (dp.p.infinity || dp.q.infinity) continue;
    dyn.emplace_back(dp.q);
    dyn_p.push_back(dp.p);
  }

  Fp12 f = Fp12::one();
  int line = 0;
  for (int i = kAteLoop.length - 2; i >= 0; --i) {
    if (i != kAteLoop.length - 2) f = f.square();
    for (std::size_t k = 0; k < n_pre; ++k) eval_prepared(f, k, line);
    evaluate_lines_pairwise(f, dyn_p, [&](std::size_t k) { return dyn[k].t.double_step(); });
    ++line;
    const int d = kAteLoop.digits[i];
    if (d != 0) {
      for (std::size_t k = 0; k < n_pre; ++k) eval_prepared(f, k, line);
      evaluate_lines_pairwise(f, dyn_p, [&](std::size_t k) {
        return dyn[k].t.add_step(d > 0 ? dyn[k].q : dyn[k].neg_q);
      });
      ++line;
    }
  }
  for (int step = 0; step < 2; ++step) {
    for (std::size_t k = 0; k < n_pre; ++k) eval_prepared(f, k, line);
    evaluate_lines_pairwise(f, dyn_p, [&](std::size_t k) {
      const G2Affine q1 = frobenius_twist(dyn[k].q);
      return dyn[k].t.add_step(step == 0 ? q1 : frobenius_twist(q1).negate());
    });
    ++line;
  }
  return f;
}

Fp12 final_exponentiation(const Fp12& f) noexcept {
  // Easy part: f^((p^6 - 1)(p^2 + 1)); afterwards f is in the cyclotomic subgroup.
  const Fp12 f1 = f.conjugate() * f.inverse();
  const Fp12 r = f1.frobenius(2) * f1;
  // Hard part: r^(2x(6x^2+3x+1)(p^4 - p^2 + 1)/r) with three exponentiations by x.
  const Fp12 y0 = cyclotomic_exp_by_neg_x(r);
  const Fp12 y1 = y0.cyclotomic_square();
  const Fp12 y2 = y1.cyclotomic_square();
  const Fp12 y3 = y2 * y1;
  const Fp12 y4 = cyclotomic_exp_by_neg_x(y3);
  const Fp12 y5 = y4.cyclotomic_square();
  const Fp12 y6 = cyclotomic_exp_by_neg_x(y5).conjugate();
  const Fp12 y7 = y6 * y4;
  const Fp12 y8 = y7 * y3.conjugate();
  const Fp12 y9 = y8 * y1;
  const Fp12 y10 = y8 * y4;
  const Fp12 y11 = y10 * r;
  const Fp12 y13 = y9.frobenius(1) * y11;
  const Fp12 y14 = y8.frobenius(2) * y13;
  const Fp12 y15 = (r.conjugate() * y9).frobenius(3);
  return y15 * y14;
}

Fp12 pairing(const G1Affine& p, const G2Affine& q) {
  const PointPair pair{p, q};
  return final_exponentiation(multi_miller_loop({}, std::span<const PointPair>(&pair, 1)));
}

bool pairing_product_is_one(std::span<const PointPair> pairs) {
  return final_exponentiation(multi_miller_loop({}, pairs)).is_one();
}

}  // namespace pg::crypto
