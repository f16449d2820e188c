// `make bench`: group commit on SQLite. bench/store_commit_bench runs T threads that record proofs
// (proof row + idempotency answer, as a verify writes them) on one SqliteStore for a few seconds;
// each thread count runs with --max-group 1 (one transaction, one fsync per write: the store before
// group commit) and with the default group bound, alternating, for BENCH_STORE_ROUNDS rounds
// (default 3); the medians go to a Markdown section in build/bench/report.md.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bin = path.join(root, 'build/release/bench/store_commit_bench');
const rounds = Number(process.env.BENCH_STORE_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_STORE_SECONDS ?? 3);
const threadCounts = [1, 2, 8, 32];
const cpu = (() => {
  const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return `${line ? line.split(':')[1].trim() : os.cpus()[0].model}, ${os.cpus().length} cores`;
})();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proofgate-bench-store-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const once = (threads, maxGroup, synchronous) => JSON.parse(execFileSync(bin, [
  '--dir', dir, '--threads', String(threads), '--seconds', String(seconds),
  '--max-group', String(maxGroup), '--synchronous', synchronous], { encoding: 'utf8' }).trim());
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const rows = [];
for (const synchronous of ['FULL', 'NORMAL']) {
  for (const threads of threadCounts) {
    const runs = { 1: [], 128: [] };
    for (let r = 0; r < rounds; r++) {
      for (const g of [1, 128]) runs[g].push(once(threads, g, synchronous));
    }
    const m = (g, key) => median(runs[g].map((x) => x[key]));
    rows.push({
      synchronous, threads,
      single: m(1, 'writes_per_second'), singleP95: m(1, 'latency_p95_us'),
      grouped: m(128, 'writes_per_second'), groupedP95: m(128, 'latency_p95_us'),
      perTransaction: m(128, 'writes_per_transaction'),
    });
    const last = rows.at(-1);
    console.error(`bench-store: ${synchronous} ${threads} threads: ${last.single.toFixed(0)} → ${last.grouped.toFixed(0)} writes/s`);
  }
}

const lines = ['## Group commit (SQLite)', ''];
lines.push(`Run: ${new Date().toISOString().slice(0, 10)} on ${cpu}. \`bench/store_commit_bench\`: T threads record proofs ` +
  '(proof row and idempotency answer in one write, as a verify does) on one SqliteStore for ' +
  `${seconds} s; one transaction per write (\`--max-group 1\`, the store before group commit) against group commit ` +
  `(bound 128), alternating, median of ${rounds} rounds. Latency of one record_proof in µs.`);
lines.push('');
lines.push('| synchronous | threads | one transaction per write (writes/s) | p95 | group commit (writes/s) | p95 | writes per transaction | speed-up |');
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  lines.push(`| ${r.synchronous} | ${r.threads} | ${r.single.toFixed(0)} | ${r.singleP95.toFixed(0)} | ` +
    `${r.grouped.toFixed(0)} | ${r.groupedP95.toFixed(0)} | ${r.perTransaction.toFixed(2)} | ${(r.grouped / r.single).toFixed(2)}× |`);
}
const section = lines.join('\n');
console.log(section);

const reportDir = path.join(root, 'build/bench');
fs.mkdirSync(reportDir, { recursive: true });
const reportPath = path.join(reportDir, 'report.md');
const previous = fs.existsSync(reportPath) ? fs.readFileSync(reportPath, 'utf8') : '';
const at = previous.indexOf('## Group commit (SQLite)');
const kept = (at >= 0 ? previous.slice(0, at) : previous).replace(/\n*$/, '');
fs.writeFileSync(reportPath, `${kept ? `${kept}\n\n` : ''}${section}\n`);
