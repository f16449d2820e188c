// Tracing end to end (docs/observability.md, "Tracing"): the real `proofgate serve --demo`
// exports its spans over OTLP/HTTP JSON to a receiver started here (node:http on loopback, the
// JSON bodies decoded). One wallet-made verification sent with a known traceparent must arrive as
// one tree (server span under the caller's parent, the verify steps under it, the webhook attempt
// under the commit) with the operator's attributes and none of the secrets; a refused request
// names its trace in the problem body and the log line; the webhook receiver gets a traceparent in
// the request's trace; with the collector down verifications still answer and drops are counted.
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//          node --test --test-concurrency=1 tests/integration/tracing_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { prove } from '../../clients/wallet/src/prove.mjs';
import { Server, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const servers = [];
const dirs = [];
const listeners = [];

async function waitFor(check, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await sleep(50);
  }
}

/** An HTTP listener on 127.0.0.1:0 keeping every request: {port, requests: [{url, headers, body}]}. */
async function listen(answer = () => [200, '{}']) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      requests.push({ url: req.url, method: req.method, headers: req.headers, body });
      const [status, text] = answer(req);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  listeners.push(server);
  return { port: server.address().port, requests };
}

/** A port nothing listens on (bound, then closed). */
async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Every span the collector received, decoded from ExportTraceServiceRequest JSON. */
function spansOf(collector) {
  const out = [];
  for (const r of collector.requests) {
    const body = JSON.parse(r.body);
    for (const rs of body.resourceSpans) {
      for (const ss of rs.scopeSpans) for (const s of ss.spans) out.push({ ...s, resource: rs.resource });
    }
  }
  return out;
}

const attr = (span, key) => {
  const a = span.attributes.find((x) => x.key === key);
  return a && (a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? a.value.boolValue);
};

async function call(server, method, pathname, { key, body, headers = {} } = {}) {
  const h = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(server.url + pathname, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** A partner with a webhook to `url` (loopback allowed), a test client on its own domain. */
function webhookClient(dataDir, url) {
  const r = spawnSync(bin, ['admin', 'create-client', '--name', 'traced', '--scopes', 'age_over_18',
    '--domains', 'traced.example', '--webhook-url', url, '--data-dir', dataDir, '--test',
    '--allow-loopback-webhook'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** A wallet-made age_over_18 verify body for a new request of `key` on `server`. */
async function provenBody(server, dataDir, key) {
  const req = await call(server, 'POST', '/api/v1/requests', { key, body: { claim_type: 'age_over_18' } });
  assert.equal(req.status, 201, req.text);
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  return prove(artifacts, read('holder.json'), read('identity.json'), req.json);
}

let collector;
let hooks;
let main;
let dataDir;
let client;

before(async () => {
  assert.ok(bin && artifacts, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set');
  collector = await listen();
  hooks = await listen();
  dataDir = tempDir('tracing');
  dirs.push(dataDir);
  client = webhookClient(dataDir, `http://127.0.0.1:${hooks.port}/hook`);
  main = await Server.start({ bin, artifacts, dataDir, args: ['--demo', '--webhook-allow-loopback',
    '--otlp-traces-endpoint', `http://127.0.0.1:${collector.port}/v1/traces`] });
  servers.push(main);
});

after(async () => {
  for (const s of servers) if (s.running) await s.kill();
  for (const l of listeners) l.close();
  await globalThis.curve_bn128?.terminate();
  for (const d of dirs) removeDir(d);
});

test('one verification sent with a traceparent arrives as one tree of spans, with operator attributes and no secret', async () => {
  const body = await provenBody(main, dataDir, client.api_key);
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  const r = await call(main, 'POST', '/api/v1/verify', { key: client.api_key, body, headers: {
    traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'rojo=00f067aa0ba902b7', 'idempotency-key': 'trace-1' } });
  assert.equal(r.status, 200, r.text);
  const answered = r.headers.get('traceparent') ?? '';
  const parts = answered.split('-');
  assert.equal(parts.length, 4, answered);
  assert.equal(parts[0], '00');
  assert.equal(parts[1], traceId, 'the answer continues the caller\'s trace');
  assert.equal(parts[3], '01');
  assert.equal(r.headers.get('tracestate'), 'rojo=00f067aa0ba902b7');

  const kChildren = ['authenticate', 'decode', 'idempotency', 'nonce', 'checks', 'pairing', 'commit'];
  let mine;
  await waitFor(() => {
    mine = spansOf(collector).filter((s) => s.traceId === traceId);
    return mine.some((s) => s.kind === 3) && kChildren.every((n) => mine.some((s) => s.name === n));
  }, 15_000, () => `the spans of the trace (have ${JSON.stringify(mine?.map((s) => s.name))})`);

  const server = mine.find((s) => s.name === 'POST /api/v1/verify');
  assert.ok(server, 'the server span');
  assert.equal(server.kind, 2);
  assert.equal(server.parentSpanId, parentId, 'the server span\'s parent is the incoming parent-id');
  assert.equal(server.spanId, parts[2], 'the answer\'s traceparent names the server span');
  assert.equal(attr(server, 'http.route'), '/api/v1/verify');
  assert.equal(attr(server, 'http.response.status_code'), '200');
  assert.equal(attr(server, 'proofgate.claim_type'), 'age_over_18');
  assert.equal(attr(server, 'proofgate.circuit_version'), '1.0.0');
  assert.equal(attr(server, 'proofgate.partner.mode'), 'test');
  assert.match(server.startTimeUnixNano, /^\d+$/);
  assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano));
  assert.equal(server.resource.attributes.find((a) => a.key === 'service.name').value.stringValue, 'proofgate');
  for (const name of kChildren) {
    const s = mine.find((x) => x.name === name);
    assert.equal(s.parentSpanId, server.spanId, `${name} is a child of the server span`);
    assert.equal(s.kind, 1);
  }
  const rate = mine.find((s) => s.name === 'rate_limit');
  assert.ok(rate, 'the rate_limit span');
  assert.equal(rate.parentSpanId, mine.find((s) => s.name === 'authenticate').spanId);
  const commit = mine.find((s) => s.name === 'commit');
  const attempt = mine.find((s) => s.kind === 3);
  assert.equal(attempt.parentSpanId, commit.spanId, 'the webhook attempt is a child of the commit');
  assert.equal(attempt.name, 'webhook proof.verified');
  assert.equal(attr(attempt, 'url.host'), '127.0.0.1');
  assert.equal(attr(attempt, 'http.response.status_code'), '200');
  assert.equal(attr(attempt, 'proofgate.webhook.attempt'), '1');

  // The webhook receiver got a traceparent in the request's trace, naming the attempt's span.
  const delivered = hooks.requests.find((q) => (q.headers.traceparent ?? '').split('-')[1] === traceId);
  assert.ok(delivered, 'a delivery with the request\'s trace id');
  assert.equal(delivered.headers.traceparent, `00-${traceId}-${attempt.spanId}-01`);

  // Never keys, proofs, public signals or nonces: none of their values anywhere in the export.
  const exported = collector.requests.map((q) => q.body).join('\n');
  // (Short values — a projective "1", a small claim parameter — occur in any text; the field
  // elements and coordinates are 60-odd digits.)
  const secrets = [client.api_key, body.request.nonce, ...body.proof.pi_a, ...body.proof.pi_b.flat(), ...body.proof.pi_c,
    ...body.public_signals].filter((v) => v.length >= 16);
  assert.ok(secrets.length >= 10, 'the proof\'s coordinates are checked');
  for (const s of secrets) assert.ok(!exported.includes(s), `the export holds ${s.slice(0, 12)}…`);

  // The request line on stdout carries the trace id.
  const line = main.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .find((j) => j.trace_id === traceId && j.route === '/api/v1/verify');
  assert.ok(line, 'the request log line names the trace');
});

test('a refused request names its trace in the problem body and its log line; a malformed traceparent starts a new trace', async () => {
  const bad = `00-${'A'.repeat(32)}-${randomBytes(8).toString('hex')}-01`;  // uppercase: invalid
  const r = await call(main, 'POST', '/api/v1/verify', { key: 'pg_test_notakey', body: {}, headers: { traceparent: bad } });
  assert.equal(r.status, 401, r.text);
  assert.match(r.json.trace_id, /^[0-9a-f]{32}$/);
  assert.notEqual(r.json.trace_id, 'a'.repeat(32));
  assert.equal((r.headers.get('traceparent') ?? '').split('-')[1], r.json.trace_id);
  await waitFor(() => main.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .find((j) => j.trace_id === r.json.trace_id && j.status === 401), 5000, () => 'the 401 log line');
  // An error is exported whatever the sampler says.
  await waitFor(() => spansOf(collector).find((s) => s.traceId === r.json.trace_id && s.kind === 2), 10_000,
    () => 'the refused request\'s server span');
  // No traceparent at all: a new trace, announced in the answer.
  const h = await call(main, 'GET', '/healthz');
  assert.match(h.headers.get('traceparent') ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
});

test('the caller\'s unsampled flag is honoured, except for an error answer', async () => {
  const quiet = randomBytes(16).toString('hex');
  const refused = randomBytes(16).toString('hex');
  const ok = await call(main, 'GET', '/healthz', { headers: { traceparent: `00-${quiet}-${randomBytes(8).toString('hex')}-00` } });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('traceparent'), new RegExp(`^00-${quiet}-[0-9a-f]{16}-00$`));
  const r = await call(main, 'POST', '/api/v1/verify', { key: 'pg_test_notakey', body: {},
    headers: { traceparent: `00-${refused}-${randomBytes(8).toString('hex')}-00` } });
  assert.equal(r.status, 401);
  assert.equal(r.json.trace_id, refused);
  assert.match(r.headers.get('traceparent'), new RegExp(`^00-${refused}-[0-9a-f]{16}-01$`), 'kept, so announced as sampled');
  // Batches leave in order: once the refused request's span is in, the quiet one would be too.
  await waitFor(() => spansOf(collector).some((s) => s.traceId === refused), 10_000, () => 'the refused request\'s spans');
  assert.ok(!spansOf(collector).some((s) => s.traceId === quiet), 'an unsampled success is not exported');
});

test('with the collector down verifications still answer 200 and the dropped spans are counted', async () => {
  const dir = tempDir('tracing-down');
  dirs.push(dir);
  const port = await closedPort();
  const s = await Server.start({ bin, artifacts, dataDir: dir, args: ['--demo',
    '--otlp-traces-endpoint', `http://127.0.0.1:${port}/v1/traces`] });
  servers.push(s);
  const key = JSON.parse(fs.readFileSync(path.join(dir, 'demo', 'partner.json'), 'utf8')).api_key;
  const body = await provenBody(s, dir, key);
  const r = await call(s, 'POST', '/api/v1/verify', { key, body });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'verified');
  const dropped = async () => {
    const m = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(m, /# TYPE proofgate_trace_spans_dropped_total counter/);
    assert.match(m, /# TYPE proofgate_trace_spans_exported_total counter/);
    const line = m.split('\n').find((l) => l.startsWith('proofgate_trace_spans_dropped_total{reason="export_failed"}'));
    return Number(line.split(' ')[1]);
  };
  await waitFor(async () => (await dropped()) >= 8, 20_000, () => 'the dropped counter to grow');
});
