// The circuit lifecycle and the two-person rule against the real `proofgate serve` (--demo) and
// `proofgate admin` on the same data directory (another process: the server sees its changes
// through the store, within circuit_state_cache_ms): disable at once; enable needs two approvers
// besides the requester (the admin API's token asks, CLI admins approve; the requester approving,
// or one approver twice, is refused); a wallet proof verifies once enabled; deprecate with a
// sunset a few seconds ahead and a successor: the verify answer carries Deprecation, Sunset and
// Link; after the sunset, CIRCUIT_DISABLED names the successor; partners with a webhook get
// circuit.disabled / circuit.deprecated events; a partner's minimum version refuses older requests
// and shapes accepted_versions. Uploads: bad folders refused by the CLI naming the file; over HTTP
// (POST /api/admin/circuits, multipart/form-data) a production version is loaded by the running
// server without a restart, enabled by two approvers and proved with; a transcript with one
// contribution edited (digests recomputed) is refused against the zkey's own record.
//
// The successor is a copy of age_over_18 1.0.0 published as 1.0.1 (the same development key,
// loaded under --demo) in a private artifacts directory.
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//          PROOFGATE_PRODUCTION_ARTIFACTS=build/release/artifacts-production \
//          node --test --test-concurrency=1 tests/integration/lifecycle_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { prove } from '../../clients/wallet/src/prove.mjs';
import { Server, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const sourceArtifacts = process.env.PROOFGATE_ARTIFACTS;
const productionArtifacts = process.env.PROOFGATE_PRODUCTION_ARTIFACTS;
assert.ok(bin && sourceArtifacts && productionArtifacts,
  'PROOFGATE_BIN, PROOFGATE_ARTIFACTS and PROOFGATE_PRODUCTION_ARTIFACTS must be set');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dirs = [];
let server;
let dataDir;
let artifacts;
let adminToken;
const demo = {};

/** `proofgate admin ...` on the server's data directory as CLI admin `as` (tests only). */
function cli(args, as) {
  const env = { ...process.env, PROOFGATE_ALLOW_AS: '1' };
  const r = spawnSync(bin, ['admin', ...args, '--data-dir', dataDir, ...(as ? ['--as', as] : [])], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: r.status === 0 ? JSON.parse(r.stdout) : undefined };
}

async function call(method, pathname, { key, body } = {}) {
  const headers = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}
const adminCall = (method, pathname, body) => call(method, pathname, { key: adminToken, body });
const newRequest = (version) => call('POST', '/api/v1/requests', { key: demo.key, body: { claim_type: 'age_over_18', circuit_version: version } });

/** Polls `f()` until it returns a truthy value, or fails after `timeoutMs` naming `what`. */
async function waitFor(f, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await f();
    if (last) return last;
    await sleep(20);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** age_over_18 1.0.0 and 1.0.1 (a copy under the next version) in a private artifacts directory. */
function makeArtifacts() {
  const dir = tempDir('lifecycle-artifacts');
  dirs.push(dir);
  for (const entry of fs.readdirSync(sourceArtifacts)) {
    fs.symlinkSync(path.resolve(sourceArtifacts, entry), path.join(dir, entry));
  }
  fs.rmSync(path.join(dir, 'age_over_18'));
  const src = path.resolve(sourceArtifacts, 'age_over_18', '1.0.0');
  for (const version of ['1.0.0', '1.0.1']) {
    const dst = path.join(dir, 'age_over_18', version);
    fs.mkdirSync(dst, { recursive: true });
    for (const f of fs.readdirSync(src)) {
      if (f === 'manifest.json') continue;
      fs.symlinkSync(path.join(src, f), path.join(dst, f));
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(src, 'manifest.json'), 'utf8'));
    manifest.version = version;
    fs.writeFileSync(path.join(dst, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }
  return dir;
}

before(async () => {
  artifacts = makeArtifacts();
  dataDir = tempDir('lifecycle');
  dirs.push(dataDir);
  const t = spawnSync(bin, ['admin', 'new-admin-token'], { encoding: 'utf8' });
  assert.equal(t.status, 0, t.stderr);
  const token = JSON.parse(t.stdout);
  adminToken = token.admin_token;
  server = await Server.start({
    bin, artifacts, dataDir,
    args: ['--demo', '--rate-limit', '0', '--admin-token-sha256', token.admin_token_sha256, '--admin-token-role', 'approver', '--webhook-allow-loopback'],
  });
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  demo.key = read('partner.json').api_key;
  demo.holder = read('holder.json');
  demo.identity = read('identity.json');
});

after(async () => {
  if (server?.running) await server.stop();
  await globalThis.curve_bn128?.terminate();
  dirs.forEach(removeDir);
});

test('the admin API and the CLI need the admin token and name bad input', async () => {
  assert.equal((await call('GET', '/api/admin/approvals')).status, 401);
  assert.equal((await call('GET', '/api/admin/circuits', { key: demo.key })).status, 401);
  const bad = await adminCall('POST', '/api/admin/circuits/age_over_18/1.0.0/deprecate', { sunset: 'tomorrow' });
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.json.field, 'sunset');
  const unknown = await adminCall('POST', '/api/admin/circuits/age_over_18/9.9.9/disable');
  assert.equal(unknown.status, 404, unknown.text);
  const noAs = spawnSync(bin, ['admin', 'approvals', '--data-dir', dataDir, '--as', 'x'], { encoding: 'utf8' });
  assert.notEqual(noAs.status, 0);
});

/** The event types queued for partner `clientId`, from the admin API. */
async function eventTypes(clientId) {
  const r = await adminCall('GET', `/api/admin/deliveries?client_id=${clientId}`);
  assert.equal(r.status, 200, r.text);
  return r.json.deliveries.map((d) => d.event_type);
}

test('disable at once from the CLI: the running server refuses the version, partners are told', async () => {
  // A partner with a webhook (nothing listens there: the event stays queued, which is enough).
  const hooked = cli(['create-client', '--name', 'Hooked', '--scopes', 'age_over_18', '--domains', 'hooked.example',
    '--webhook-url', 'http://127.0.0.1:9/hook', '--allow-loopback-webhook', '--test']);
  assert.equal(hooked.code, 0, hooked.stderr);
  demo.hooked = hooked.json.client_id;
  demo.hookedKey = hooked.json.api_key;
  const disabled = cli(['disable-circuit', '--claim-type', 'age_over_18', '--version', '1.0.0'], 'alice');
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.equal(disabled.json.state, 'disabled');
  const refused = await waitFor(async () => {
    const r = await newRequest('1.0.0');
    return r.status === 422 ? r : null;
  }, 10_000, 'the server to see the disabled state');
  assert.equal(refused.json.error_code, 'CIRCUIT_DISABLED', refused.text);
  assert.match(refused.json.detail, /1\.0\.0 is disabled/);
  const listed = await adminCall('GET', '/api/admin/circuits');
  assert.equal(listed.status, 200, listed.text);
  const row = listed.json.circuits.find((c) => c.claim_type === 'age_over_18' && c.version === '1.0.0');
  assert.equal(row.state, 'disabled');
  assert.equal(row.loaded, true);
  const audit = spawnSync(bin, ['admin', 'audit', '--data-dir', dataDir], { encoding: 'utf8' }).stdout;
  assert.match(audit, /"action":"circuit.disabled"/);
  assert.deepEqual(await eventTypes(demo.hooked), ['circuit.disabled']);
});

test('enable needs two approvers: the requester and a second vote by one approver are refused, two approvers enable, a proof verifies', { timeout: 120_000 }, async () => {
  const asked = await adminCall('POST', '/api/admin/circuits/age_over_18/1.0.0/enable');
  assert.equal(asked.status, 202, asked.text);
  assert.equal(asked.json.state, 'pending');
  assert.equal(asked.json.kind, 'circuit.enable');
  assert.equal(asked.json.requested_by.type, 'admin_api');
  const twice = await adminCall('POST', '/api/admin/circuits/age_over_18/1.0.0/enable');
  assert.equal(twice.status, 409, twice.text);

  const self = await adminCall('POST', `/api/admin/approvals/${asked.json.id}/approve`);
  assert.equal(self.status, 409, self.text);
  assert.equal(self.json.error_code, 'CONFLICT');
  assert.match(self.json.detail, /cannot approve their own/);
  // Still disabled.
  assert.equal((await newRequest('1.0.0')).status, 422);

  const pending = await adminCall('GET', '/api/admin/approvals?state=pending');
  assert.deepEqual(pending.json.approvals.map((a) => a.id), [asked.json.id]);

  // The first approval leaves it pending: the version stays disabled.
  const first = cli(['approve', asked.json.id], 'bob');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.json.state, 'pending');
  assert.equal(first.json.approvals_required, 2);
  assert.deepEqual(first.json.approvals.map((v) => v.id), ['bob']);
  const twiceBob = cli(['approve', asked.json.id], 'bob');
  assert.notEqual(twiceBob.code, 0);
  assert.match(twiceBob.stderr, /approved already/);
  const stillDisabled = await adminCall('GET', '/api/admin/circuits');
  assert.equal(stillDisabled.json.circuits.find((c) => c.claim_type === 'age_over_18' && c.version === '1.0.0').state, 'disabled');
  assert.equal((await newRequest('1.0.0')).status, 422);
  const approved = cli(['approve', asked.json.id], 'carol');
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(approved.json.state, 'approved');
  assert.deepEqual(approved.json.decided_by, { type: 'admin_cli', id: 'carol' });
  assert.deepEqual(approved.json.approvals.map((v) => v.id), ['bob', 'carol']);
  const again = cli(['approve', asked.json.id], 'dave');
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /not pending/);

  const request = (await waitFor(async () => {
    const r = await newRequest('1.0.0');
    return r.status === 201 ? r : null;
  }, 10_000, 'the server to see the enabled state')).json;
  const body = await prove(artifacts, demo.holder, demo.identity, request);
  const verified = await call('POST', '/api/v1/verify', { key: demo.key, body });
  assert.equal(verified.status, 200, verified.text);
  assert.equal(verified.json.status, 'verified');
  assert.equal(verified.headers.get('deprecation'), null);

  // Self-approval between two CLI admins too.
  const disabled = cli(['disable-circuit', '--claim-type', 'age_over_18', '--version', '1.0.1'], 'alice');
  assert.equal(disabled.code, 0, disabled.stderr);
  const cliAsk = cli(['request-enable', '--claim-type', 'age_over_18', '--version', '1.0.1'], 'alice');
  assert.equal(cliAsk.code, 0, cliAsk.stderr);
  const cliSelf = cli(['approve', cliAsk.json.id], 'alice');
  assert.notEqual(cliSelf.code, 0);
  assert.match(cliSelf.stderr, /cannot approve their own/);
  assert.equal(cli(['approve', cliAsk.json.id], 'bob').json.state, 'pending');
  assert.equal(cli(['approve', cliAsk.json.id], 'carol').json.state, 'approved');
});

test('a partner\'s minimum version: older requests refused naming it, accepted_versions lists the rest', async () => {
  const set = await adminCall('POST', `/api/admin/clients/${demo.hooked}/min-versions`, { claim_type: 'age_over_18', min_version: '1.0.1' });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.json.min_versions, { age_over_18: '1.0.1' });
  const ask = (version) => call('POST', '/api/v1/requests', {
    key: demo.hookedKey, body: { claim_type: 'age_over_18', ...(version ? { circuit_version: version } : {}) },
  });
  const old = await waitFor(async () => {
    const r = await ask('1.0.0');
    return r.status === 422 ? r : null;
  }, 10_000, 'the server to see the minimum');
  assert.equal(old.json.error_code, 'CIRCUIT_DISABLED');
  assert.match(old.json.detail, /move to age_over_18 1\.0\.1 or newer/);
  const picked = await ask();
  assert.equal(picked.status, 201, picked.text);
  assert.equal(picked.json.circuit_version, '1.0.1');
  assert.deepEqual(picked.json.accepted_versions, ['1.0.1']);
  const payload = JSON.parse(Buffer.from(picked.json.qr.uri.split('d=')[1], 'base64url').toString('utf8'));
  assert.deepEqual(payload.accepted_versions, ['1.0.1']);
  // Another partner is not affected.
  const other = await newRequest('1.0.0');
  assert.equal(other.status, 201, other.text);
  assert.deepEqual(other.json.accepted_versions, ['1.0.1', '1.0.0']);
  // Removed from the CLI.
  const cleared = cli(['set-min-version', '--client-id', demo.hooked, '--claim-type', 'age_over_18'], 'alice');
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.deepEqual(cleared.json.min_versions, {});
  await waitFor(async () => (await ask('1.0.0')).status === 201, 10_000, 'the minimum to be removed');
});

test('deprecate: headers until the sunset, then CIRCUIT_DISABLED naming the successor', { timeout: 120_000 }, async () => {
  // Requests made (and proved) before the sunset, answered before and after it.
  const before1 = (await newRequest('1.0.0')).json;
  const before2 = (await newRequest('1.0.0')).json;
  const body1 = await prove(artifacts, demo.holder, demo.identity, before1);
  const body2 = await prove(artifacts, demo.holder, demo.identity, before2);

  const sunsetMs = Math.ceil((Date.now() + 6000) / 1000) * 1000;
  const sunset = new Date(sunsetMs).toISOString().replace('.000Z', 'Z');
  const deprecated = await adminCall('POST', '/api/admin/circuits/age_over_18/1.0.0/deprecate', { sunset, successor: '1.0.1' });
  assert.equal(deprecated.status, 200, deprecated.text);
  assert.equal(deprecated.json.state, 'deprecated');
  assert.equal(deprecated.json.successor, '1.0.1');
  assert.ok((await eventTypes(demo.hooked)).includes('circuit.deprecated'));

  const r = await call('POST', '/api/v1/verify', { key: demo.key, body: body1 });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('deprecation') ?? '', /^@[0-9]+$/);
  assert.equal(r.headers.get('sunset'), new Date(sunsetMs).toUTCString());
  assert.equal(r.headers.get('link'), '</artifacts/age_over_18/1.0.1/manifest.json>; rel="successor-version"');

  await waitFor(() => Date.now() >= sunsetMs, 15_000, 'the sunset');
  const late = await call('POST', '/api/v1/verify', { key: demo.key, body: body2 });
  assert.equal(late.status, 422, late.text);
  assert.equal(late.json.error_code, 'CIRCUIT_DISABLED');
  assert.match(late.json.detail, /move to age_over_18 1\.0\.1/);
  const fresh = await newRequest('1.0.0');
  assert.equal(fresh.status, 422, fresh.text);
  assert.match(fresh.json.detail, /1\.0\.1/);
  // Without a version, a request picks one that still verifies.
  const picked = await call('POST', '/api/v1/requests', { key: demo.key, body: { claim_type: 'age_over_18' } });
  assert.equal(picked.status, 201, picked.text);
  assert.equal(picked.json.circuit_version, '1.0.1');
});

/** A version folder made from age_over_18 1.0.0 as `version`, changed by `tamper(dir)`. */
function versionFolder(version, tamper = () => {}) {
  const dir = path.join(tempDir('lifecycle-upload'), version);
  dirs.push(path.dirname(dir));
  fs.mkdirSync(dir, { recursive: true });
  const src = path.resolve(sourceArtifacts, 'age_over_18', '1.0.0');
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  manifest.version = version;
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  tamper(dir, manifest);
  return dir;
}
const sha256File = (f) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const upload = (dir, as = 'alice') => cli(['upload-circuit', '--dir', dir, '--artifacts-dir', artifacts, '--insecure-development-keys'], as);

test('bad uploads are refused naming the file and the problem; nothing is stored', () => {
  // A zkey of another key (its digest in the manifest, so only the key check can refuse it).
  const otherZkey = versionFolder('1.0.3', (dir, manifest) => {
    fs.copyFileSync(path.resolve(sourceArtifacts, 'citizenship', '1.0.0', 'circuit.zkey'), path.join(dir, 'circuit.zkey'));
    manifest.sha256['circuit.zkey'] = sha256File(path.join(dir, 'circuit.zkey'));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  });
  const r1 = upload(otherZkey);
  assert.notEqual(r1.code, 0);
  assert.match(r1.stderr, /circuit\.zkey: its embedded verification key does not match verification_key\.json: .*differs/);
  // A file whose digest is not the manifest's.
  const badDigest = versionFolder('1.0.3', (dir) => fs.appendFileSync(path.join(dir, 'circuit.wasm'), Buffer.from([0])));
  const r2 = upload(badDigest);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /circuit\.wasm: its SHA-256 [0-9a-f]{64} differs from the manifest's/);
  // A missing file.
  const missing = versionFolder('1.0.3', (dir) => fs.rmSync(path.join(dir, 'verification_key.json')));
  const r3 = upload(missing);
  assert.notEqual(r3.code, 0);
  assert.match(r3.stderr, /verification_key\.json: missing/);
  // A development key without --insecure-development-keys (the server's key policy).
  const r4 = cli(['upload-circuit', '--dir', versionFolder('1.0.3'), '--artifacts-dir', artifacts], 'alice');
  assert.notEqual(r4.code, 0);
  assert.match(r4.stderr, /refused: .*development/);
  assert.equal(fs.existsSync(path.join(artifacts, 'age_over_18', '1.0.3')), false);
  assert.deepEqual(fs.readdirSync(artifacts).filter((d) => d.startsWith('.upload-')), []);
});

/** POST /api/admin/circuits with the files of `dir` as multipart/form-data parts. */
async function uploadHttp(dir, { key = adminToken, names } = {}) {
  const form = new FormData();
  for (const f of names ?? fs.readdirSync(dir)) {
    form.append(f, new Blob([fs.readFileSync(path.join(dir, f))]), f);
  }
  const headers = key ? { authorization: `Bearer ${key}` } : {};
  const res = await fetch(server.url + '/api/admin/circuits', { method: 'POST', headers, body: form });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json };
}

/**
 * Sends only the header of POST /api/admin/circuits with `headers` and Content-Length `length`,
 * and resolves to the status of the answer (a refusal comes before any of the body is sent).
 */
function statusOfHeaderOnly(headers, length) {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      const lines = ['POST /api/admin/circuits HTTP/1.1', `Host: ${url.host}`,
        'Content-Type: multipart/form-data; boundary=b', `Content-Length: ${length}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) { socket.destroy(); resolve(Number(m[1])); }
    });
    socket.on('error', reject);
    socket.setTimeout(20_000, () => { socket.destroy(); reject(new Error('no answer to the header within 20 s')); });
  });
}

/** Approves pending action `id` as CLI admins bob and carol (two approvers). */
function approveTwice(id) {
  const first = cli(['approve', id], 'bob');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.json.state, 'pending');
  const second = cli(['approve', id], 'carol');
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.json.state, 'approved');
}

test('upload from the CLI, then two approvers enable it, and a wallet proof verifies with it', { timeout: 120_000 }, async () => {
  const up = upload(versionFolder('1.0.2'));
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.json.state, 'uploaded');
  assert.ok(fs.existsSync(path.join(artifacts, 'age_over_18', '1.0.2', 'circuit.zkey')));
  const again = upload(versionFolder('1.0.2'));
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /exists already/);
  // Another process wrote it: the running server loads it (circuit_reload_seconds, or at once
  // when asked to enable it) and refuses it until it is enabled.
  const uploaded = await waitFor(async () => {
    const r = await newRequest('1.0.2');
    return r.status === 422 && /uploaded but not enabled/.test(r.json?.detail ?? '') ? r : null;
  }, 20_000, 'the server to load the CLI upload');
  assert.equal(uploaded.json.error_code, 'CIRCUIT_DISABLED');
  const asked = cli(['request-enable', '--claim-type', 'age_over_18', '--version', '1.0.2'], 'alice');
  assert.equal(asked.code, 0, asked.stderr);
  const self = cli(['approve', asked.json.id], 'alice');
  assert.notEqual(self.code, 0);
  const first = await adminCall('POST', `/api/admin/approvals/${asked.json.id}/approve`);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.state, 'pending');
  assert.equal(cli(['approve', asked.json.id], 'bob').json.state, 'approved');
  const request = (await waitFor(async () => {
    const r = await newRequest('1.0.2');
    return r.status === 201 ? r : null;
  }, 10_000, 'the enabled upload')).json;
  const body = await prove(artifacts, demo.holder, demo.identity, request);
  const verified = await call('POST', '/api/v1/verify', { key: demo.key, body });
  assert.equal(verified.status, 200, verified.text);
  assert.equal(verified.json.circuit_version, '1.0.2');
});

/** The production fixture of age_over_18 as `version`, changed by `tamper(dir, manifest, transcript)`. */
function productionFolder(version, tamper = () => {}) {
  const dir = path.join(tempDir('lifecycle-prod'), version);
  dirs.push(path.dirname(dir));
  fs.mkdirSync(dir, { recursive: true });
  const src = path.resolve(productionArtifacts, 'age_over_18', '1.0.0');
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const transcript = JSON.parse(fs.readFileSync(path.join(dir, 'transcript.json'), 'utf8'));
  manifest.version = version;
  tamper(dir, manifest, transcript);
  fs.writeFileSync(path.join(dir, 'transcript.json'), JSON.stringify(transcript, null, 2));
  const digest = sha256File(path.join(dir, 'transcript.json'));
  manifest.sha256['transcript.json'] = digest;
  manifest.ceremony.transcript_sha256 = digest;
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

test('HTTP upload: credentials, malformed bodies and a tampered transcript are refused, nothing stored', async () => {
  const good = productionFolder('1.1.0');
  const anonymous = await uploadHttp(good, { key: null, names: ['manifest.json'] });
  assert.equal(anonymous.status, 401, anonymous.text);
  const partner = await uploadHttp(good, { key: demo.key, names: ['manifest.json'] });
  assert.equal(partner.status, 401, partner.text);
  // A body above the limit is refused from its Content-Length, before any of it is sent: above
  // body_limit without a credential, above circuit_upload_limit with one.
  assert.equal(await statusOfHeaderOnly({}, 100_000), 413);
  assert.equal(await statusOfHeaderOnly({ authorization: `Bearer ${adminToken}` }, 200 << 20), 413);
  // A wrong or partner credential is refused from the header: the large body is never read.
  assert.equal(await statusOfHeaderOnly({ authorization: 'Bearer pga_wrong' }, 10 << 20), 401);
  assert.equal(await statusOfHeaderOnly({ authorization: `Bearer ${demo.key}` }, 10 << 20), 401);
  // Not multipart.
  const json = await adminCall('POST', '/api/admin/circuits', { manifest: 'x' });
  assert.equal(json.status, 400, json.text);
  assert.equal(json.json.field, 'body');
  assert.match(json.json.detail, /multipart\/form-data/);
  // A part that is not a file of a version.
  const extra = path.join(tempDir('lifecycle-extra'), 'x');
  dirs.push(path.dirname(extra));
  fs.cpSync(good, extra, { recursive: true });
  fs.writeFileSync(path.join(extra, 'notes.txt'), 'hello');
  const unknown = await uploadHttp(extra);
  assert.equal(unknown.status, 400, unknown.text);
  assert.equal(unknown.json.field, 'notes.txt');
  // A missing file.
  const missing = await uploadHttp(good, { names: ['manifest.json', 'verification_key.json', 'circuit.zkey', 'transcript.json'] });
  assert.equal(missing.status, 400, missing.text);
  assert.equal(missing.json.field, 'circuit.wasm');
  assert.match(missing.json.detail, /missing/);
  // One contribution's hash edited in the transcript, every digest recomputed: only the zkey's own
  // record of the ceremony can tell.
  const tampered = productionFolder('1.1.0', (dir, manifest, transcript) => {
    const c = transcript.contributions.find((x) => x.kind === 'contribution');
    c.hash = c.hash.slice(0, -2) + (c.hash.endsWith('00') ? '11' : '00');
  });
  const refused = await uploadHttp(tampered);
  assert.equal(refused.status, 400, refused.text);
  assert.equal(refused.json.field, 'transcript.json');
  assert.match(refused.json.detail, /contribution 2/);
  const renamed = productionFolder('1.1.0', (dir, manifest, transcript) => {
    transcript.contributions.find((x) => x.kind === 'contribution').name = 'someone else';
  });
  const refusedName = await uploadHttp(renamed);
  assert.equal(refusedName.status, 400, refusedName.text);
  assert.equal(refusedName.json.field, 'transcript.json');
  assert.equal(fs.existsSync(path.join(artifacts, 'age_over_18', '1.1.0')), false);
  assert.deepEqual(fs.readdirSync(artifacts).filter((d) => d.startsWith('.upload-')), []);
  const listed = await adminCall('GET', '/api/admin/circuits');
  assert.equal(listed.json.circuits.some((c) => c.version === '1.1.0'), false);
});

test('HTTP upload of a production version: loaded without a restart, two approvers enable it, a proof verifies', { timeout: 120_000 }, async () => {
  const up = await uploadHttp(productionFolder('1.1.0'));
  assert.equal(up.status, 201, up.text);
  assert.equal(up.json.state, 'uploaded');
  assert.equal(up.json.version, '1.1.0');
  const twice = await uploadHttp(productionFolder('1.1.0'));
  assert.equal(twice.status, 409, twice.text);
  assert.match(twice.json.detail, /exists already/);
  const listed = await adminCall('GET', '/api/admin/circuits');
  const row = listed.json.circuits.find((c) => c.version === '1.1.0');
  assert.equal(row.state, 'uploaded');
  assert.equal(row.loaded, true);
  const refused = await newRequest('1.1.0');
  assert.equal(refused.status, 422, refused.text);
  assert.match(refused.json.detail, /uploaded but not enabled/);
  const audit = spawnSync(bin, ['admin', 'audit', '--data-dir', dataDir], { encoding: 'utf8' }).stdout;
  assert.ok(audit.split('\n').some((l) => l.includes('"action":"circuit.uploaded"') && l.includes('1.1.0')), audit);

  const asked = await adminCall('POST', '/api/admin/circuits/age_over_18/1.1.0/enable');
  assert.equal(asked.status, 202, asked.text);
  approveTwice(asked.json.id);
  const request = (await waitFor(async () => {
    const r = await newRequest('1.1.0');
    return r.status === 201 ? r : null;
  }, 10_000, 'the enabled production upload')).json;
  const body = await prove(artifacts, demo.holder, demo.identity, request);
  const verified = await call('POST', '/api/v1/verify', { key: demo.key, body });
  assert.equal(verified.status, 200, verified.text);
  assert.equal(verified.json.status, 'verified');
  assert.equal(verified.json.circuit_version, '1.1.0');
  // The artifacts are served from where the upload put them.
  const served = await fetch(`${server.url}/artifacts/age_over_18/1.1.0/transcript.json`);
  assert.equal(served.status, 200);
  assert.equal(createHash('sha256').update(Buffer.from(await served.arrayBuffer())).digest('hex'),
    sha256File(path.join(artifacts, 'age_over_18', '1.1.0', 'transcript.json')));
});
