// The issuers of docs/issuers.md as real processes on loopback, for tests and `make demo`: the
// test PKI (scripts/make-test-ca.sh), one `proofgate sandbox-authority` and one `proofgate issuer
// serve` (mutual TLS between them) per kind, and optionally a `proofgate serve` verifier following
// the nodes' signed root feeds; plus the wallet's command line against them. A node keeps its
// store in SQLite in its data directory, or on PostgreSQL when `databaseUrls[kind]` is given.
//
//   const stack = await startIssuerStack({ bin, dir });
//   const { credential } = await stack.enrol('moha', stack.authorities.moha.records[0].record);
//   ...
//   await stack.stop();
//
// Every process's stderr is written to `<dir>/<name>.log` (and its stdout to `<name>.out`).
// Readiness is polled (the "listening" lines, /healthz), never waited for with a fixed sleep.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const repoRoot = path.resolve(here, '../..');
const walletBin = path.join(repoRoot, 'clients/wallet/bin/wallet.mjs');
const makeTestCa = path.join(repoRoot, 'scripts/make-test-ca.sh');

const kStartTimeoutMs = 30_000;
const kStopTimeoutMs = 40_000; // a node drains held long polls for up to 31 s
const kCodeTimeoutMs = 10_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate()` (sync or async) every `everyMs` until it returns a truthy value, which is
 * returned; throws naming `what` after `timeoutMs`. */
export async function waitFor(predicate, what, { timeoutMs = 20_000, everyMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await sleep(everyMs);
  }
}

/** A free TCP port on loopback (closed again; whoever binds it next must be quick). */
export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * The value of the Prometheus sample `name{labels}` in `text` (labels: an object that must match
 * exactly the sample's labels), or undefined when there is no such sample.
 */
export function metricValue(text, name, labels = {}) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '').split(',').filter((s) => s.length > 0).sort().join(',');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}

// Every child still running when this process exits is killed (a failed test leaves no orphans).
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

/**
 * One child process: stdout kept in memory and copied to `<dir>/<name>.out`, stderr kept and
 * copied to `<dir>/<name>.log` (appended across restarts). `exited` resolves with {code, signal}.
 */
class Proc {
  constructor(bin, argv, dir, name) {
    this.name = name;
    this.stdout = '';
    this.stderr = '';
    this.exit = null;
    this.logFile = path.join(dir, `${name}.log`);
    const out = fs.openSync(path.join(dir, `${name}.out`), 'a');
    const err = fs.openSync(this.logFile, 'a');
    const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.pid = child.pid;
    live.add(child);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      this.stdout += d;
      fs.writeSync(out, d);
    });
    child.stderr.on('data', (d) => {
      this.stderr += d;
      fs.writeSync(err, d);
    });
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.exit = { code, signal };
        live.delete(child);
        fs.closeSync(out);
        fs.closeSync(err);
        resolve(this.exit);
      });
    });
  }

  get running() {
    return this.exit === null;
  }

  /** The JSON objects among the lines of `stream` ('stdout' or 'stderr'). */
  jsonLines(stream = 'stdout') {
    const out = [];
    for (const line of this[stream].split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line));
      } catch { /* a partial line: the next chunk completes it */ }
    }
    return out;
  }

  /** Resolves with the first JSON line of `stream` that `pick` maps to a truthy value. */
  async line(pick, what, stream = 'stdout') {
    return waitFor(() => {
      if (!this.running) {
        throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before ${what}; see ${this.logFile}:\n${this.stderr.slice(-2000)}`);
      }
      for (const j of this.jsonLines(stream)) {
        const v = pick(j);
        if (v) return v;
      }
      return undefined;
    }, `${this.name}: ${what}`, { timeoutMs: kStartTimeoutMs });
  }

  /** Sends `signal` and resolves with {code, signal} once the process has exited; a process that
   * has not exited after kStopTimeoutMs is killed with SIGKILL and that is an error. */
  async stop(signal = 'SIGTERM') {
    if (this.running) this.child.kill(signal);
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(resolve, kStopTimeoutMs, 'late'); });
    const r = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (r === 'late') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.name} did not exit within ${kStopTimeoutMs} ms of ${signal}`);
    }
    return r;
  }
}

function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A JSON request over mutual TLS with the issuer's client certificate from `pki`. */
export function mtlsRequest(pki, port, method, pathname, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, method, path: pathname,
      ca: fs.readFileSync(path.join(pki, 'ca.pem')),
      cert: fs.readFileSync(path.join(pki, 'issuer.pem')),
      key: fs.readFileSync(path.join(pki, 'issuer.key')),
      headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      timeout: 10_000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch { /* not JSON */ }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${pathname}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function getJson(url, headers = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, text, json, headers: res.headers };
}

async function startAuthority({ bin, dir, pki, kind, records }) {
  const dataDir = path.join(dir, `authority-${kind}`);
  const proc = new Proc(bin, ['sandbox-authority', '--kind', kind, '--listen', '127.0.0.1:0', '--data-dir', dataDir,
    '--records', String(records), '--ca', path.join(pki, 'ca.pem'), '--cert', path.join(pki, 'authority.pem'),
    '--key', path.join(pki, 'authority.key')], dir, `authority-${kind}`);
  const address = await proc.line((j) => j.listening, 'its listening line');
  const port = Number(address.split(':').pop());
  const recordsFile = path.join(dataDir, 'records.json');
  const list = await waitFor(() => fs.existsSync(recordsFile) && JSON.parse(fs.readFileSync(recordsFile, 'utf8')), `${recordsFile}`);
  const authority = {
    kind, port, dataDir, proc, records: list.records,
    /** POST /sandbox/v1/faults {mode, delay_ms}; resolves once the authority answered 200. */
    async setFault(mode, delayMs = 0) {
      const r = await mtlsRequest(pki, authority.port, 'POST', '/sandbox/v1/faults', { mode, delay_ms: delayMs });
      if (r.status !== 200) throw new Error(`setFault(${mode}): ${r.status} ${r.text}`);
      return r.json;
    },
    /** The path of the record's SMS file. */
    smsFile(record) {
      return path.join(dataDir, 'sms', `${record}.code`);
    },
    /** The code last "sent" for `record`, waiting for its file; with `notBefore` (a code read
     * earlier) waits for a different one. */
    async code(record, { notBefore } = {}) {
      const file = authority.smsFile(record);
      return waitFor(() => {
        if (!fs.existsSync(file)) return undefined;
        const m = /^(\d{6})\n$/.exec(fs.readFileSync(file, 'utf8'));
        return m && m[1] !== notBefore ? m[1] : undefined;
      }, `the code for a ${kind} record in ${file}`, { timeoutMs: kCodeTimeoutMs });
    },
    /** Starts a killed authority again on the same port and data directory. */
    async restart() {
      if (authority.proc.running) throw new Error(`restart: authority ${kind} still runs`);
      authority.proc = new Proc(bin, ['sandbox-authority', '--kind', kind, '--listen', `127.0.0.1:${authority.port}`, '--data-dir', dataDir,
        '--records', String(records), '--ca', path.join(pki, 'ca.pem'), '--cert', path.join(pki, 'authority.pem'),
        '--key', path.join(pki, 'authority.key')], dir, `authority-${kind}`);
      await authority.proc.line((j) => j.listening, 'its listening line');
    },
  };
  return authority;
}

async function startNode({ bin, dir, pki, kind, authorityPort, databaseUrl }) {
  const dataDir = path.join(dir, `node-${kind}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const argv = ['issuer', 'serve', '--issuer', kind, '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir,
    '--authority-url', `https://localhost:${authorityPort}`, '--ca', path.join(pki, 'ca.pem'),
    '--cert', path.join(pki, 'issuer.pem'), '--key', path.join(pki, 'issuer.key'), '--public-url', url];
  if (databaseUrl) argv.push('--database-url', databaseUrl);
  const node = { kind, url, port, dataDir, argv, adminToken: undefined, publicKey: undefined, proc: undefined };
  const launch = async () => {
    node.proc = new Proc(bin, argv, dir, `node-${kind}`);
    await node.proc.line((j) => j.listening, 'its listening line');
    await waitFor(async () => (await getJson(`${url}/healthz`)).status === 200, `${url}/healthz`);
  };
  await launch();
  // Printed once, at the first start (the node keeps only its SHA-256).
  node.adminToken = node.proc.jsonLines().find((j) => j.admin_token)?.admin_token;
  if (!node.adminToken) throw new Error(`issuer node ${kind} printed no admin token`);
  const keys = await getJson(`${url}/issuer/v1/keys`);
  if (keys.status !== 200) throw new Error(`issuer node ${kind}: GET /issuer/v1/keys answered ${keys.status} ${keys.text}`);
  node.publicKey = keys.json.keys[0].public_key;
  /** Sends `signal` (SIGTERM by default) and resolves once the process has exited. */
  node.kill = (signal = 'SIGTERM') => node.proc.stop(signal);
  /** A new process on the same port, data directory and arguments (the old one must have exited). */
  node.restart = async () => {
    if (node.proc.running) throw new Error(`restart: issuer node ${kind} still runs`);
    await launch();
  };
  /** An admin API call with the Bearer token: {status, json, text}. */
  node.admin = async (method, pathname, body) => {
    const res = await fetch(url + pathname, {
      method,
      headers: { authorization: `Bearer ${node.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: res.status, text, json };
  };
  node.stats = async () => {
    const r = await node.admin('GET', '/issuer/v1/admin/stats');
    if (r.status !== 200) throw new Error(`issuer node ${kind} admin stats: ${r.status} ${r.text}`);
    return r.json;
  };
  return node;
}

/**
 * A `proofgate serve` verifier on 127.0.0.1:0 in `dataDir`, following `feeds` ("moha|URL|KEY,…").
 * Its stderr goes to `<dir>/<name>.log`.
 */
export async function startVerifier({ bin, dir, name = 'verifier', feeds, graceSeconds = 0, args = [], artifacts = process.env.PROOFGATE_ARTIFACTS }) {
  if (!artifacts) throw new Error('startVerifier: PROOFGATE_ARTIFACTS (the circuit artifacts directory) is not set');
  const dataDir = path.join(dir, name);
  const argv = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--artifacts-dir', artifacts,
    '--insecure-development-keys', '--issuer-feeds', feeds, '--root-grace-seconds', String(graceSeconds), ...args];
  const proc = new Proc(bin, argv, dir, name);
  const address = await proc.line((j) => j.msg === 'listening' && j.address, 'its listening line', 'stderr');
  const port = Number(address.split(':').pop());
  const url = `http://127.0.0.1:${port}`;
  const verifier = {
    url, port, dataDir, proc,
    /** The text of GET /metrics. */
    async metrics() {
      const r = await fetch(`${url}/metrics`);
      if (r.status !== 200) throw new Error(`${name} /metrics answered ${r.status}`);
      return r.text();
    },
    /** proofgate_feed_seq of `issuer` (0 before the first accepted entry). */
    async feedSeq(issuer) {
      return metricValue(await verifier.metrics(), 'proofgate_feed_seq', { issuer }) ?? 0;
    },
    /** Waits until the verifier has accepted `issuer`'s feed up to `seq` at least. */
    async waitForSeq(issuer, seq, timeoutMs = 20_000) {
      return waitFor(async () => (await verifier.feedSeq(issuer)) >= seq, `${name} to accept ${issuer}'s feed up to seq ${seq}`, { timeoutMs });
    },
  };
  return verifier;
}

/**
 * Starts the PKI, the authorities, the issuer nodes and (unless `verifier` is false) a verifier
 * following every node's feed, all in `dir`. See the top of this file.
 */
export async function startIssuerStack({ bin, dir, kinds = ['moha', 'tu', 'nrb'], records = 50, graceSeconds = 0, verifier = true, verifierArgs = [], databaseUrls = {} }) {
  if (!bin) throw new Error('startIssuerStack: bin (the proofgate binary) is required');
  fs.mkdirSync(dir, { recursive: true });
  const pki = path.join(dir, 'pki');
  const ca = await run('bash', [makeTestCa, pki]);
  if (ca.code !== 0) throw new Error(`make-test-ca.sh failed (${ca.code}): ${ca.stderr}`);

  const stack = { dir, pki, authorities: {}, nodes: {}, verifier: undefined };
  const walletDir = path.join(dir, 'wallet');
  try {
    await Promise.all(kinds.map(async (kind) => {
      stack.authorities[kind] = await startAuthority({ bin, dir, pki, kind, records });
    }));
    await Promise.all(kinds.map(async (kind) => {
      stack.nodes[kind] = await startNode({ bin, dir, pki, kind, authorityPort: stack.authorities[kind].port, databaseUrl: databaseUrls[kind] });
    }));
    if (verifier) {
      const feeds = kinds.map((k) => `${k}|${stack.nodes[k].url}|${stack.nodes[k].publicKey}`).join(',');
      stack.verifier = await startVerifier({ bin, dir, feeds, graceSeconds, args: verifierArgs });
      // Ready when every feed's genesis entry is in.
      for (const kind of kinds) await stack.verifier.waitForSeq(kind, 1);
    }
  } catch (e) {
    await stopAll(stack);
    throw e;
  }

  /** Runs the wallet's command line: {code, stdout, stderr, json (the last stdout JSON line)}. */
  stack.wallet = async (args, env = {}) => {
    const r = await run(process.execPath, [walletBin, ...args], { env: { ...process.env, PROOFGATE_WALLET: walletDir, ...env } });
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
    let json;
    try {
      json = lines.length > 0 ? JSON.parse(lines[lines.length - 1]) : undefined;
    } catch { /* not JSON */ }
    return { ...r, json };
  };
  stack.walletDir = walletDir;

  /**
   * Enrols `record` at the `kind` node through the wallet (code sent, read from the sandbox's SMS
   * file, completed): resolves with {file, credential, answer} (the saved credential file, its
   * JSON, the wallet's output line); throws with the wallet's stderr when a step fails.
   */
  stack.enrol = async (kind, record, env = {}) => {
    const node = stack.nodes[kind];
    const authority = stack.authorities[kind];
    // The sandbox replaces the file atomically; removing it first makes the wait below see only
    // the code this enrolment asked for.
    fs.rmSync(authority.smsFile(record), { force: true });
    const started = await stack.wallet(['enroll', '--issuer-url', node.url, '--record', record], env);
    if (started.code !== 0) throw new Error(`wallet enroll (start) for a ${kind} record exited ${started.code}: ${started.stderr}`);
    const code = await authority.code(record);
    const done = await stack.wallet(['enroll', '--issuer-url', node.url, '--record', record, '--code', code], env);
    if (done.code !== 0) throw new Error(`wallet enroll (complete) for a ${kind} record exited ${done.code}: ${done.stderr}`);
    const file = done.json.credential;
    return { file, credential: JSON.parse(fs.readFileSync(file, 'utf8')), answer: done.json };
  };

  /** SIGTERM to every process (verifier first, then nodes, then authorities); waits for each. */
  stack.stop = () => stopAll(stack);
  return stack;
}

async function stopAll(stack) {
  const errors = [];
  const stopEach = async (procs) => {
    const rs = await Promise.allSettled(procs.filter((p) => p && p.running).map((p) => p.stop('SIGTERM')));
    for (const r of rs) if (r.status === 'rejected') errors.push(r.reason);
  };
  await stopEach([stack.verifier?.proc]);
  await stopEach(Object.values(stack.nodes).map((n) => n.proc));
  await stopEach(Object.values(stack.authorities).map((a) => a.proc));
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('; '));
}
