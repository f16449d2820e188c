// The partners' admin API through the real binary: a partner created over HTTP (key shown once)
// works; a rotated key works beside the old one until the overlap ends, then the old one gets 401;
// a suspended partner gets 403 CLIENT_SUSPENDED on /api/v1/requests and /api/v1/verify until it is
// resumed through an approval (the operator token asks, a CLI admin approves), then
// its proof verifies; a webhook URL on a private address is refused by PATCH; the
// list pages by cursor without repeats; a suspended partner's webhooks are held, then delivered; the CLI shows, updates, suspends, resumes and rotates too.
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//        node --test tests/integration/partners_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { prove } from '../../clients/wallet/src/prove.mjs';
import { Receiver, freePort } from './cluster.mjs';
import { Server, admin, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !artifacts) throw new Error('set PROOFGATE_BIN and PROOFGATE_ARTIFACTS');

let dataDir;
let server;
let adminToken;
const demo = {};

before(async () => {
  dataDir = tempDir('partners');
  const r = spawnSync(bin, ['admin', 'new-admin-token'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const token = JSON.parse(r.stdout);
  adminToken = token.admin_token;
  server = await Server.start({
    bin, artifacts, dataDir, args: ['--demo', '--rate-limit', '0', '--webhook-allow-loopback', '--admin-token-sha256', token.admin_token_sha256],
  });
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  demo.partner = read('partner.json');
  demo.holder = read('holder.json');
  demo.identity = read('identity.json');
});

after(async () => {
  if (server) await server.stop();
  await globalThis.curve_bn128?.terminate();
  removeDir(dataDir);
});

async function call(method, pathname, { key, body } = {}) {
  const headers = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const adminCall = (method, pathname, body) => call(method, pathname, { key: adminToken, body });
const createRequest = (key, claimType = 'age_over_18') => call('POST', '/api/v1/requests', { key, body: { claim_type: claimType } });

/** Polls `predicate()` until it holds, or fails after `timeoutMs` naming `what`. */
async function waitUntil(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function auditText() {
  const r = spawnSync(bin, ['admin', 'audit', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('POST /api/admin/clients: 201 with the key shown once; the key works; GET never shows it', async () => {
  const denied = await call('POST', '/api/admin/clients', { key: 'pga_not-the-token', body: { name: 'X', scopes: ['age_over_18'], domains: ['x.example'] } });
  assert.equal(denied.status, 401);
  const bad = await adminCall('POST', '/api/admin/clients', { name: 'X', scopes: ['age_over_18'], domains: ['X.Example'] });
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.json.field, 'domains');
  const unknownMember = await adminCall('POST', '/api/admin/clients', { name: 'X', scopes: ['age_over_18'], domains: ['x.example'], colour: 'red' });
  assert.equal(unknownMember.status, 400, unknownMember.text);
  assert.equal(unknownMember.json.field, 'colour');

  const created = await adminCall('POST', '/api/admin/clients', {
    name: 'HTTP Bank', scopes: ['age_over_18'], domains: ['http-bank.example'], webhook_url: 'https://93.184.215.14/http-bank',
  });
  assert.equal(created.status, 201, created.text);
  assert.match(created.json.api_key, /^pg_live_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/);
  assert.match(created.json.webhook_secret, /.{16,}/);
  assert.equal(created.json.status, 'active');
  assert.equal(created.json.mode, 'live');
  const live = await createRequest(created.json.api_key);
  assert.equal(live.status, 201);
  assert.equal(live.json.mode, 'live');
  // Its test twin: a client of its own, with its own key and OAuth2 secret, and no webhook URL
  // (never the live one): the partner gives it one with rotate-webhook-secret on the twin's id.
  assert.match(created.json.test_api_key, /^pg_test_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(created.json.test_client_id, created.json.client_id);
  assert.match(created.json.test_client_secret, /^pgs_/);
  assert.equal(created.json.test_webhook_secret, undefined);
  const sandbox = await createRequest(created.json.test_api_key);
  assert.equal(sandbox.status, 201, sandbox.text);
  assert.equal(sandbox.json.mode, 'test');
  assert.equal(sandbox.json.verifier_domain, 'http-bank.example', 'the twin binds to its partner\'s domain');
  const twin = await adminCall('GET', `/api/admin/clients/${created.json.test_client_id}`);
  assert.equal(twin.json.mode, 'test');
  assert.equal(twin.json.live_client_id, created.json.client_id);
  assert.equal(twin.json.webhook_url, null, 'the twin never inherits the live webhook URL');
  const alone = await adminCall('POST', '/api/admin/clients', { name: 'Sandbox only', scopes: ['age_over_18'], domains: ['http-bank.example'], mode: 'test' });
  assert.equal(alone.status, 201, 'a test client claims no domain');
  assert.match(alone.json.api_key, /^pg_test_/);
  assert.equal(alone.json.test_api_key, undefined);
  const badMode = await adminCall('POST', '/api/admin/clients', { name: 'X', scopes: ['age_over_18'], domains: ['x.example'], mode: 'sandbox' });
  assert.equal(badMode.status, 400);
  assert.equal(badMode.json.field, 'mode');

  const shown = await adminCall('GET', `/api/admin/clients/${created.json.client_id}`);
  assert.equal(shown.status, 200, shown.text);
  assert.equal(shown.json.keys.length, 1);
  assert.equal(shown.json.keys[0].state, 'active');
  assert.ok(!shown.text.includes(created.json.api_key) && !shown.text.includes(created.json.webhook_secret), 'never a key or secret');
  const taken = await adminCall('POST', '/api/admin/clients', { name: 'Twin', scopes: ['age_over_18'], domains: ['http-bank.example'] });
  assert.equal(taken.status, 409, taken.text);
  assert.equal(taken.json.error_code, 'CONFLICT');
  const missing = await adminCall('GET', '/api/admin/clients/00000000-0000-4000-8000-000000000000');
  assert.equal(missing.status, 404);
});

test('rotate-key: both keys work during the overlap, then the old one gets 401 and the new one works', async () => {
  const created = await adminCall('POST', '/api/admin/clients', { name: 'Rotating', scopes: ['age_over_18'], domains: ['rotating.example'] });
  assert.equal(created.status, 201, created.text);
  const id = created.json.client_id;
  const oldKey = created.json.api_key;

  const tooLong = await adminCall('POST', `/api/admin/clients/${id}/rotate-key`, { overlap_seconds: 30 * 86400 + 1 });
  assert.equal(tooLong.status, 400);
  assert.equal(tooLong.json.field, 'overlap_seconds');

  const rotated = await adminCall('POST', `/api/admin/clients/${id}/rotate-key`, { overlap_seconds: 2 });
  assert.equal(rotated.status, 200, rotated.text);
  const newKey = rotated.json.api_key;
  assert.notEqual(newKey, oldKey);
  const overlapEnds = Date.parse(rotated.json.previous_keys_expire_at);
  assert.equal((await createRequest(newKey)).status, 201);
  if (Date.now() < overlapEnds - 200) assert.equal((await createRequest(oldKey)).status, 201, 'the old key works in the overlap');

  // The overlap's end is a state the server reaches: wait for the old key's refusal.
  await waitUntil(async () => (await createRequest(oldKey)).status === 401, 10_000, 'the old key to be refused');
  assert.ok(Date.now() >= overlapEnds - 50, 'refused only once the overlap ended');
  const refused = await createRequest(oldKey);
  assert.equal(refused.json.error_code, 'UNAUTHORIZED');
  assert.equal((await createRequest(newKey)).status, 201);

  const shown = await adminCall('GET', `/api/admin/clients/${id}`);
  assert.deepEqual(shown.json.keys.map((k) => k.state), ['expired', 'active']);
  assert.ok(shown.json.keys[1].last_used_at, 'the new key records its use');
  const audit = auditText();
  assert.ok(audit.includes('client.key_rotated'));
  assert.ok(!audit.includes(newKey) && !audit.includes(rotated.json.key_prefix), 'the audit never holds the key');
});

test('suspend: 403 CLIENT_SUSPENDED on requests and verify; resume: the same proof verifies', async () => {
  const key = demo.partner.api_key;
  const id = demo.partner.client_id;
  const request = await createRequest(key);
  assert.equal(request.status, 201, request.text);
  const body = await prove(artifacts, demo.holder, demo.identity, request.json);

  const suspended = await adminCall('POST', `/api/admin/clients/${id}/suspend`);
  assert.equal(suspended.status, 200, suspended.text);
  assert.deepEqual([suspended.json.status, suspended.json.changed], ['suspended', true]);
  for (const r of [await createRequest(key), await call('POST', '/api/v1/verify', { key, body })]) {
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error_code, 'CLIENT_SUSPENDED', r.text);
    assert.equal(r.json.mode, 'test', 'a valid key refused all the same says its mode');
  }
  const again = await adminCall('POST', `/api/admin/clients/${id}/suspend`);
  assert.equal(again.json.changed, false);
  assert.equal((await adminCall('GET', `/api/admin/clients/${id}`)).json.status, 'suspended');

  // Resuming needs a second admin: the token asks, a CLI admin approves.
  const asked = await adminCall('POST', `/api/admin/clients/${id}/resume`);
  assert.equal(asked.status, 202, asked.text);
  assert.deepEqual([asked.json.kind, asked.json.state, asked.json.params], ['client.resume', 'pending', { client_id: id }]);
  assert.equal((await adminCall('GET', `/api/admin/clients/${id}`)).json.status, 'suspended', 'not resumed by the request');
  const twice = await adminCall('POST', `/api/admin/clients/${id}/resume`);
  assert.equal(twice.status, 409, twice.text);
  // The operator token cannot approve at all (and never its own request, whatever its role).
  const self = await adminCall('POST', `/api/admin/approvals/${asked.json.id}/approve`);
  assert.equal(self.status, 403, self.text);
  assert.equal(self.json.field, 'role');
  assert.equal(admin(bin, dataDir, ['approve', asked.json.id]).state, 'approved');
  assert.equal((await adminCall('GET', `/api/admin/clients/${id}`)).json.status, 'active');
  const active = await adminCall('POST', `/api/admin/clients/${id}/resume`);
  assert.equal(active.status, 409, active.text);
  assert.match(active.json.detail, /not suspended/);
  const verified = await call('POST', '/api/v1/verify', { key, body });
  assert.equal(verified.status, 200, verified.text);
  assert.equal(verified.json.status, 'verified');
  const audit = auditText();
  assert.ok(audit.includes('client.suspended') && audit.includes('client.resumed'));
});

test('PATCH: only the given fields change; a webhook URL on a private address is refused', async () => {
  const created = await adminCall('POST', '/api/admin/clients', {
    name: 'Patchy', scopes: ['age_over_18'], domains: ['patchy.example'], webhook_url: 'https://93.184.215.14/patchy',
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.client_id;
  // (Loopback is not in the list: this server runs with --webhook-allow-loopback, which the admin
  // API honours as the CLI does.)
  for (const url of ['https://10.1.2.3/hook', 'https://192.168.1.9/hook', 'https://169.254.169.254/latest', 'http://hooks.patchy.example/in']) {
    const r = await adminCall('PATCH', `/api/admin/clients/${id}`, { webhook_url: url });
    assert.equal(r.status, 400, `${url}: ${r.text}`);
    assert.equal(r.json.field, 'webhook_url');
  }
  const empty = await adminCall('PATCH', `/api/admin/clients/${id}`, {});
  assert.equal(empty.status, 400);
  const patched = await adminCall('PATCH', `/api/admin/clients/${id}`, { name: 'Patched', scopes: ['age_over_18', 'citizenship'] });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.name, 'Patched');
  assert.deepEqual(patched.json.scopes, ['age_over_18', 'citizenship']);
  assert.deepEqual(patched.json.domains, ['patchy.example']);
  assert.equal(patched.json.webhook_url, 'https://93.184.215.14/patchy');
  assert.equal((await adminCall('PATCH', `/api/admin/clients/${id}`, { domains: ['http-bank.example'] })).status, 409);

  const secret = await adminCall('POST', `/api/admin/clients/${id}/rotate-webhook-secret`, { overlap_seconds: 0 });
  assert.equal(secret.status, 200, secret.text);
  assert.notEqual(secret.json.webhook_secret, created.json.webhook_secret);
});

test('GET /api/admin/clients pages by cursor over more than one page, without repeats', async () => {
  for (let n = 0; n < 5; ++n) {
    const r = await adminCall('POST', '/api/admin/clients', { name: `Paged ${n}`, scopes: ['age_over_18'], domains: [`paged${n}.example`] });
    assert.equal(r.status, 201, r.text);
  }
  const all = [];
  let cursor = null;
  let pages = 0;
  do {
    const r = await adminCall('GET', `/api/admin/clients?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.clients.length <= 3);
    for (const c of r.json.clients) {
      assert.equal(c.api_key, undefined);
      all.push(c.client_id);
    }
    cursor = r.json.next_cursor;
    if (pages === 0) {
      // A partner created between pages comes after them: never shifts one.
      const late = await adminCall('POST', '/api/admin/clients', { name: 'Late', scopes: ['age_over_18'], domains: ['late.example'] });
      assert.equal(late.status, 201);
    }
    ++pages;
  } while (cursor && pages < 50);
  assert.ok(pages > 1, `${pages} page(s)`);
  assert.equal(new Set(all).size, all.length, 'no partner twice');
  const listed = admin(bin, dataDir, ['list-clients']).map((c) => c.client_id);
  assert.deepEqual(all, listed);
  const bad = await adminCall('GET', '/api/admin/clients?cursor=not-a-cursor');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.field, 'cursor');
});

test('CLI parity: show-client, update-client, suspend-client, resume-client, rotate-key', async () => {
  const created = admin(bin, dataDir, ['create-client', '--name', 'Cli', '--scopes', 'age_over_18', '--domains', 'cli.example']);
  const id = created.client_id;
  assert.equal((await createRequest(created.api_key)).status, 201);
  const updated = admin(bin, dataDir, ['update-client', '--client-id', id, '--name', 'Cli Renamed']);
  assert.equal(updated.name, 'Cli Renamed');
  assert.deepEqual(updated.domains, ['cli.example']);
  assert.equal(admin(bin, dataDir, ['suspend-client', '--client-id', id]).status, 'suspended');
  assert.equal((await createRequest(created.api_key)).json.error_code, 'CLIENT_SUSPENDED');
  assert.equal((await createRequest(created.test_api_key)).json.error_code, 'CLIENT_SUSPENDED', 'the twin is suspended with its partner');
  assert.equal(admin(bin, dataDir, ['resume-client', '--client-id', id]).status, 'active');
  assert.equal((await createRequest(created.test_api_key)).status, 201, 'and resumed with it');
  const listed = admin(bin, dataDir, ['list-clients']).find((c) => c.client_id === created.test_client_id);
  assert.equal(listed.mode, 'test');
  assert.equal(listed.live_client_id, id);
  const rotated = admin(bin, dataDir, ['rotate-key', '--client-id', id, '--overlap-seconds', '0']);
  assert.equal((await createRequest(rotated.api_key)).status, 201);
  assert.equal((await createRequest(created.api_key)).status, 401);
  const shown = admin(bin, dataDir, ['show-client', '--client-id', id]);
  assert.deepEqual(shown.keys.map((k) => k.state), ['expired', 'active']);
  const r = spawnSync(bin, ['admin', 'update-client', '--client-id', id, '--webhook-url', 'https://10.0.0.1/x', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--webhook-url:/);
});

test('a suspended partner\'s webhooks are held (pending, not attempted) and delivered on resume', async () => {
  const port = await freePort();
  const hook = ['--webhook-url', `http://127.0.0.1:${port}/hook`, '--allow-loopback-webhook'];
  const held = admin(bin, dataDir, ['create-client', '--name', 'Hooked', '--scopes', 'age_over_18', '--domains', 'hooked.example', ...hook]);
  const control = admin(bin, dataDir, ['create-client', '--name', 'Control', '--scopes', 'age_over_18', '--domains', 'control.example', ...hook]);
  const rx = await Receiver.start({ secrets: [held.webhook_secret, control.webhook_secret], port });
  try {
    assert.equal((await adminCall('POST', `/api/admin/clients/${held.client_id}/suspend`)).status, 200);
    const heldEvent = await adminCall('POST', `/api/admin/clients/${held.client_id}/test-webhook`);
    assert.equal(heldEvent.status, 202, heldEvent.text);
    const controlEvent = await adminCall('POST', `/api/admin/clients/${control.client_id}/test-webhook`);
    assert.equal(controlEvent.status, 202, controlEvent.text);
    const delivery = async (eventId) => (await adminCall('GET', `/api/admin/deliveries/${eventId}`)).json;

    // The worker claims oldest first: once the later control event is delivered, it has passed
    // over the held one.
    await waitUntil(async () => (await delivery(controlEvent.json.event_id)).status === 'delivered', 15_000, 'the control delivery');
    const waiting = await delivery(heldEvent.json.event_id);
    assert.equal(waiting.status, 'pending', JSON.stringify(waiting));
    assert.deepEqual(waiting.attempts, [], JSON.stringify(waiting));
    assert.ok(!JSON.stringify(rx.entries()).includes(heldEvent.json.event_id), 'not sent while suspended');

    const asked = await adminCall('POST', `/api/admin/clients/${held.client_id}/resume`);
    assert.equal(asked.status, 202, asked.text);
    assert.equal(admin(bin, dataDir, ['approve', asked.json.id]).state, 'approved');
    await waitUntil(async () => (await delivery(heldEvent.json.event_id)).status === 'delivered', 15_000, 'the held delivery');
    await waitUntil(async () => JSON.stringify(rx.entries()).includes(heldEvent.json.event_id), 5_000, 'the receiver to log it');
  } finally {
    await rx.stop();
  }
});
