// An issuer's Poseidon Merkle tree (docs/protocol.md): binary, depth 20 by default,
// node = Poseidon([left, right]), empty leaf = 0. Sparse: only the filled paths are stored.
import { buildPoseidon } from 'circomlibjs';

let poseidonPromise;
/** circomlibjs's Poseidon as a function of BigInts; built once (building takes about a second). */
export async function poseidonHasher() {
  poseidonPromise ??= buildPoseidon();
  const p = await poseidonPromise;
  return (inputs) => p.F.toObject(p(inputs.map(BigInt)));
}

/** A tree over `leaves` (BigInts, index = position) with membership paths. */
export async function buildTree(leaves, depth = 20) {
  const hash = await poseidonHasher();
  const zero = [0n];
  for (let i = 1; i <= depth; ++i) zero.push(hash([zero[i - 1], zero[i - 1]]));
  const levels = [new Map(leaves.map((v, i) => [i, BigInt(v)]))];
  for (let level = 0; level < depth; ++level) {
    const next = new Map();
    for (const index of levels[level].keys()) {
      const parent = Math.floor(index / 2);
      if (next.has(parent)) continue;
      const left = levels[level].get(2 * parent) ?? zero[level];
      const right = levels[level].get(2 * parent + 1) ?? zero[level];
      next.set(parent, hash([left, right]));
    }
    levels.push(next);
  }
  const root = levels[depth].get(0) ?? zero[depth];
  return {
    root,
    /** The siblings and direction bits (0: the node is a left child) of leaf `index`. */
    path(index) {
      const siblings = [];
      const path_indices = [];
      let i = index;
      for (let level = 0; level < depth; ++level) {
        const sibling = i ^ 1;
        siblings.push(levels[level].get(sibling) ?? zero[level]);
        path_indices.push(i & 1);
        i = Math.floor(i / 2);
      }
      return { siblings, path_indices };
    },
  };
}

/** Credential leaf: Poseidon([issuer_id, schema_id, holder_commitment, ...attributes, expiry]). */
export async function credentialLeaf(issuerId, schemaId, holderCommitment, attributes, expiry) {
  const hash = await poseidonHasher();
  return hash([issuerId, schemaId, holderCommitment, ...attributes, expiry]);
}
