// `make bench`, issuer tree part: bench/tree_bench.cpp (the C++ tree, src/issuer/tree.hpp) against
// bench/tree_circomlibjs.mjs (the same tree shape and work with circomlibjs's Poseidon) in one run.
// Prints a Markdown section and adds it to build/bench/report.md (also written alone to
// build/bench/report-tree.md). Ratios use CPU time (these machines are shared; see
// docs/benchmarks.md); the target is >= 50x circomlibjs (issue #12, "How fast").
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
const target = 50;

const cpu = (() => {
  const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return `${line ? line.split(':')[1].trim() : os.cpus()[0].model}, ${os.cpus().length} cores`;
})();

// Names without Google Benchmark's run suffixes ("/iterations:1/process_time/real_time").
const ours = Object.fromEntries(JSON.parse(run(path.join(root, 'build/release/bench/tree_bench'),
  ['--benchmark_format=json', '--benchmark_min_time=0.5'])).benchmarks
  .filter((b) => !b.run_type || b.run_type === 'iteration')
  .map((b) => [b.name.replace(/\/(iterations|process_time|real_time|min_time)\b.*$/, ''), b]));
const theirs = JSON.parse(run('node', ['bench/tree_circomlibjs.mjs']).trim().split('\n').pop());

// Google Benchmark reports in each benchmark's time_unit; convert to µs.
const perUnit = { ns: 1e-3, us: 1, ms: 1e3, s: 1e6 };
const us = (b, key) => b[key] * perUnit[b.time_unit];
const perItemUs = (b) => b.items_per_second ? 1e6 / b.items_per_second : NaN;
const node = ours.bm_tree_hash_node;
const level = ours['bm_tree_hash_level/batched'];
const levelScalar = ours['bm_tree_hash_level/scalar'];
const build = ours.bm_tree_build_million;
const append = ours.bm_tree_append_with_path;
const pathB = ours.bm_tree_path;
const batchPath = level.ifma ? 'AVX-512 IFMA' : 'scalar: this CPU has no AVX-512 IFMA';

const rows = [
  ['one node alone, Poseidon(2)', `${us(node, 'cpu_time').toFixed(2)} µs`, `${theirs.hash_node_us.toFixed(2)} µs`,
    theirs.hash_node_us / us(node, 'cpu_time')],
  [`one node in a level of 4096 (${batchPath})`, `${perItemUs(level).toFixed(2)} µs`,
    `${theirs.hash_node_us.toFixed(2)} µs`, theirs.hash_node_us / perItemUs(level)],
  ['one node in a level of 4096 (scalar loop)', `${perItemUs(levelScalar).toFixed(2)} µs`,
    `${theirs.hash_node_us.toFixed(2)} µs`, theirs.hash_node_us / perItemUs(levelScalar)],
  ['(a) build 2^20 leaves, CPU of all threads', `${(us(build, 'cpu_time') / 1e3).toFixed(0)} ms`,
    `${theirs.build_million_scaled_ms} ms (scaled from ${theirs.build_leaves} leaves)`,
    theirs.build_million_scaled_ms / (us(build, 'cpu_time') / 1e3)],
  ['(a) the same, wall time', `${(us(build, 'real_time') / 1e3).toFixed(0)} ms`,
    `${(theirs.build_wall_ms / theirs.build_hashes * (2 ** 20 - 1)).toFixed(0)} ms (scaled)`,
    (theirs.build_wall_ms / theirs.build_hashes * (2 ** 20 - 1)) / (us(build, 'real_time') / 1e3)],
  ['(b) append one leaf + its path', `${us(append, 'cpu_time').toFixed(1)} µs`, `${theirs.append_with_path_us} µs`,
    theirs.append_with_path_us / us(append, 'cpu_time')],
  ['(c) serve a path', `${(us(pathB, 'cpu_time') * 1e3).toFixed(0)} ns`, `${theirs.path_ns} ns`,
    theirs.path_ns / (us(pathB, 'cpu_time') * 1e3)],
];

const lines = [];
lines.push('## Issuer tree');
lines.push('');
lines.push(`Run: ${new Date().toISOString().slice(0, 10)} on ${cpu}. Depth-20 Poseidon tree: proofgate's ` +
  '(bench/tree_bench.cpp) against the same work with circomlibjs 0.1.7 Poseidon (bench/tree_circomlibjs.mjs); ' +
  '(b) and (c) on a tree of 2^16 leaves. CPU time unless marked wall.');
lines.push('');
lines.push('| work | proofgate | circomlibjs | speed-up |');
lines.push('| --- | ---: | ---: | ---: |');
for (const [name, a, b, ratio] of rows) lines.push(`| ${name} | ${a} | ${b} | ${ratio.toFixed(1)}× |`);
lines.push('');
const verdict = (ratio) => `${ratio.toFixed(1)}×, ${ratio >= target ? 'met' : 'not met'}`;
lines.push(`- Target ≥ ${target}× circomlibjs: (a) build ${verdict(rows[3][3])} (CPU time; its levels are ` +
  `batches of independent hashes); (b) append ${verdict(rows[5][3])} (20 dependent hashes, one at a ` +
  `time); (c) path ${verdict(rows[6][3])} (no hashing: 20 reads and two small allocations).`);
const section = lines.join('\n');
console.log(section);

const reportDir = path.join(root, 'build/bench');
fs.mkdirSync(reportDir, { recursive: true });
fs.writeFileSync(path.join(reportDir, 'report-tree.md'), `${section}\n`);
const reportPath = path.join(reportDir, 'report.md');
const previous = fs.existsSync(reportPath) ? fs.readFileSync(reportPath, 'utf8') : '';
const at = previous.indexOf('## Issuer tree');
const kept = (at >= 0 ? previous.slice(0, at) : previous).replace(/\n*$/, '');
fs.writeFileSync(reportPath, `${kept ? `${kept}\n\n` : ''}${section}\n`);
