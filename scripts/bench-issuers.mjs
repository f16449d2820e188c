#!/usr/bin/env node
// `make bench`, issuers part: on loopback, with the real processes of tests/integration/issuer_stack.mjs
// (a MOHA sandbox authority over mutual TLS, its issuer node, a verifier following the node's feed
// with root_grace_seconds 0), measures
//   (b) the enrolment round trip: POST /issuer/v1/enrolments, the code read from the sandbox's SMS
//       file, POST /issuer/v1/enrolments/complete → 201 with the credential (BENCH_ENROLMENTS, 20);
//   (a) revocation latency: the admin revoke sent → the verifier's /metrics proofgate_feed_seq
//       reaching the revocation entry's seq, once per credential enrolled in (b); and, with real
//       proofs (BENCH_REVOKE_PROOFS, 1), revoke sent → a proof made before it on the old root
//       answered 422 STALE_ROOT (after a proof on the same root was verified just before).
// Prints a Markdown section and adds it to build/bench/report.md (also build/bench/report-issuers.md).
// Target (issue #12, "How fast"): revoke → refused in under 2 s on loopback with grace 0.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';

import { startIssuerStack, waitFor } from '../tests/integration/issuer_stack.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bin = path.resolve(process.env.PROOFGATE_BIN ?? path.join(root, 'build/release/proofgate'));
process.env.PROOFGATE_ARTIFACTS = path.resolve(process.env.PROOFGATE_ARTIFACTS ?? path.join(root, 'build/release/artifacts'));
const count = (name, fallback, min) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < min || v > 500) throw new Error(`${name} ${JSON.stringify(process.env[name])} is not an integer ${min}..500`);
  return v;
};
const enrolments = count('BENCH_ENROLMENTS', 20, 1);
const realProofs = count('BENCH_REVOKE_PROOFS', 1, 0);
const targetMs = 2000;
// BN254's scalar field order r: holder commitments are field elements below it.
const r = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const cpu = (() => {
  const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return `${line ? line.split(':')[1].trim() : os.cpus()[0].model}, ${os.cpus().length} cores`;
})();

/** A JSON request from `localAddress` (the node rate-limits holder routes per source address;
 * every address of 127.0.0.0/8 is loopback on Linux). Resolves with {status, json, text}. */
function request(url, method, body, { localAddress = '127.0.0.1', headers = {} } = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method, localAddress, timeout: 30_000,
      headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch { /* not JSON */ }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const ms = (t0) => performance.now() - t0;
/** Nearest-rank percentile of sorted `xs`. */
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))];
const summary = (values) => {
  const xs = [...values].sort((a, b) => a - b);
  return { n: xs.length, median: pct(xs, 50), p95: pct(xs, 95), max: xs[xs.length - 1] };
};
const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

async function measure(stack) {
  const node = stack.nodes.moha;
  const authority = stack.authorities.moha;
  const verifier = stack.verifier;
  const records = authority.records.map((x) => x.record);

  // (b) enrolment round trips, each from its own loopback address.
  const enrol = { start: [], complete: [], total: [] };
  const credentials = [];
  for (let i = 0; i < enrolments; ++i) {
    const record = records[i];
    const localAddress = `127.0.0.${2 + i}`;
    const sms = authority.smsFile(record);
    fs.rmSync(sms, { force: true });
    const t0 = performance.now();
    const started = await request(`${node.url}/issuer/v1/enrolments`, 'POST', { record }, { localAddress });
    if (started.status !== 202) throw new Error(`enrolment start answered ${started.status} ${started.text}`);
    const tStarted = ms(t0);
    const code = await authority.code(record);
    const t1 = performance.now();
    const commitment = (BigInt(`0x${randomBytes(32).toString('hex')}`) % (r - 1n)) + 1n;
    const done = await request(`${node.url}/issuer/v1/enrolments/complete`, 'POST',
      { record, code, holder_commitment: commitment.toString() }, { localAddress });
    if (done.status !== 201) throw new Error(`enrolment complete answered ${done.status} ${done.text}`);
    enrol.start.push(tStarted);
    enrol.complete.push(ms(t1));
    enrol.total.push(ms(t0));
    credentials.push(done.json);
  }

  // (a) with real proofs: a credential enrolled through the wallet on the current root, a
  // partner, and per round two proofs made on that root: the first must be verified (the root is
  // current and the proof good), the second, sent once the verifier took the revocation, refused.
  const proofRuns = [];
  if (realProofs > 0) {
    const created = spawnSync(bin, ['admin', 'create-client', '--name', 'bench', '--scopes', 'age_over_18',
      '--domains', 'bench.example', '--data-dir', verifier.dataDir], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`admin create-client: ${created.stderr}`);
    const apiKey = JSON.parse(created.stdout).api_key;
    const api = { authorization: `Bearer ${apiKey}` };
    const adults = authority.records.slice(enrolments).filter((x) => Number(x.date_of_birth_bs.slice(0, 4)) <= 2063);
    if (adults.length < realProofs) throw new Error('too few adult MOHA records left for the proof rounds');
    const prove = async (credentialFile) => {
      const req = await request(`${verifier.url}/api/v1/requests`, 'POST', { claim_type: 'age_over_18' }, { headers: api });
      if (req.status !== 201 && req.status !== 200) throw new Error(`POST /api/v1/requests: ${req.status} ${req.text}`);
      const requestFile = path.join(stack.dir, `request-${randomBytes(4).toString('hex')}.json`);
      fs.writeFileSync(requestFile, req.text);
      const p = await stack.wallet(['prove', '--holder', path.join(stack.walletDir, 'holder.json'), '--credential', credentialFile,
        '--request', requestFile, '--artifacts', process.env.PROOFGATE_ARTIFACTS]);
      if (p.code !== 0) throw new Error(`wallet prove: ${p.stderr}`);
      return p.json;
    };
    for (let i = 0; i < realProofs; ++i) {
      const { file, credential } = await stack.enrol('moha', adults[i].record);
      const [control, probe] = [await prove(file), await prove(file)];
      const ok = await request(`${verifier.url}/api/v1/verify`, 'POST', control, { headers: api });
      if (ok.status !== 200 || ok.json.status !== 'verified') throw new Error(`the control proof was not verified: ${ok.status} ${ok.text}`);
      const t0 = performance.now();
      const rev = await node.admin('POST', `/issuer/v1/admin/credentials/${credential.leaf_index}/revoke`, { reason: 'bench' });
      if (rev.status !== 200) throw new Error(`revoke: ${rev.status} ${rev.text}`);
      await waitFor(async () => (await verifier.feedSeq('moha')) >= rev.json.root_seq, 'the revocation at the verifier', { timeoutMs: 20_000, everyMs: 0 });
      const refused = await request(`${verifier.url}/api/v1/verify`, 'POST', probe, { headers: api });
      const total = ms(t0);
      if (refused.status !== 422 || refused.json.error_code !== 'STALE_ROOT') {
        throw new Error(`the proof on the revoked root answered ${refused.status} ${refused.text}, not 422 STALE_ROOT`);
      }
      proofRuns.push(total);
    }
  }

  // (a) revocation latency over the feed, one revocation per credential of (b).
  const revoke = { answered: [], seen: [] };
  for (const c of credentials) {
    const t0 = performance.now();
    const rev = await node.admin('POST', `/issuer/v1/admin/credentials/${c.leaf_index}/revoke`, { reason: 'bench' });
    if (rev.status !== 200) throw new Error(`revoke: ${rev.status} ${rev.text}`);
    revoke.answered.push(ms(t0));
    await waitFor(async () => (await verifier.feedSeq('moha')) >= rev.json.root_seq, 'the revocation at the verifier', { timeoutMs: 20_000, everyMs: 0 });
    revoke.seen.push(ms(t0));
  }
  return { enrol, revoke, proofRuns };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proofgate-bench-issuers-'));
let stack;
let results;
try {
  stack = await startIssuerStack({ bin, dir, kinds: ['moha'], records: enrolments + realProofs + 40, graceSeconds: 0 });
  results = await measure(stack);
} catch (err) {
  console.error(`bench-issuers: ${err.stack}\nlogs: ${dir}`);
  await stack?.stop().catch(() => {});
  process.exit(1);
}
await stack.stop();
fs.rmSync(dir, { recursive: true, force: true });

const { enrol, revoke, proofRuns } = results;
const row = (name, values) => {
  const s = summary(values);
  return `| ${name} | ${s.n} | ${f(s.median)} | ${f(s.p95)} | ${f(s.max)} |`;
};
const seen = summary(revoke.seen);
const worst = Math.max(seen.max, ...proofRuns);
const lines = [
  '## Issuer feed and enrolment',
  '',
  `Run: ${new Date().toISOString().slice(0, 10)} on ${cpu}. \`node scripts/bench-issuers.mjs\`: the release binary as separate ` +
    'processes on loopback (a MOHA `sandbox-authority` over mutual TLS, its `issuer serve` node, a `serve` verifier following ' +
    'the node\'s feed with `--root-grace-seconds 0`; SQLite with synchronous=FULL everywhere). Times in ms, from the client.',
  '',
  '| what | n | median | p95 | max |',
  '| --- | ---: | ---: | ---: | ---: |',
  row('(a) revoke sent → revoke answered (leaf set to 0, entry signed, committed)', revoke.answered),
  row('(a) revoke sent → the verifier\'s proofgate_feed_seq at the revocation\'s entry', revoke.seen),
  ...(proofRuns.length ? [row('(a) revoke sent → a proof on the old root answered 422 STALE_ROOT', proofRuns)] : []),
  row('(b) enrolment start: POST /issuer/v1/enrolments → 202 (code sent by the authority)', enrol.start),
  row('(b) enrolment complete: POST …/enrolments/complete → 201 (record fetched, leaf, entry)', enrol.complete),
  row('(b) enrolment round trip: start + reading the code file + complete', enrol.total),
  '',
  `- Target revoke → refused < ${targetMs} ms on loopback with grace 0: ${worst < targetMs ? 'met' : 'not met'} ` +
    `(worst ${f(worst)} ms over ${seen.n + proofRuns.length} revocations).`,
];
const section = lines.join('\n');
console.log(section);

const reportDir = path.join(root, 'build/bench');
fs.mkdirSync(reportDir, { recursive: true });
fs.writeFileSync(path.join(reportDir, 'report-issuers.md'), `${section}\n`);
const reportPath = path.join(reportDir, 'report.md');
const previous = fs.existsSync(reportPath) ? fs.readFileSync(reportPath, 'utf8') : '';
const at = previous.indexOf('## Issuer feed and enrolment');
const kept = (at >= 0 ? previous.slice(0, at) : previous).replace(/\n*$/, '');
fs.writeFileSync(reportPath, `${kept ? `${kept}\n\n` : ''}${section}\n`);
