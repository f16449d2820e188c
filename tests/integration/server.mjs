// The real `proofgate serve` process for integration tests: started on 127.0.0.1:0 with its own
// data directory, its address read from the "listening" line on stderr, stopped with SIGTERM
// (or killed with SIGKILL) and restarted on the same data directory; plus the `proofgate admin`
// commands the tests use, and raw HTTP over node:net for what fetch cannot send.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { buildTree, credentialLeaf } from '../../clients/wallet/src/tree.mjs';

const kStartTimeoutMs = 20_000;

/** A fresh, private temporary directory (removed by `removeDir`). */
export function tempDir(label) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `proofgate-${label}-`));
}

export function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** One running `proofgate serve`. Its stdout (one JSON line per request) and stderr are kept. */
export class Server {
  /**
   * Starts `bin serve --listen 127.0.0.1:0 --data-dir dataDir --artifacts-dir artifacts ...args`
   * and resolves once it listens (and, with --demo, once the demo files are written). The test
   * circuits come from the DEVELOPMENT-ONLY ceremony, so `--insecure-development-keys` is added
   * unless `developmentKeys` is false or the arguments say --demo or --database-url.
   */
  static async start({ bin, artifacts, dataDir, args = [], developmentKeys = true }) {
    const insecure = developmentKeys && !args.includes('--demo') && !args.includes('--database-url');
    const server = new Server(bin, artifacts, dataDir, insecure ? ['--insecure-development-keys', ...args] : args);
    await server.#launch();
    return server;
  }

  constructor(bin, artifacts, dataDir, args) {
    this.bin = bin;
    this.artifacts = artifacts;
    this.dataDir = dataDir;
    this.args = args;
    this.stdout = '';
    this.stderr = '';
    this.exit = null; // {code, signal} once the process ended
  }

  async #launch() {
    const argv = ['serve', '--listen', '127.0.0.1:0', '--data-dir', this.dataDir, '--artifacts-dir', this.artifacts, ...this.args];
    const child = spawn(this.bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { this.stdout += d; });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    const demo = this.args.includes('--demo');
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`proofgate did not listen within ${kStartTimeoutMs} ms:\n${this.stderr}`)), kStartTimeoutMs);
      const check = () => {
        if (!this.address) {
          for (const line of this.stderr.split('\n')) {
            if (!line.startsWith('{')) continue;
            try {
              const j = JSON.parse(line);
              if (j.msg === 'listening') this.address = j.address;
            } catch { /* a partial line; the next chunk completes it */ }
          }
        }
        if (this.address && (!demo || this.stderr.includes('Try it'))) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stderr.on('data', (d) => {
        this.stderr += d;
        check();
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`proofgate exited (code ${code}, signal ${signal}) before listening:\n${this.stderr}`));
      });
    });
    this.port = Number(this.address.split(':').pop());
    this.url = `http://${this.address}`;
  }

  get running() {
    return this.exit === null;
  }

  /** Sends `signal` and resolves with {code, signal} when the process has exited. */
  async stop(signal = 'SIGTERM') {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** kill -9: no chance to flush or close anything. */
  async kill() {
    return this.stop('SIGKILL');
  }

  /** A new process on the same data directory and arguments (the old one must have exited). */
  async restart() {
    if (this.running) throw new Error('restart: the server still runs');
    return Server.start({ bin: this.bin, artifacts: this.artifacts, dataDir: this.dataDir, args: this.args, developmentKeys: false });
  }

  /** The JSON request lines the server wrote to stdout. */
  requestLines() {
    return this.stdout.split('\n').filter((l) => l.length > 0);
  }
}

/** Runs `bin admin ...args --data-dir dataDir` and returns its JSON output; throws on failure. */
export function admin(bin, dataDir, args) {
  const r = spawnSync(bin, ['admin', ...args, '--data-dir', dataDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`proofgate admin ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A new partner; the result holds its api_key. */
export function createClient(bin, dataDir, { name, scopes, domains }) {
  return admin(bin, dataDir, ['create-client', '--name', name, '--scopes', scopes.join(','), '--domains', domains.join(',')]);
}

export function publishRoot(bin, dataDir, issuerId, root) {
  return admin(bin, dataDir, ['publish-root', '--issuer-id', String(issuerId), '--root', String(root)]);
}

/**
 * The demo identity credential of `holder` in a live tree of the test's own (its leaf alone at
 * index 0): another root than the demo's sandbox tree, for the operator to publish live
 * (`publishRoot`), so that a live key can verify a proof made with it.
 */
export async function liveCredential(holder, identity) {
  const { birth_date: birthDate, country } = identity.attributes;
  const leaf = await credentialLeaf(1, 1, BigInt(holder.commitment), [birthDate, country], identity.expiry);
  const tree = await buildTree([leaf]);
  const { siblings, path_indices: pathIndices } = tree.path(0);
  return { ...identity, root: tree.root.toString(), siblings: siblings.map(String), path_indices: pathIndices };
}

export function setCircuit(bin, dataDir, claimType, version, enabled) {
  return admin(bin, dataDir, ['set-circuit', '--claim-type', claimType, '--version', version, '--enabled', String(enabled)]);
}

/**
 * Writes `chunks` (strings or Buffers, `gapMs` apart) to a new connection to `port`, optionally
 * half-closes it, and collects what the server sends until it closes the connection or
 * `timeoutMs` passes. Resolves with {data (Buffer), closed, reset, timedOut}.
 */
export function rawExchange(port, chunks, { halfClose = false, timeoutMs = 5000, gapMs = 0 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received = [];
    let reset = false;
    let done = false;
    const finish = (timedOut) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(received), closed: !timedOut, reset, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('data', (d) => received.push(d));
    socket.on('error', (e) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
      finish(false);
    });
    socket.on('close', () => finish(false));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) break;
        socket.write(chunk);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (halfClose && !socket.destroyed) socket.end();
    });
  });
}

/** The status code of the first HTTP response in `data`, or null. */
export function statusOf(data) {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(data.toString('latin1'));
  return m ? Number(m[1]) : null;
}

/**
 * An open connection to `port` whose received bytes are kept: `write` resolves once the bytes
 * are handed to the kernel, `ended` when the server closed the connection (or it was reset);
 * `lastDataAt` is the performance.now() of the last bytes received.
 */
export async function connect(port) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const conn = { socket, chunks: [], reset: false, lastDataAt: 0 };
  socket.on('data', (d) => {
    conn.chunks.push(d);
    conn.lastDataAt = performance.now();
  });
  conn.ended = new Promise((resolve) => {
    socket.on('error', (e) => {
      conn.reset = e.code === 'ECONNRESET' || e.code === 'EPIPE';
    });
    socket.on('close', resolve);
  });
  conn.write = (data) => new Promise((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : resolve())));
  conn.received = () => Buffer.concat(conn.chunks);
  return conn;
}

/**
 * The first HTTP/1.1 response in `data`: {status, headers (lowercase names), body (Buffer),
 * complete (the whole Content-Length body arrived)}, or null without a full header section.
 */
export function parseResponse(data) {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
  if (!m) return null;
  const headers = {};
  for (const l of lines.slice(1)) {
    const colon = l.indexOf(':');
    headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
  }
  const body = data.subarray(end + 4);
  const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
  return { status: Number(m[1]), headers, body: length === null ? body : body.subarray(0, length),
           complete: length !== null && body.length >= length };
}
