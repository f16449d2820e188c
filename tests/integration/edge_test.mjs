// The HTTP edge of the real `proofgate serve` under abuse: closed metric label sets, the /metrics
// scrape token, the failed-authentication throttle, the connection cap, running out of file
// descriptors (under prlimit), Transfer-Encoding framing and the keep-alive read deadline.
//
// Usage: PROOFGATE_BIN=build/release/proofgate node --test tests/integration/edge_test.mjs
//
// No circuits are needed: every server here runs on an empty artifacts directory.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { Server, connect, createClient, parseResponse, rawExchange, removeDir, statusOf, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const kDeadlineMs = 20_000;
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

const dirs = [];
const servers = [];
let artifacts; // empty: no circuit is needed for the edge

async function start(args = [], env = {}) {
  const dataDir = tempDir('edge');
  dirs.push(dataDir);
  const saved = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    const server = await Server.start({ bin, artifacts, dataDir, args });
    servers.push(server);
    return server;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
async function until(what, fn, deadlineMs = kDeadlineMs) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function get(server, pathname, headers = {}) {
  const res = await fetch(server.url + pathname, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The value of the sample `name` (with its labels, exactly as rendered) in a scrape. */
function sample(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

before(() => {
  assert.ok(bin, 'PROOFGATE_BIN must name the proofgate binary');
  artifacts = tempDir('edge-artifacts');
  dirs.push(artifacts);
});

after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  for (const d of dirs) removeDir(d);
});

describe('/metrics', () => {
  let server;
  before(async () => {
    server = await start();
  });

  test('labels come from closed sets whatever methods and paths clients send', async () => {
    for (let i = 0; i < 40; i++) {
      const r = await rawExchange(server.port, [`XMETHOD${i} /junk/${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
      assert.equal(statusOf(r.data), 404);
    }
    const r = await get(server, '/metrics');
    assert.equal(r.status, 200);
    const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'other']);
    const labels = [...r.text.matchAll(/method="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(labels.length > 0);
    assert.deepEqual(labels.filter((m) => !methods.has(m)), []);
    assert.equal(sample(r.text, 'proofgate_http_requests_total{route="unmatched",method="other",status="404"}'), 40);
    assert.doesNotMatch(r.text, /route="\/junk/);
  });

  test('the edge counters are exposed', async () => {
    const r = await get(server, '/metrics');
    for (const name of ['proofgate_http_connections_refused_total{reason="limit"}',
      'proofgate_http_connections_refused_total{reason="fd_exhausted"}',
      'proofgate_http_requests_shed_total', 'proofgate_http_auth_throttled_total']) {
      assert.equal(sample(r.text, name), 0, name);
    }
  });
});

describe('the /metrics scrape token', () => {
  const token = 'scrape-token-for-the-edge-test';
  let server;
  before(async () => {
    server = await start(['--metrics-token-sha256', sha256(token)]);
  });

  test('without the token, or with another, /metrics answers 401 UNAUTHORIZED', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: token }]) {
      const r = await get(server, '/metrics', headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(JSON.parse(r.text).error_code, 'UNAUTHORIZED');
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
      assert.doesNotMatch(r.text, /proofgate_/);
    }
  });

  test('with the token it renders', async () => {
    const r = await get(server, '/metrics', { authorization: `Bearer ${token}` });
    assert.equal(r.status, 200);
    assert.match(r.text, /^proofgate_connections_open /m);
  });

  test('a malformed token digest is refused at start, naming the setting', () => {
    const dataDir = tempDir('edge-bad');
    dirs.push(dataDir);
    const r = spawnSync(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
      '--artifacts-dir', artifacts, '--metrics-token-sha256', 'abc'], { encoding: 'utf8', timeout: kDeadlineMs });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /metrics_token_sha256: must be a SHA-256 as 64 lowercase hex digits, or empty, got 'abc'/);
  });
});

describe('settings', () => {
  for (const [flag, value, message] of [
    ['--max-connections', '15', /max_connections: must be an integer from 16 to 1000000, got '15'/],
    ['--pool-queue-limit', '0', /pool_queue_limit: must be an integer from 1 to 1000000, got '0'/],
    ['--auth-failures-per-minute', '-1', /auth_failures_per_minute: must be an integer from 0 to 1000000, got '-1'/],
  ]) {
    test(`${flag} ${value} is refused with a clear error`, () => {
      const dataDir = tempDir('edge-bad');
      dirs.push(dataDir);
      const r = spawnSync(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--artifacts-dir', artifacts,
        flag, value], { encoding: 'utf8', timeout: kDeadlineMs });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, message);
    });
  }
});

describe('failed authentication is throttled per source address', () => {
  let server;
  let key;
  before(async () => {
    server = await start(['--auth-failures-per-minute', '3']);
    key = createClient(bin, server.dataDir, { name: 'Edge', scopes: ['age_over_18'], domains: ['edge.example'] }).api_key;
  });

  test('after the burst, partner and admin routes answer 429 with Retry-After and do no work', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (let i = 0; i < 3; i++) {
      const r = await get(server, `/api/v1/status/${id}`, { authorization: 'Bearer pgk_wrong' });
      assert.equal(r.status, 401, `failure ${i + 1}`);
    }
    await until('the failures logged', async () => server.requestLines().length >= 3);
    const linesBefore = server.requestLines().length;
    for (const [pathname, headers] of [
      [`/api/v1/status/${id}`, { authorization: 'Bearer pgk_wrong' }],
      [`/api/v1/status/${id}`, { authorization: `Bearer ${key}` }], // a good key, same address
      ['/api/admin/deliveries', {}],
    ]) {
      const r = await get(server, pathname, headers);
      assert.equal(r.status, 429, pathname);
      assert.equal(JSON.parse(r.text).error_code, 'RATE_LIMITED');
      const wait = Number(r.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= 20, `Retry-After ${r.headers.get('retry-after')}`);
    }
    // No partner was looked up: the log lines of the refused requests name none.
    await until('the refusals logged', async () => server.requestLines().length >= linesBefore + 3);
    const refused = server.requestLines().slice(linesBefore).map((l) => JSON.parse(l));
    assert.equal(refused.length, 3);
    for (const l of refused) {
      assert.equal(l.error_code, 'RATE_LIMITED');
      assert.equal(l.partner_id, undefined);
    }
    // Routes that need no authentication stay open.
    assert.equal((await get(server, '/healthz')).status, 200);
    const m = await get(server, '/metrics');
    assert.equal(sample(m.text, 'proofgate_http_auth_throttled_total'), 3);
  });
});

describe('the connection cap', () => {
  let server;
  before(async () => {
    server = await start(['--max-connections', '16']);
  });

  test('beyond max_connections a new connection is closed at once, counted, and room comes back', async () => {
    const held = [];
    for (let i = 0; i < 16; i++) {
      const c = await connect(server.port);
      await c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      // Answered: the server holds this connection as a session.
      await until(`connection ${i} answered`, async () => parseResponse(c.received())?.complete);
      held.push(c);
    }
    const refused = await rawExchange(server.port, ['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.equal(refused.timedOut, false);
    assert.equal(statusOf(refused.data), null, refused.data.toString());
    held.pop().socket.destroy();
    const r = await until('a free slot', async () => {
      const x = await rawExchange(server.port, ['GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
      return statusOf(x.data) === 200 ? x.data.toString() : undefined;
    });
    assert.ok(sample(r, 'proofgate_http_connections_refused_total{reason="limit"}') >= 1, r);
    for (const c of held) c.socket.destroy();
  });
});

describe('out of file descriptors', () => {
  test('accept backs off instead of spinning, and the server recovers once descriptors free up', async () => {
    const dataDir = tempDir('edge-fd');
    dirs.push(dataDir);
    const child = spawn('prlimit', ['--nofile=64:64', bin, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
      '--artifacts-dir', artifacts, '--workers', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const sockets = [];
    try {
      const address = await until('listening', async () => /"msg":"listening","address":"([^"]+)"/.exec(stderr)?.[1]);
      const server = { url: `http://${address}`, port: Number(address.split(':').pop()) };
      const cpu = () => {
        const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
      };
      for (let i = 0; i < 100; i++) sockets.push(await connect(server.port));
      await until('the first failed accept', async () => stderr.includes('"msg":"accept failed'));
      const [cpu0, t0] = [cpu(), performance.now()];
      await until('the backoff to reach 1 s', async () => stderr.includes('"retry_ms":1000'));
      const [cpu1, t1] = [cpu(), performance.now()];
      // A spinning accept loop burns a whole core; backing off burns next to nothing.
      assert.ok(cpu1 - cpu0 < 0.25 * ((t1 - t0) / 1000), `${cpu1 - cpu0} s of CPU in ${(t1 - t0) / 1000} s`);
      for (const s of sockets) s.socket.destroy();
      const m = await until('/healthz and /metrics again', async () => {
        if ((await get(server, '/healthz')).status !== 200) return undefined;
        return (await get(server, '/metrics')).text;
      });
      assert.ok(sample(m, 'proofgate_http_connections_refused_total{reason="fd_exhausted"}') >= 1, m);
    } finally {
      for (const s of sockets) s.socket.destroy();
      child.kill('SIGKILL');
      await exited;
    }
  });
});

describe('HTTP framing and deadlines', () => {
  let server;
  before(async () => {
    server = await start([], { PROOFGATE_READ_TIMEOUT_SECONDS: '1', PROOFGATE_IDLE_TIMEOUT_SECONDS: '60' });
  });

  for (const coding of ['gzip', 'chunked, gzip']) {
    test(`Transfer-Encoding: ${coding} is answered 400 and the connection closed; the body is not a request`, async () => {
      const r = await rawExchange(server.port, [
        `POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${coding}\r\n\r\n`
          + 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
      ]);
      assert.equal(r.timedOut, false, 'the server must close the connection');
      const text = r.data.toString('latin1');
      assert.equal(statusOf(r.data), 400, text);
      assert.match(text, /Transfer-Encoding must end with chunked/);
      assert.equal(text.match(/HTTP\/1\.1 /g).length, 1, text);
    });
  }

  test('a chunked body is still read', async () => {
    const r = await rawExchange(server.port, [
      'POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n'
        + 'Authorization: Bearer pgk_wrong\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    ]);
    assert.equal(statusOf(r.data), 401, r.data.toString());
  });

  test('on keep-alive, a request begun has read_timeout to arrive, not the idle timeout', async () => {
    const c = await connect(server.port);
    await c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('the first answer', async () => parseResponse(c.received())?.complete);
    const started = performance.now();
    await c.write('GET /healthz HTTP/1.1\r\n'); // the next request begins and stalls
    await Promise.race([c.ended, new Promise((_, reject) => setTimeout(
      () => reject(new Error('the stalled request was not cut at read_timeout (1 s)')), 10_000))]);
    assert.ok(performance.now() - started >= 900, 'cut before read_timeout');
    c.socket.destroy();
  });

  test('on keep-alive, the wait for the next request is covered by the idle timeout', async () => {
    const c = await connect(server.port);
    await c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('the first answer', async () => parseResponse(c.received())?.complete);
    c.chunks.length = 0;
    // Longer than read_timeout (1 s), far shorter than the idle timeout (60 s): an interval the
    // test measures, not a wait for the server.
    await new Promise((r) => setTimeout(r, 2000));
    await c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('the second answer', async () => parseResponse(c.received())?.status === 200);
    c.socket.destroy();
  });
});
