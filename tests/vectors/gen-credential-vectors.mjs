// Writes tests/vectors/credential.json: holder commitments, credential leaves, Merkle roots with
// their paths, and nullifiers computed with circomlibjs (clients/wallet/src/tree.mjs). The C++
// side recomputes them with its own Poseidon (tests/core/credential_vectors_test.cpp) and the
// age_over_18 circuit computes the same root and nullifier from the same inputs
// (tests/circuits-claims/vectors_match_circuit.mjs).
// Usage: node tests/vectors/gen-credential-vectors.mjs [OUT]   (default: tests/vectors/credential.json)
import fs from 'node:fs';
import path from 'node:path';

import { partnerScope } from '../../clients/wallet/src/protocol.mjs';
import { buildTree, credentialLeaf, poseidonHasher } from '../../clients/wallet/src/tree.mjs';

const out = process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), 'credential.json');
const hash = await poseidonHasher();

const secret = 7777777777777777777777777777777777777n;
const commitment = hash([secret]);
const identity = { birth_date: 20000229, country: 524 };
const expiry = 20301231;
const leaf = await credentialLeaf(1, 1, commitment, [identity.birth_date, identity.country], expiry);
const leaves = [11n, 22n, 33n, 44n, leaf];
const tree = await buildTree(leaves);
const index = 4;
const scope = await partnerScope('bank.example');

const vectors = {
  source: 'circomlibjs 0.1.7 Poseidon via clients/wallet/src/tree.mjs; regenerate with node tests/vectors/gen-credential-vectors.mjs',
  holder: { secret: secret.toString(), commitment: commitment.toString() },
  identity_credential: {
    issuer_id: 1, schema_id: 1, birth_date: identity.birth_date, country: identity.country, expiry,
    leaf: leaf.toString(),
  },
  tree: {
    depth: 20, leaves: leaves.map(String), index, root: tree.root.toString(),
    siblings: tree.path(index).siblings.map(String), path_indices: tree.path(index).path_indices,
  },
  nullifier: { verifier_domain: 'bank.example', scope: scope.toString(), nullifier: hash([secret, scope]).toString() },
};
fs.writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`credential vectors written to ${out}`);
