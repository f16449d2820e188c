// Makes differential test vectors for our BN254 arithmetic from @noble/curves (an independent
// implementation): G1/G2 addition, doubling and scalar multiplication, pairings and pairing-product
// checks, from seeded random inputs. Read by tests/crypto/noble_diff_test.cpp.
//
// Usage: node tests/differential/gen_noble_vectors.mjs OUT.json [SEED]
//
// Encodings (all integers as decimal strings):
// - G1 point: [x, y] affine; G2 point: [[x.c0, x.c1], [y.c0, y.c1]] with Fp2 = c0 + c1 u;
//   the point at infinity: null.
// - scalar: any integer in [0, 2^256). noble only multiplies by scalars below r, so the expected
//   product is noble's (k mod r) * P; the points all have order r, so that is k * P.
// - GT element: 12 coefficients in the order of our tower (src/crypto/tower.hpp), which is also
//   noble's: Fp12 = c0 + c1 w, Fp6 = c0 + c1 v + c2 v^2, Fp2 = c0 + c1 u, with u^2 = -1,
//   v^3 = 9 + u, w^2 = v; listed as c0.c0.c0, c0.c0.c1, c0.c1.c0, c0.c1.c1, c0.c2.c0, c0.c2.c1,
//   c1.c0.c0, ..., c1.c2.c1.
// - "pairing": noble's bn254.pairing(P, Q), which is the reduced optimal ate pairing raised to
//   2x(6x^2 + 3x + 1) (the exponent of the Fuentes-Castaneda et al. hard part), the same value
//   src/crypto/pairing.hpp documents. "pairing_plain": the plain reduced pairing f^((p^12-1)/r)
//   of noble's Miller loop output, so the test can check that relation itself.
// - "pairing_product": whether prod e(P_i, Q_i) == 1 by noble's pairingBatch; pairs with an
//   infinity point are left out of noble's product (noble refuses them; they contribute 1).
import fs from 'node:fs';
import { createHash } from 'node:crypto';

import { bn254 } from '@noble/curves/bn254.js';

const { Fp, Fp12, Fr } = bn254.fields;
const G1 = bn254.G1.Point;
const G2 = bn254.G2.Point;
const P = Fp.ORDER;
const R = Fr.ORDER;

class SeededRng {
  constructor(seed) {
    this.seed = `proofgate noble vectors ${seed}`;
    this.counter = 0;
  }
  /// A uniform integer of `bits` bits (a multiple of 4, at most 512).
  bits(bits) {
    const h = createHash('sha512').update(`${this.seed}/${this.counter++}`).digest('hex');
    return BigInt('0x' + h.slice(0, bits / 4));
  }
  /// Uniform enough in [0, n) for test data (reduces 512 bits).
  below(n) {
    return this.bits(512) % n;
  }
  pick(list) {
    return list[Number(this.below(BigInt(list.length)))];
  }
}

const mulAny = (pt, k) => (k % R === 0n ? pt.multiplyUnsafe(0n) : pt.multiplyUnsafe(k % R));

const g1Json = (pt) => {
  if (pt.is0()) return null;
  const { x, y } = pt.toAffine();
  return [x.toString(), y.toString()];
};
const g2Json = (pt) => {
  if (pt.is0()) return null;
  const { x, y } = pt.toAffine();
  return [
    [x.c0.toString(), x.c1.toString()],
    [y.c0.toString(), y.c1.toString()],
  ];
};
const gtJson = (e) =>
  [e.c0, e.c1].flatMap((s) => [s.c0, s.c1, s.c2]).flatMap((t) => [t.c0.toString(), t.c1.toString()]);

function main() {
  const [out, seed = '1'] = process.argv.slice(2);
  if (!out) {
    console.error('usage: node tests/differential/gen_noble_vectors.mjs OUT.json [SEED]');
    process.exit(2);
  }
  const rng = new SeededRng(seed);
  const cases = [];
  const push = (kind, fields) => cases.push({ kind, ...fields });

  const randomG1 = () => G1.BASE.multiply(rng.below(R - 1n) + 1n);
  const randomG2 = () => G2.BASE.multiply(rng.below(R - 1n) + 1n);
  // Scalars worth testing besides uniform ones below r.
  const edgeScalars = [0n, 1n, 2n, 3n, 15n, 16n, 17n, R - 1n, R, R + 1n, 2n * R, (1n << 255n) + 7n, (1n << 256n) - 1n];
  const scalarAt = (i) => (i < edgeScalars.length ? edgeScalars[i] : i % 2 ? rng.below(R) : rng.bits(256));

  for (const [group, random, json, counts] of [
    ['g1', randomG1, g1Json, { add: 25, dbl: 12, mul: 33 }],
    ['g2', randomG2, g2Json, { add: 20, dbl: 10, mul: 30 }],
  ]) {
    const Pt = group === 'g1' ? G1 : G2;
    for (let i = 0; i < counts.add; ++i) {
      const a = i === 0 ? Pt.ZERO : random();
      // Special second operands: infinity, the same point, its negation, then random ones.
      const b = i === 1 ? Pt.ZERO : i === 2 ? a : i === 3 ? a.negate() : i === 4 ? a.double() : random();
      push(`${group}_add`, { a: json(a), b: json(b), result: json(a.add(b)) });
    }
    for (let i = 0; i < counts.dbl; ++i) {
      const a = i === 0 ? Pt.ZERO : i === 1 ? Pt.BASE : random();
      push(`${group}_dbl`, { a: json(a), result: json(a.double()) });
    }
    for (let i = 0; i < counts.mul; ++i) {
      const a = i === edgeScalars.length ? Pt.ZERO : i % 5 === 0 ? Pt.BASE : random();
      const k = scalarAt(i);
      push(`${group}_mul`, { a: json(a), scalar: k.toString(), result: json(mulAny(a, k)) });
    }
  }

  // Pairings of random points, of the generators, and of small multiples.
  for (let i = 0; i < 25; ++i) {
    const p = i === 0 ? G1.BASE : i === 1 ? G1.BASE.multiply(2n) : randomG1();
    const q = i === 0 ? G2.BASE : i === 2 ? G2.BASE.multiply(2n) : randomG2();
    push('pairing', { g1: g1Json(p), g2: g2Json(q), gt: gtJson(bn254.pairing(p, q)) });
  }
  for (let i = 0; i < 3; ++i) {
    const p = i === 0 ? G1.BASE : randomG1();
    const q = i === 0 ? G2.BASE : randomG2();
    const plain = Fp12.pow(bn254.pairing(p, q, false), (P ** 12n - 1n) / R);
    push('pairing_plain', { g1: g1Json(p), g2: g2Json(q), gt: gtJson(plain) });
  }

  // Pairing products: true ones built from bilinearity (e(aP, bQ) e(-abP, Q) ... = 1), false ones
  // by disturbing one scalar; some with identity pairs, which contribute 1.
  for (let i = 0; i < 40; ++i) {
    const n = 1 + (i % 4);
    const pairs = [];
    let acc = 0n;
    for (let j = 0; j < n; ++j) {
      const a = rng.below(R - 1n) + 1n;
      const b = rng.below(R - 1n) + 1n;
      pairs.push([G1.BASE.multiply(a), G2.BASE.multiply(b)]);
      acc = (acc + a * b) % R;
    }
    const wantTrue = i % 2 === 0;
    const closing = wantTrue ? (R - acc) % R : (R - acc + 1n + rng.below(R - 2n)) % R;
    pairs.push([mulAny(G1.BASE, closing), G2.BASE]);
    if (i % 5 === 1) pairs.push([G1.ZERO, randomG2()]);
    if (i % 5 === 3) pairs.push([randomG1(), G2.ZERO]);
    if (i === 0) pairs.splice(0, pairs.length, [G1.ZERO, G2.ZERO]);
    const finite = pairs.filter(([p, q]) => !p.is0() && !q.is0());
    const gt = bn254.pairingBatch(finite.map(([g1, g2]) => ({ g1, g2 })));
    push('pairing_product', {
      pairs: pairs.map(([p, q]) => [g1Json(p), g2Json(q)]),
      result: Fp12.eql(gt, Fp12.ONE),
    });
  }

  const doc = {
    source: `@noble/curves ${JSON.parse(fs.readFileSync(new URL('../../node_modules/@noble/curves/package.json', import.meta.url))).version} bn254, generated by tests/differential/gen_noble_vectors.mjs with seed ${seed}`,
    seed,
    cases,
  };
  fs.writeFileSync(out, JSON.stringify(doc, null, 1) + '\n');
  const kinds = {};
  for (const c of cases) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
  console.log(`gen_noble_vectors: ${cases.length} cases (${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')}) in ${out}`);
}

main();
