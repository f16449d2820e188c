// The pieces of a production-shaped deployment for tests/integration/cluster_test.mjs, each a real
// process on loopback: a throwaway PostgreSQL and Redis (scripts/pg-test-server.sh,
// scripts/redis-test-server.sh), `proofgate serve` on a fixed port (so it can be killed and
// started again where haproxy expects it), `proofgate worker`, the webhook receiver
// (webhook_receiver.py) and haproxy in the foreground with its stats socket. Everything started
// here is registered for cleanup: `cleanUp()` stops it all synchronously, and it also runs when the
// process exits for any reason (a failed assertion, an exception, SIGINT/SIGTERM).
import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const repoRoot = path.resolve(here, '../..');
const pgScript = path.join(repoRoot, 'scripts/pg-test-server.sh');
const redisScript = path.join(repoRoot, 'scripts/redis-test-server.sh');
const receiverScript = path.join(here, 'webhook_receiver.py');
const psqlBin = path.join(process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin', 'psql');
const haproxyBin = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';
const kStartTimeoutMs = 20_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- cleanup: synchronous, idempotent, last registered first ---

const cleanups = [];

/** Registers `fn` (synchronous) to run at cleanUp() or process exit, whichever comes first. */
export function onCleanUp(fn) {
  let done = false;
  cleanups.push(() => {
    if (done) return;
    done = true;
    try {
      fn();
    } catch { /* the rest still runs */ }
  });
}

export function cleanUp() {
  while (cleanups.length > 0) cleanups.pop()();
}

process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanUp();
    process.exit(128 + os.constants.signals[signal]);
  });
}

/** A fresh private directory (short path: PostgreSQL puts its socket there), removed at cleanup. */
export function tempDir(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pgc-${label}-`));
  onCleanUp(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A free TCP port on loopback (closed again; whoever binds it next must be quick). */
export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Kills a child process with SIGKILL now (synchronously) if it still runs. */
function killNow(child) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Resolves with {code, signal} when `child` exits; `holder.exit` is set then. */
function watchExit(child, holder) {
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    holder.exit = { code, signal };
    resolve(holder.exit);
  }));
}

// --- PostgreSQL ---

/** A throwaway PostgreSQL 15: {url, sql(query) -> Promise of rows (objects), stop()}. */
export function startPostgres() {
  // Its own directory: the script hands it to the postgres user when run as root.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgc-pg-'));
  const r = spawnSync('bash', [pgScript, 'start', dir], { encoding: 'utf8' });
  const stop = () => {
    spawnSync('bash', [pgScript, 'stop', dir], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  onCleanUp(stop);
  if (r.status !== 0) throw new Error(`pg-test-server.sh start failed (${r.status}): ${r.stderr}`);
  const url = r.stdout.trim();
  /** The rows of `query` as objects (json_agg on the server side). */
  const sql = (query) => new Promise((resolve, reject) => {
    execFile(psqlBin, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', url,
      '-c', `SELECT coalesce(json_agg(t), '[]'::json) FROM (${query}) t`], (error, stdout, stderr) => {
      if (error) reject(new Error(`psql: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
  return { url, sql, stop };
}

// --- Redis ---

/** A throwaway redis-server (no persistence): kill -9 loses every key. */
export class RedisServer {
  static start() {
    const r = new RedisServer();
    r.dir = path.join(tempDir('redis'), 'server');
    r.#start([]);
    onCleanUp(() => r.stop());
    return r;
  }

  #start(extra) {
    // --owner: the server shuts itself down if this process dies without cleaning up.
    const r = spawnSync('bash', [redisScript, 'start', this.dir, '--owner', String(process.pid), ...extra], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`redis-test-server.sh start failed (${r.status}): ${r.stderr}`);
    this.url = r.stdout.trim();
    this.port = Number(this.url.split(':').pop());
  }

  pid() {
    return Number(fs.readFileSync(path.join(this.dir, 'redis.pid'), 'utf8').trim());
  }

  /** kill -9: every key is gone (nothing persisted); resolves once the process is gone. */
  async kill() {
    const pid = this.pid();
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 200; ++i) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await sleep(25);
    }
    throw new Error(`redis-server ${pid} survived SIGKILL`);
  }

  /** A new, empty server on the same port (the URL the instances know). */
  restart() {
    this.#start(['--port', String(this.port)]);
  }

  /** One redis-cli command; its answer as text. */
  cli(...args) {
    const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`redis-cli ${args[0]}: ${r.stderr}`);
    return r.stdout.trim();
  }

  stop() {
    spawnSync('bash', [redisScript, 'stop', this.dir], { stdio: 'ignore' });
  }
}

// --- proofgate serve / worker / admin ---

/** One `proofgate serve` on `listen` (HOST:PORT, port 0 = any); stdout (request log) and stderr kept. */
export class Instance {
  static async start(opts) {
    const s = new Instance(opts);
    await s.#launch(opts.listen ?? '127.0.0.1:0');
    return s;
  }

  constructor({ bin, artifacts, dataDir, args = [], name }) {
    Object.assign(this, { bin, artifacts, dataDir, args, name });
  }

  async #launch(listen) {
    this.stdout = '';
    this.stderr = '';
    this.exit = null;
    this.address = undefined;
    const argv = ['serve', '--listen', listen, '--data-dir', this.dataDir, '--artifacts-dir', this.artifacts, ...this.args];
    const child = spawn(this.bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    onCleanUp(() => killNow(child));
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { this.stdout += d; });
    this.exited = watchExit(child, this);
    const demo = this.args.includes('--demo');
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: did not listen within ${kStartTimeoutMs} ms:\n${this.stderr}`)), kStartTimeoutMs);
      child.stderr.on('data', (d) => {
        this.stderr += d;
        if (!this.address) {
          const m = /"msg":"listening","address":"([^"]+)"[^\n]*\n/.exec(this.stderr);  // the whole line
          if (m) this.address = m[1];
        }
        if (this.address && (!demo || this.stderr.includes('Try it'))) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name}: exited (code ${code}, signal ${signal}) before listening:\n${this.stderr}`));
      });
    });
    this.port = Number(this.address.split(':').pop());
    this.url = `http://${this.address}`;
  }

  get running() {
    return this.exit === null;
  }

  /** kill -9; resolves with {code, signal}. */
  async kill() {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  async stop(signal = 'SIGTERM') {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** A new process on the same port and arguments (after the old one exited); logs start afresh. */
  async restart() {
    if (this.running) throw new Error(`${this.name}: still running`);
    const old = { stdout: this.stdout, stderr: this.stderr };
    await this.#launch(`127.0.0.1:${this.port}`);
    this.previous = old;
  }

  /** The request-log lines (JSON objects) of this process, the one before a restart included. */
  requests() {
    const out = [];
    for (const text of [this.previous?.stdout ?? '', this.stdout]) {
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line);
          if (j.msg === 'request') out.push(j);
        } catch { /* a line cut by kill -9 */ }
      }
    }
    return out;
  }
}

/** One `proofgate worker`; resolves once it logged "worker started". */
export async function startWorker(bin, args) {
  const child = spawn(bin, ['worker', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  onCleanUp(() => killNow(child));
  const w = { child, stderr: '', exit: undefined };
  w.exited = watchExit(child, w);
  w.kill = async () => {
    if (w.exit === undefined) child.kill('SIGKILL');
    return w.exited;
  };
  w.stop = async () => {
    if (w.exit === undefined) child.kill('SIGTERM');
    return w.exited;
  };
  child.stderr.setEncoding('utf8');
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`proofgate worker did not start: ${w.stderr}`)), kStartTimeoutMs);
    child.stderr.on('data', (d) => {
      w.stderr += d;
      if (w.stderr.includes('"worker started"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`proofgate worker exited (${code}): ${w.stderr}`)));
  });
  return w;
}

/** `proofgate admin ...args`; its JSON output. Throws with stderr on failure. */
export function admin(bin, args) {
  const r = spawnSync(bin, ['admin', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`proofgate admin ${args[0]} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// --- the webhook receiver ---

/** webhook_receiver.py in ok mode (answers 200, after `hangSeconds` when given); `entries()` reads its log. */
export class Receiver {
  static async start({ secrets, port = 0, hangSeconds }) {
    const r = new Receiver();
    r.log = path.join(tempDir('rx'), 'receiver.jsonl');
    const argv = [receiverScript, '--port', String(port), '--mode', 'ok', '--log', r.log];
    for (const s of secrets) argv.push('--secret', s);
    if (hangSeconds !== undefined) argv.push('--hang-seconds', String(hangSeconds));
    r.child = spawn('python3', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanUp(() => killNow(r.child));
    r.stderr = '';
    r.child.stderr.setEncoding('utf8');
    r.child.stderr.on('data', (d) => { r.stderr += d; });
    r.exited = watchExit(r.child, r);
    r.port = await new Promise((resolve, reject) => {
      let out = '';
      r.child.stdout.setEncoding('utf8');
      r.child.stdout.on('data', (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)).port);
      });
      r.child.on('exit', (code) => reject(new Error(`webhook_receiver.py exited (${code}): ${r.stderr}`)));
    });
    return r;
  }

  /** The requests logged so far (a line still being written is skipped). */
  entries() {
    if (!fs.existsSync(this.log)) return [];
    const out = [];
    for (const line of fs.readFileSync(this.log, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line));
      } catch { /* partial last line */ }
    }
    return out;
  }

  async stop() {
    if (this.exit === undefined) this.child.kill('SIGTERM');
    return this.exited;
  }
}

// --- haproxy ---

/**
 * haproxy in the foreground (-db) on 127.0.0.1:`port`, round robin over `servers` ({name, port}),
 * each health-checked with GET /readyz every 300 ms (down after 2 failures, up after 2 successes).
 * A request whose connection to a server fails is sent to another one (retries 2, redispatch);
 * a request already sent is never re-sent (haproxy's default retry-on: conn-failure only).
 * Every answer carries X-Served-By: the server's name.
 */
export class Haproxy {
  static async start({ servers, port }) {
    const h = new Haproxy();
    h.dir = tempDir('haproxy');
    h.socket = path.join(h.dir, 'admin.sock');
    h.config = path.join(h.dir, 'haproxy.cfg');
    h.port = port;
    h.url = `http://127.0.0.1:${port}`;
    fs.writeFileSync(h.config, [
      'global',
      '  maxconn 4096',
      `  stats socket ${h.socket} mode 600 level admin`,
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      '  timeout http-request 10s',
      '  timeout http-keep-alive 10s',
      '  retries 2',
      '  option redispatch',
      'frontend api',
      `  bind 127.0.0.1:${port}`,
      '  default_backend proofgate',
      'backend proofgate',
      '  balance roundrobin',
      '  option httpchk GET /readyz',
      '  http-check expect status 200',
      '  default-server inter 300ms fastinter 200ms downinter 300ms fall 2 rise 2',
      '  http-response set-header X-Served-By %s',
      ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`),
      '',
    ].join('\n'));
    const check = spawnSync(haproxyBin, ['-c', '-q', '-f', h.config], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`haproxy -c: ${check.stdout}${check.stderr}`);
    h.stderr = '';
    h.child = spawn(haproxyBin, ['-db', '-f', h.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    onCleanUp(() => killNow(h.child));
    h.child.stderr.setEncoding('utf8');
    h.child.stderr.on('data', (d) => { h.stderr += d; });
    h.exited = watchExit(h.child, h);
    const deadline = Date.now() + kStartTimeoutMs;
    for (;;) {
      if (h.exit) throw new Error(`haproxy exited ${JSON.stringify(h.exit)}: ${h.stderr}`);
      if (fs.existsSync(h.socket) && await canConnect(port)) break;
      if (Date.now() > deadline) throw new Error(`haproxy did not listen: ${h.stderr}`);
      await sleep(50);
    }
    return h;
  }

  /** One command on the stats socket; its answer. */
  command(cmd) {
    return new Promise((resolve, reject) => {
      const c = net.connect({ path: this.socket });
      let out = '';
      c.setEncoding('utf8');
      c.on('data', (d) => { out += d; });
      c.on('end', () => resolve(out));
      c.on('error', reject);
      c.on('connect', () => c.write(`${cmd}\n`));
    });
  }

  /** The health state haproxy holds of each server: {name: 'UP' | 'DOWN' | 'UP 1/2' | ...}. */
  async states() {
    const csv = await this.command('show stat');
    const lines = csv.split('\n').filter((l) => l.length > 0);
    const header = lines[0].replace(/^# /, '').split(',');
    const col = (n) => header.indexOf(n);
    const out = {};
    for (const l of lines.slice(1)) {
      const f = l.split(',');
      if (f[col('pxname')] !== 'proofgate' || ['BACKEND', 'FRONTEND'].includes(f[col('svname')])) continue;
      out[f[col('svname')]] = f[col('status')];
    }
    return out;
  }

  /** Waits until every server in `want` ({name: 'UP'|'DOWN'}) is in that state. */
  async waitStates(want, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    let got;
    for (;;) {
      got = await this.states();
      if (Object.entries(want).every(([n, s]) => got[n] === s)) return got;
      if (Date.now() > deadline) throw new Error(`haproxy: wanted ${JSON.stringify(want)}, has ${JSON.stringify(got)}`);
      await sleep(100);
    }
  }

  async stop() {
    if (!this.exit) this.child.kill('SIGTERM');
    return this.exited;
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

// --- HTTP ---

/**
 * One request with fetch: {status, headers, text, json, error}. A failed connection (a killed
 * instance, a reset) is status 0 with `error` set, never an exception.
 */
export async function call(base, method, pathname, { key, body, headers = {} } = {}) {
  const h = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
  let res;
  try {
    res = await fetch(base + pathname, { method, headers: h, body: payload, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    return { status: 0, headers: new Headers(), text: '', json: undefined, error: e.cause?.message ?? e.message };
  }
  let text = '';
  try {
    text = await res.text();
  } catch (e) {
    return { status: 0, headers: res.headers, text: '', json: undefined, error: `body: ${e.cause?.message ?? e.message}` };
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON (haproxy's own error pages are HTML) */ }
  return { status: res.status, headers: res.headers, text, json };
}
