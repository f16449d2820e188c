// Groth16 verification over a prepared key, single and batched.
#include "crypto/groth16.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace pg::crypto {

namespace {

Error refuse(InputError code, std::string field, std::string message) {
  return Error{code, std::move(field), std::move(message)};
}

Result<bool> check_g1(const G1Affine& p, const std::string& field) {
  if (p.infinity) return refuse(InputError::kIdentity, field, "is the point at infinity");
  if (!p.is_on_curve()) return refuse(InputError::kNotOnCurve, field, "is not on the curve");
  return true;
}

Result<bool> check_g2(const G2Affine& q, const std::string& field) {
  if (q.infinity) return refuse(InputError::kIdentity, field, "is the point at infinity");
  if (!q.is_on_curve()) return refuse(InputError::kNotOnCurve, field, "is not on the twist curve");
  if (!g2_in_subgroup_vartime(q)) {
    return refuse(InputError::kNotInSubgroup, field, "is not in the order-r subgroup G2");
  }
  return true;
}

/// Fills `words` from the OS CSPRNG.
void fill_random(std::span<std::uint64_t> words) {
  std::size_t filled = 0;
  const std::size_t bytes = words.size_bytes();
  auto* dst = reinterpret_cast<unsigned char*>(words.data());
  while (filled < bytes) {
    const ssize_t n = getrandom(dst + filled, bytes - filled, 0);
    if (n > 0) {
      filled += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
      // No randomness means no sound batch check: refuse to guess.
      throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    }
  }
}

}  // namespace

Result<bool> check_proof_points(const Proof& proof) {
  if (auto r = check_g1(proof.a, "pi_a"); !r) return r;
  if (auto r = check_g2(proof.b, "pi_b"); !r) return r;
  if (auto r = check_g1(proof.c, "pi_c"); !r) return r;
  return true;
}

void draw_batch_coefficients(std::span<GlvScalar> out) {
  std::vector<std::uint64_t> words(out.size() * 2);
  fill_random(words);
  for (std::size_t i = 0; i < out.size(); ++i) {
    while ((words[2 * i] | words[2 * i + 1]) == 0) fill_random(std::span(words).subspan(2 * i, 2));
    out[i] = GlvScalar{Limbs{words[2 * i], 0, 0, 0}, Limbs{words[2 * i + 1], 0, 0, 0}};
  }
}

FixedBaseTable::FixedBaseTable(const G1Affine& base) {
  std::vector<G1> points;
  points.reserve(kWindows * kDigits);
  G1 window_base = G1::from_affine(base);
  for (int j = 0; j < kWindows; ++j) {
    G1 acc = window_base;
    for (int d = 1; d <= kDigits; ++d) {
      points.push_back(acc);
      acc = acc.add(window_base);
    }
    for (int b = 0; b < kWindowBits; ++b) window_base = window_base.dbl();
  }
  table_ = batch_to_affine<G1Params>(points);
}

void FixedBaseTable::accumulate(G1& acc, const Limbs& k) const noexcept {
  for (int j = 0; j < kWindows; ++j) {
    const int bit = j * kWindowBits;
    const unsigned d = static_cast<unsigned>((k[bit / 64] >> (bit % 64)) & kDigits);
    if (d != 0) acc = acc.add_mixed(table_[j * kDigits + d - 1]);
  }
}

Result<std::shared_ptr<const PreparedVerifyingKey>> PreparedVerifyingKey::prepare(
    const VerifyingKey& vk) {
  if (auto r = check_g1(vk.alpha, "vk_alpha_1"); !r) return r.error();
  if (auto r = check_g2(vk.beta, "vk_beta_2"); !r) return r.error();
  if (auto r = check_g2(vk.gamma, "vk_gamma_2"); !r) return r.error();
  if (auto r = check_g2(vk.delta, "vk_delta_2"); !r) return r.error();
  if (vk.ic.empty()) return refuse(InputError::kWrongCount, "IC", "must hold at least one point");
  if (vk.ic.size() > kMaxPublicSignals + 1) {
    return refuse(InputError::kWrongCount, "IC",
                  "holds " + std::to_string(vk.ic.size()) + " points; at most " +
                      std::to_string(kMaxPublicSignals + 1) + " are supported");
  }
  for (std::size_t i = 0; i < vk.ic.size(); ++i) {
    const std::string field = "IC[" + std::to_string(i) + "]";
    if (vk.ic[i].infinity) {
      return refuse(InputError::kIdentity, field,
                    "is the point at infinity: its public signal would not be bound by the proof");
    }
    if (auto r = check_g1(vk.ic[i], field); !r) return r.error();
  }
  // Two IC points with the same x are equal or opposite: a proof for (.., a, .., b, ..) would
  // also verify for (.., a + k, .., b -+ k, ..).
  {
    std::vector<std::pair<Limbs, std::size_t>> xs;
    xs.reserve(vk.ic.size());
    for (std::size_t i = 0; i < vk.ic.size(); ++i) xs.emplace_back(vk.ic[i].x.montgomery(), i);
    std::sort(xs.begin(), xs.end());
    for (std::size_t k = 1; k < xs.size(); ++k) {
      if (xs[k].first == xs[k - 1].first) {
        const auto [i, j] = std::minmax(xs[k - 1].second, xs[k].second);
        return refuse(InputError::kInsecureKey, "IC[" + std::to_string(j) + "]",
                      "equals IC[" + std::to_string(i) +
                          "] up to sign: their public signals are not bound separately");
      }
    }
  }
  // e(C, delta) with delta = +-gamma folds into e(L +- C, gamma); with delta = +-generator the
  // trapdoor is known. Either way A = alpha, B = beta, C = -+L verifies for any statement.
  if (vk.delta == vk.gamma || vk.delta == vk.gamma.negate()) {
    return refuse(InputError::kInsecureKey, "vk_delta_2",
                  "equals vk_gamma_2 up to sign: the key had no phase-2 contribution and proofs "
                  "can be forged");
  }
  if (vk.delta == g2_generator() || vk.delta == g2_generator().negate()) {
    return refuse(InputError::kInsecureKey, "vk_delta_2",
                  "is the G2 generator up to sign: the key had no phase-2 contribution and proofs "
                  "can be forged");
  }
  std::shared_ptr<PreparedVerifyingKey> key(new PreparedVerifyingKey());
  key->alpha_table_ = std::make_unique<FixedBaseTable>(vk.alpha);
  key->alpha_beta_ = pairing(vk.alpha, vk.beta);
  key->beta_ = G2Prepared::prepare(vk.beta);
  key->gamma_ = G2Prepared::prepare(vk.gamma);
  key->delta_ = G2Prepared::prepare(vk.delta);
  key->ic_tables_.reserve(vk.ic.size());
  for (const auto& p : vk.ic) key->ic_tables_.emplace_back(p);
  return std::shared_ptr<const PreparedVerifyingKey>(std::move(key));
}

G1 PreparedVerifyingKey::linear_combination(const Fr& c0,
                                            std::span<const Fr> publics) const noexcept {
  G1 acc = G1::identity();
  ic_tables_[0].accumulate(acc, c0.to_canonical());
  for (std::size_t i = 0; i < publics.size(); ++i) {
    ic_tables_[i + 1].accumulate(acc, publics[i].to_canonical());
  }
  return acc;
}

bool PreparedVerifyingKey::verify(const Proof& proof, std::span<const Fr> publics) const {
  if (publics.size() != num_public()) return false;
  // e(A, B) e(-L, gamma) e(-C, delta) == e(alpha, beta).
  const G1 l = linear_combination(Fr::one(), publics);
  const std::array<G1, 2> neg{l.negate(), G1::from_affine(proof.c).negate()};
  const auto aff = batch_to_affine<G1Params>(neg);
  const std::array<PreparedPair, 2> prepared{PreparedPair{aff[0], &gamma_},
                                             PreparedPair{aff[1], &delta_}};
  const PointPair dynamic{proof.a, proof.b};
  const Fp12 f = multi_miller_loop(prepared, std::span(&dynamic, 1));
  return final_exponentiation(f) == alpha_beta_;
}

bool PreparedVerifyingKey::batch_holds(std::span<const BatchItem> items,
                                       std::span<const std::size_t> idx) const {
  // With random r_j: prod_j e(r_j A_j, B_j) * e(-sum r_j L_j, gamma) * e(-sum r_j C_j, delta)
  //                  * e(-(sum r_j) alpha, beta) == 1.
  // A bad proof passes only if its r_j hits the one root of a nonzero linear form: probability
  // at most 1/(2^128 - 1) (draw_batch_coefficients).
  std::vector<GlvScalar> r(idx.size());
  draw_batch_coefficients(r);
  const Fr& lambda = g1_endomorphism().lambda;
  const std::size_t n_pub = num_public();
  Fr r_sum = Fr::zero();
  std::vector<Fr> coeff(n_pub, Fr::zero());
  std::vector<G1Affine> as, cs;
  as.reserve(idx.size());
  cs.reserve(idx.size());
  for (std::size_t j = 0; j < idx.size(); ++j) {
    const BatchItem& item = items[idx[j]];
    const Fr rj = Fr::from_canonical(r[j].a) + Fr::from_canonical(r[j].b) * lambda;
    r_sum += rj;
    for (std::size_t i = 0; i < n_pub; ++i) coeff[i] += rj * item.publics[i];
    as.push_back(item.proof.a);
    cs.push_back(item.proof.c);
  }
  std::vector<G1> g1_points = g1_glv_mul_each_vartime(as, r);
  g1_points.reserve(idx.size() + 3);
  G1 alpha_sum = G1::identity();
  alpha_table_->accumulate(alpha_sum, r_sum.to_canonical());
  g1_points.push_back(linear_combination(r_sum, coeff).negate());
  g1_points.push_back(g1_glv_msm_vartime(cs, r).negate());
  g1_points.push_back(alpha_sum.negate());
  const auto aff = batch_to_affine<G1Params>(g1_points);
  const std::size_t n = idx.size();
  const std::array<PreparedPair, 3> prepared{PreparedPair{aff[n], &gamma_},
                                             PreparedPair{aff[n + 1], &delta_},
                                             PreparedPair{aff[n + 2], &beta_}};
  std::vector<PointPair> dynamic(n);
  for (std::size_t j = 0; j < n; ++j) dynamic[j] = PointPair{aff[j], items[idx[j]].proof.b};
  return final_exponentiation(multi_miller_loop(prepared, dynamic)).is_one();
}

void PreparedVerifyingKey::resolve(std::span<const BatchItem> items,
                                   std::span<const std::size_t> idx, std::vector<bool>& out) const {
  if (idx.empty()) return;
  if (idx.size() == 1) {
    out[idx[0]] = verify(items[idx[0]].proof, items[idx[0]].publics);
    return;
  }
  if (batch_holds(items, idx)) {
    for (const std::size_t i : idx) out[i] = true;
    return;
  }
  const std::size_t half = idx.size() / 2;
  resolve(items, idx.first(half), out);
  resolve(items, idx.subspan(half), out);
}

bool PreparedVerifyingKey::verify_together(std::span<const BatchItem> items) const {
  if (items.empty()) return true;
  const std::vector<std::size_t> idx = checkable(items);
  return idx.size() == items.size() && batch_holds(items, idx);
}

std::vector<std::size_t> PreparedVerifyingKey::checkable(std::span<const BatchItem> items) const {
  std::vector<std::size_t> idx;
  idx.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    // Wrong arity is a refusal on its own, outside the combination.
    if (items[i].publics.size() == num_public()) idx.push_back(i);
  }
  return idx;
}

std::vector<bool> PreparedVerifyingKey::verify_batch(std::span<const BatchItem> items) const {
  std::vector<bool> out(items.size(), false);
  resolve(items, checkable(items), out);
  return out;
}

std::vector<bool> PreparedVerifyingKey::verify_halves(std::span<const BatchItem> items) const {
  std::vector<bool> out(items.size(), false);
  const std::vector<std::size_t> idx = checkable(items);
  const std::span<const std::size_t> all(idx);
  if (all.size() <= 1) {
    resolve(items, all, out);
  } else {
    resolve(items, all.first(all.size() / 2), out);
    resolve(items, all.subspan(all.size() / 2), out);
  }
  return out;
}

}  // namespace pg::crypto
