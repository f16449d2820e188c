// Writes tests/vectors/binding.json: request bindings, partner scopes and nullifiers computed by
// the wallet's implementation (clients/wallet/src/protocol.mjs). The C++ side recomputes every
// value independently (OpenSSL SHA-256, our Poseidon) in tests/core/binding_test.cpp.
// Usage: node tests/vectors/gen-binding-vectors.mjs [OUT]   (default: tests/vectors/binding.json)
import fs from 'node:fs';
import path from 'node:path';

import { fieldFromText, nullifier, partnerScope, requestBinding } from '../../clients/wallet/src/protocol.mjs';

const out = process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), 'binding.json');

const texts = [
  ['nonce', ''],
  ['nonce', 'q2Xn7y8mB0xK4pE1sT9wZa'],
  ['verifier_domain', 'bank.example'],
  ['verifier_domain', 'नेपाल.example'],
  ['claim_type', 'age_over_18'],
  ['tag', 'binding'],
];
const requests = [
  { nonce: 'q2Xn7y8mB0xK4pE1sT9wZa', verifier_domain: 'bank.example', claim_type: 'age_over_18', circuit_version: '1.0.0' },
  { nonce: 'q2Xn7y8mB0xK4pE1sT9wZb', verifier_domain: 'bank.example', claim_type: 'age_over_18', circuit_version: '1.0.0' },
  { nonce: 'q2Xn7y8mB0xK4pE1sT9wZa', verifier_domain: 'bank2.example', claim_type: 'age_over_18', circuit_version: '1.0.0' },
  { nonce: 'q2Xn7y8mB0xK4pE1sT9wZa', verifier_domain: 'bank.example', claim_type: 'citizenship', circuit_version: '1.0.0' },
  { nonce: 'q2Xn7y8mB0xK4pE1sT9wZa', verifier_domain: 'bank.example', claim_type: 'age_over_18', circuit_version: '1.0.1' },
  { nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', verifier_domain: 'employer.example.com.np', claim_type: 'income_gte', circuit_version: '2.3.4' },
];
const secrets = ['1', '12345678901234567890', '21888242871839275222246405745257275088548364400416034343698204186575808495616'];

const vectors = {
  source: 'clients/wallet/src/protocol.mjs (circomlibjs 0.1.7 Poseidon, Web Crypto SHA-256); regenerate with node tests/vectors/gen-binding-vectors.mjs',
  field_from_text: [],
  request_binding: [],
  partner_scope: [],
  nullifier: [],
};
for (const [label, text] of texts) {
  vectors.field_from_text.push({ label, text, value: (await fieldFromText(label, text)).toString() });
}
for (const r of requests) vectors.request_binding.push({ ...r, binding: (await requestBinding(r)).toString() });
for (const d of ['bank.example', 'bank2.example', 'employer.example.com.np']) {
  const scope = await partnerScope(d);
  vectors.partner_scope.push({ verifier_domain: d, scope: scope.toString() });
  for (const s of secrets) vectors.nullifier.push({ secret: s, scope: scope.toString(), nullifier: (await nullifier(s, scope)).toString() });
}
fs.writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`binding vectors written to ${out}`);
