// The issuer tree's work done with circomlibjs's Poseidon (the wallet's hash, clients/wallet/src/
// tree.mjs): the baseline bench/tree_bench.cpp is compared with by scripts/bench-tree.mjs. The
// tree has the C++ tree's shape (dense levels, depth 20, empty subtrees by their zero hashes) and
// keeps circomlibjs's own field elements, so no conversion is timed, only hashing and bookkeeping.
//
// A full 2^20-leaf build takes minutes in JavaScript, so (a) builds 2^14 leaves (BENCH_TREE_JS_LEAVES)
// and scales the time per hash to the 2^20 - 1 hashes of a full depth-20 tree.
// Times are this process's CPU time (user + system, process.cpuUsage): the machines are shared, and
// CPU time is what each side spent on the work whatever else runs; build_wall_ms is wall time.
// Usage: node bench/tree_circomlibjs.mjs
// Prints one JSON line: {"hash_node_us", "build_leaves", "build_hashes", "build_ms",
// "build_wall_ms", "build_million_scaled_ms", "append_with_path_us", "path_ns"}.
import { performance } from 'node:perf_hooks';

import { buildPoseidon } from 'circomlibjs';

const depth = 20;
const buildLeaves = Number(process.env.BENCH_TREE_JS_LEAVES ?? 1 << 14);
const poseidon = await buildPoseidon();
const F = poseidon.F;
const hash = (l, r) => poseidon([l, r]);

const zeros = [F.zero];
for (let i = 1; i <= depth; ++i) zeros.push(hash(zeros[i - 1], zeros[i - 1]));

function randomLeaves(n) {
  let x = 0x9e3779b97f4a7c15n;
  const out = [];
  for (let i = 0; i < n; ++i) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 250n) - 1n);
    out.push(F.e(x));
  }
  return out;
}

function fromLeaves(leaves) {
  const levels = [leaves.slice()];
  for (let l = 0; l < depth; ++l) {
    const below = levels[l];
    const above = new Array(Math.ceil(below.length / 2));
    for (let p = 0; p < above.length; ++p) above[p] = hash(below[2 * p], 2 * p + 1 < below.length ? below[2 * p + 1] : zeros[l]);
    levels.push(above);
  }
  return levels;
}

function append(levels, leaf) {
  let index = levels[0].length;
  levels[0].push(leaf);
  for (let l = 0; l < depth; ++l) {
    const left = index & ~1;
    const below = levels[l];
    index >>= 1;
    levels[l + 1][index] = hash(below[left], left + 1 < below.length ? below[left + 1] : zeros[l]);
  }
  return levels[0].length - 1;
}

function path(levels, index) {
  const siblings = [];
  const pathIndices = [];
  for (let l = 0; l < depth; ++l) {
    const sibling = index ^ 1;
    siblings.push(sibling < levels[l].length ? levels[l][sibling] : zeros[l]);
    pathIndices.push(index & 1);
    index >>= 1;
  }
  return { siblings, pathIndices };
}

/** CPU milliseconds since `from` (a process.cpuUsage() value). */
const cpuMs = (from) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};
/** CPU milliseconds per call of fn over n calls. */
const timeIt = (n, fn) => {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; ++i) fn(i);
  return cpuMs(c0) / n;
};

// Warm-up, then the single hash.
let h = F.e(1n);
timeIt(500, () => { h = hash(h, zeros[1]); });
const hashNodeUs = 1000 * timeIt(3000, () => { h = hash(h, zeros[1]); });

// (a) bulk build.
const leaves = randomLeaves(buildLeaves);
const t0 = performance.now();
const c0 = process.cpuUsage();
const built = fromLeaves(leaves);
const buildMs = cpuMs(c0);
const buildWallMs = performance.now() - t0;
let buildHashes = 0;
for (let l = 1; l <= depth; ++l) buildHashes += built[l].length;
const fullHashes = 2 ** depth - 1;

// (b) append one leaf and read its path, on a tree of 2^16 leaves (as tree_bench does).
const tree = fromLeaves(randomLeaves(1 << 16));
let leaf = F.e(7n);
const appendUs = 1000 * timeIt(300, () => {
  const index = append(tree, leaf);
  path(tree, index);
  leaf = F.add(leaf, F.one);
});

// (c) serve a path of a random leaf.
let sink = 0;
const pathNs = 1e6 * timeIt(200000, (i) => { sink += path(tree, (i * 40503) & 0xffff).pathIndices[0]; });

console.log(JSON.stringify({
  hash_node_us: Number(hashNodeUs.toFixed(2)),
  build_leaves: buildLeaves,
  build_hashes: buildHashes,
  build_ms: Number(buildMs.toFixed(1)),
  build_wall_ms: Number(buildWallMs.toFixed(1)),
  build_million_scaled_ms: Number((buildMs / buildHashes * fullHashes).toFixed(0)),
  append_with_path_us: Number(appendUs.toFixed(1)),
  path_ns: Number(pathNs.toFixed(0)),
  sink,
}));
