// Writes tests/vectors/tree.json: roots and membership paths of depth-20 issuer trees computed by the
// wallet's tree (clients/wallet/src/tree.mjs, circomlibjs Poseidon). The issuer's C++ tree must
// give the same (tests/issuer/tree_test.cpp); ctest's issuer_tree_vectors_regenerate_identically
// checks that this script still writes the committed file byte for byte.
// Usage: node tests/vectors/gen-tree-vectors.mjs [OUT]   (default: tests/vectors/tree.json)
import fs from 'node:fs';
import path from 'node:path';

import { buildTree, poseidonHasher } from '../../clients/wallet/src/tree.mjs';

const out = process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), 'tree.json');
const depth = 20;
const hash = await poseidonHasher();

// Leaves that look like credential leaves (field elements of full size), deterministic.
const leafAt = (i) => hash([BigInt(i) + 1000n, 424242n]);
const range = (n) => Array.from({ length: n }, (_, i) => leafAt(i));

const five = range(5);
const revoked = [...five];
revoked[2] = 0n; // revocation sets the leaf to 0
const forty_one = range(41);

const cases = [
  { name: 'empty', leaves: [], paths: [] },
  { name: 'one_leaf', leaves: [leafAt(0)], paths: [0] },
  { name: 'five_leaves', leaves: five, paths: [0, 1, 2, 3, 4] },
  { name: 'five_leaves_third_revoked', leaves: revoked, paths: [0, 2, 4] },
  { name: 'leaves_0_to_40', leaves: forty_one, paths: [0, 1, 16, 31, 32, 39, 40] },
];

const trees = [];
for (const c of cases) {
  const tree = await buildTree(c.leaves, depth);
  trees.push({
    name: c.name,
    leaves: c.leaves.map(String),
    root: tree.root.toString(),
    paths: c.paths.map((index) => {
      const p = tree.path(index);
      return { index, siblings: p.siblings.map(String), path_indices: p.path_indices };
    }),
  });
}

const vectors = {
  source: 'circomlibjs 0.1.7 Poseidon via clients/wallet/src/tree.mjs; regenerate with node tests/vectors/gen-tree-vectors.mjs',
  depth,
  trees,
};
fs.writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`tree vectors written to ${out}`);
