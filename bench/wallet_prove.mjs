// Proving time of the holder wallet per claim circuit: snarkjs in Node on one thread (the
// wallet's worst case on a phone-class device is what matters; this is the same code path),
// witness generation included. Usage: node bench/wallet_prove.mjs ARTIFACTS [RUNS]
// Prints one JSON line per circuit: {"claim_type", "constraints", "prove_median_ms", "runs"}.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { newHolder } from '../clients/wallet/src/holder.mjs';
import { prove } from '../clients/wallet/src/prove.mjs';
import { buildTree, credentialLeaf } from '../clients/wallet/src/tree.mjs';

const artifacts = path.resolve(process.argv[2] ?? 'artifacts');
const runs = Number(process.argv[3] ?? 3);
const claims = {
  age_over_18: { issuer: 1, schema: 1, attributes: { birth_date: 20000101, country: 524 }, params: { today: 20261126 } },
  citizenship: { issuer: 1, schema: 1, attributes: { birth_date: 19900615, country: 524 }, params: { today: 20261126 } },
  education: { issuer: 2, schema: 2, attributes: { degree_level: 6, graduation_year: 2020, institution_id: 17 }, params: { today: 20261126, min_level: 4 } },
  income_gte: { issuer: 3, schema: 3, attributes: { annual_income_npr: 1500000, fiscal_year: 2081 }, params: { today: 20261126, threshold: 1200000, fiscal_year: 2081 } },
};

const holder = await newHolder();
for (const [claim, c] of Object.entries(claims)) {
  const manifest = JSON.parse(fs.readFileSync(path.join(artifacts, claim, '1.0.0', 'manifest.json'), 'utf8'));
  const attrs = manifest.schema.attributes.map((a) => c.attributes[a]);
  const leaf = await credentialLeaf(c.issuer, c.schema, holder.commitment, attrs, 20301231);
  const tree = await buildTree([leaf]);
  const credential = { attributes: c.attributes, expiry: 20301231, root: tree.root.toString(), ...tree.path(0) };
  const request = { nonce: 'bench', verifier_domain: 'bank.example', claim_type: claim, circuit_version: '1.0.0', params: c.params };
  await prove(artifacts, holder, credential, request, { singleThread: true });  // warm-up
  const times = [];
  for (let i = 0; i < runs; ++i) {
    const t0 = performance.now();
    await prove(artifacts, holder, credential, request, { singleThread: true });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ claim_type: claim, constraints: manifest.constraints,
    prove_median_ms: Math.round(times[Math.floor(times.length / 2)]), runs }));
}
await globalThis.curve_bn128?.terminate();
