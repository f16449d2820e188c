// Admin accounts through the real binary, one server: `proofgate admin create-admin` invites,
// enrolment over HTTP (password, TOTP secret as base32 / otpauth URI / QR code, a code computed
// here confirms it), sign-in with the session cookie and CSRF token, a silent lock-out and unlock-admin,
// disable-admin ending a session; and the authorisation matrix: every /api/admin route of
// src/http/routes.hpp × {no credentials, a partner's API key, viewer, operator, approver, the
// admin token (role operator), a session cookie without X-CSRF-Token} → the expected outcome. A
// route without a line in kMinRole below fails the test. Malformed bodies are refused by field.
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//        node --test tests/integration/admin_accounts_test.mjs
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { Server, admin, createClient, removeDir, tempDir } from './server.mjs';
import { totp } from '../support/totp.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !artifacts) throw new Error('set PROOFGATE_BIN and PROOFGATE_ARTIFACTS');

// The least role of every /api/admin route; null: no role (the route checks its own credentials).
// Written here by hand, apart from src/http/routes.hpp's required_role, so that the two must agree.
const kMinRole = {
  'GET /api/admin/deliveries': 'viewer',
  'GET /api/admin/deliveries/{event_id}': 'viewer',
  'POST /api/admin/deliveries/{event_id}/replay': 'operator',
  'POST /api/admin/clients/{client_id}/test-webhook': 'operator',
  'POST /api/admin/clients/{client_id}/revoke-key': 'operator',
  'POST /api/admin/enrolment': null,
  'POST /api/admin/enrolment/confirm': null,
  'POST /api/admin/session': null,
  'GET /api/admin/session': 'viewer',
  'DELETE /api/admin/session': 'viewer',
  'POST /api/admin/clients': 'operator',
  'GET /api/admin/clients': 'viewer',
  'GET /api/admin/clients/{client_id}': 'viewer',
  'PATCH /api/admin/clients/{client_id}': 'operator',
  'POST /api/admin/clients/{client_id}/suspend': 'operator',
  'POST /api/admin/clients/{client_id}/resume': 'operator',
  'POST /api/admin/clients/{client_id}/rotate-key': 'operator',
  'POST /api/admin/clients/{client_id}/rotate-webhook-secret': 'operator',
  'POST /api/admin/clients/{client_id}/rotate-client-secret': 'operator',
  'GET /api/admin/approvals': 'viewer',
  'POST /api/admin/approvals/{id}/approve': 'approver',
  'POST /api/admin/approvals/{id}/cancel': 'operator',
  'GET /api/admin/circuits': 'viewer',
  'POST /api/admin/circuits': 'operator',
  'POST /api/admin/circuits/{claim_type}/{version}/enable': 'operator',
  'POST /api/admin/circuits/{claim_type}/{version}/disable': 'operator',
  'POST /api/admin/circuits/{claim_type}/{version}/deprecate': 'operator',
  'GET /api/admin/clients/{client_id}/min-versions': 'viewer',
  'POST /api/admin/clients/{client_id}/min-versions': 'operator',
  'GET /api/admin/audit/export': 'operator', // and then 403 on `approval` without an approved one
  'POST /api/admin/audit/exports': 'operator',
  'GET /api/admin/usage': 'viewer',
  'GET /api/admin/audit': 'viewer',
};
const kRank = { viewer: 1, operator: 2, approver: 3 };
const kPassword = 'correct horse battery staple';

let dataDir;
let server;
let adminToken;
let partnerKey;
const sessions = {}; // role -> {cookie, csrf, email, secret}

async function call(method, path, { headers = {}, body } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`${server.url}${path}`, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}

/** Invites `email` as `role` with the CLI, enrols over HTTP: {email, secret, admin_id}. */
async function enrol(email, role, algorithm) {
  // The link's base is the public_url setting (PROOFGATE_PUBLIC_URL, set in before()).
  const created = admin(bin, dataDir, ['create-admin', '--email', email, '--role', role]);
  assert.ok(created.enrolment_link.startsWith('https://admin.example.test/console/enrol#token='), created.enrolment_link);
  const token = created.enrolment_link.split('#token=')[1];
  const started = await call('POST', '/api/admin/enrolment', { body: { token, password: kPassword, ...(algorithm ? { algorithm } : {}) } });
  assert.equal(started.status, 200, started.text);
  const confirmed = await call('POST', '/api/admin/enrolment/confirm', {
    body: { token, code: totp(started.json.secret, 0, (algorithm ?? 'SHA1').toLowerCase()) },
  });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal(confirmed.json.status, 'active');
  return { email, secret: started.json.secret, admin_id: started.json.admin_id, enrolment: started.json, algorithm };
}

/** Signs in with the next step's code (the enrolment used the current one). */
async function signIn({ email, secret, algorithm }) {
  const r = await call('POST', '/api/admin/session', {
    body: { email, password: kPassword, code: totp(secret, 1, (algorithm ?? 'SHA1').toLowerCase()) },
  });
  assert.equal(r.status, 200, r.text);
  const setCookie = r.headers.get('set-cookie');
  const cookie = setCookie.split(';')[0];
  return { cookie, csrf: r.json.csrf_token, setCookie, json: r.json };
}

before(async () => {
  dataDir = tempDir('accounts');
  const r = spawnSync(bin, ['admin', 'new-admin-token'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const token = JSON.parse(r.stdout);
  adminToken = token.admin_token;
  process.env.PROOFGATE_PUBLIC_URL = 'https://admin.example.test';
  server = await Server.start({
    bin, artifacts, dataDir,
    args: ['--rate-limit', '0', '--auth-failures-per-minute', '0', '--admin-password-memory-kib', '64',
      '--admin-token-sha256', token.admin_token_sha256],
  });
  partnerKey = createClient(bin, dataDir, { name: 'Matrix Bank', scopes: ['age_over_18'], domains: ['matrix.example'] }).api_key;
  for (const role of ['viewer', 'operator', 'approver']) {
    const enrolled = await enrol(`${role}@example.test`, role);
    sessions[role] = { ...enrolled, ...(await signIn(enrolled)) };
  }
});

after(async () => {
  if (server) await server.stop();
  removeDir(dataDir);
});

test('enrolment answers the secret as base32, otpauth URI and QR code; sign-in sets a strict cookie', async () => {
  const e = sessions.operator.enrolment;
  assert.match(e.secret, /^[A-Z2-7]{32}$/); // 20 bytes
  assert.equal(e.otpauth_uri, `otpauth://totp/proofgate:operator@example.test?secret=${e.secret}&issuer=proofgate&algorithm=SHA1&digits=6&period=30`);
  assert.ok(e.qr_svg.startsWith('<svg') || e.qr_svg.startsWith('<?xml'), e.qr_svg.slice(0, 40));
  const c = sessions.operator.setCookie;
  for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/api/admin', 'Max-Age=28800']) {
    assert.ok(c.includes(attribute), `${attribute} missing: ${c}`);
  }
  assert.equal(sessions.operator.json.role, 'operator');
  const me = await call('GET', '/api/admin/session', { headers: { cookie: sessions.operator.cookie } });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.email, 'operator@example.test');
  assert.equal(me.json.actor_type, 'admin_account');
  const token = await call('GET', '/api/admin/session', { headers: { authorization: `Bearer ${adminToken}` } });
  assert.deepEqual(token.json, { actor_type: 'admin_api', role: 'operator' });
  // The listing shows no secret.
  const listed = admin(bin, dataDir, ['list-admins']).admins;
  assert.equal(listed.length, 3);
  assert.ok(!JSON.stringify(listed).includes(e.secret));
});

test('a SHA-256 authenticator enrols and signs in too', async () => {
  const enrolled = await enrol('sha256@example.test', 'viewer', 'SHA256');
  assert.match(enrolled.enrolment.otpauth_uri, /algorithm=SHA256/);
  const s = await signIn(enrolled);
  assert.equal(s.json.role, 'viewer');
});

test('authorisation matrix: every admin route of the route table × every kind of caller', async () => {
  const source = fs.readFileSync(new URL('../../src/http/routes.hpp', import.meta.url), 'utf8');
  const routes = [];
  // A route's entry may span lines (clang-format breaks long paths).
  for (const [, method, path] of source.matchAll(/Route\{RouteId::\w+,\s*"([A-Z]+)",\s*"([^"]+)"/g)) {
    if (path.startsWith('/api/admin')) routes.push(`${method} ${path}`);
  }
  assert.ok(routes.length >= 10, `routes parsed: ${routes}`);
  for (const r of routes) assert.ok(r in kMinRole, `${r} has no line in kMinRole (and so no expected outcome)`);
  for (const r of Object.keys(kMinRole)) assert.ok(routes.includes(r), `${r} is not in the route table`);

  const approver = sessions.approver;
  const callers = [
    ['no credentials', {}, null],
    ['partner API key', { authorization: `Bearer ${partnerKey}` }, null],
    ['admin token', { authorization: `Bearer ${adminToken}` }, 'operator'],
    ['cookie without CSRF', { cookie: approver.cookie }, 'nocsrf'],
    ...['viewer', 'operator', 'approver'].map((role) => [role, { cookie: sessions[role].cookie, 'x-csrf-token': sessions[role].csrf }, role]),
  ];
  // Signing out ends the caller's session: that route goes last.
  routes.sort((a, b) => (a === 'DELETE /api/admin/session') - (b === 'DELETE /api/admin/session'));
  // A CSRF token of another session is no better than none.
  const crossed = await call('POST', `/api/admin/clients/${crypto.randomUUID()}/revoke-key`, {
    headers: { cookie: approver.cookie, 'x-csrf-token': sessions.operator.csrf }, body: {},
  });
  assert.equal(crossed.status, 403, crossed.text);
  assert.equal(crossed.json.field, 'X-CSRF-Token');
  const failures = [];
  let cells = 0;
  for (const route of routes) {
    const [method, template] = route.split(' ');
    const path = template.replaceAll(/\{[a-z_]+\}/g, () => crypto.randomUUID());
    const changes = method !== 'GET';
    for (const [name, headers, role] of callers) {
      const needed = kMinRole[route];
      let expected;
      if (needed === null) expected = 'passes';
      else if (role === null) expected = 401;
      else if (role === 'nocsrf') expected = changes ? 403 : 'passes';
      else expected = kRank[role] >= kRank[needed] ? 'passes' : 403;
      const r = await call(method, path, { headers, body: method === 'POST' ? {} : undefined });
      cells += 1;
      const got = r.status;
      // A 404 passes only when the handler answered it for the made-up id in the path.
      const param = (template.match(/\{([a-z_]+)\}/) ?? [])[1];
      // The audit export answers a caller with the role 403 on `approval` (no approved export).
      const needsApproval = got === 403 && route === 'GET /api/admin/audit/export' && r.json?.field === 'approval';
      const passes = needsApproval || (got !== 401 && got !== 403 && got < 500 && (got !== 404 || (param !== undefined && r.json?.field === param)));
      const ok = expected === 'passes' ? passes : got === expected;
      if (!ok) failures.push(`${route} as ${name}: expected ${expected}, got ${got} ${r.text}`);
      if (expected === 403 && ok) assert.equal(r.json.error_code, 'UNAUTHORIZED_SCOPE', `${route} as ${name}`);
      if (expected === 401 && ok) assert.equal(r.json.error_code, 'UNAUTHORIZED', `${route} as ${name}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(cells, routes.length * callers.length);
  // The sign-outs above ended those sessions.
  const after = await call('GET', '/api/admin/session', { headers: { cookie: sessions.viewer.cookie } });
  assert.equal(after.status, 401);
});

test('wrong email, password or code and a locked account answer the same 401; unlock-admin clears it', async () => {
  const enrolled = await enrol('locked@example.test', 'operator');
  const code = totp(enrolled.secret, 1);
  const shape = (r) => JSON.stringify({
    status: r.status,
    body: { ...r.json, instance: undefined, request_id: undefined, trace_id: undefined },
    headers: [...r.headers.keys()].filter((h) => h !== 'date' && h !== 'x-request-id').sort(),
  });
  const answers = [];
  for (const body of [
    { email: 'nobody@example.test', password: kPassword, code },
    { email: enrolled.email, password: 'not the password at all', code },
    { email: enrolled.email, password: kPassword, code: code === '000000' ? '111111' : '000000' },
  ]) {
    const r = await call('POST', '/api/admin/session', { body });
    assert.equal(r.status, 401, r.text);
    answers.push(shape(r));
  }
  // Two wrong so far on this account: three more lock it. An unknown email gets six failures.
  for (let i = 0; i < 3; i += 1) {
    await call('POST', '/api/admin/session', { body: { email: enrolled.email, password: 'wrong wrong wrong', code } });
  }
  let unknown;
  for (let i = 0; i < 6; i += 1) {
    unknown = await call('POST', '/api/admin/session', { body: { email: 'ghost@example.test', password: 'wrong wrong wrong', code } });
  }
  answers.push(shape(unknown));
  // Locked: the right password and code are refused too, and exactly like the others.
  const locked = await call('POST', '/api/admin/session', { body: { email: enrolled.email, password: kPassword, code } });
  assert.equal(locked.status, 401, locked.text);
  assert.equal(locked.headers.get('retry-after'), null);
  answers.push(shape(locked));
  assert.equal(new Set(answers).size, 1, answers.join('\n'));
  // An operator sees the lock and clears it.
  const listed = admin(bin, dataDir, ['list-admins']).admins.find((a) => a.email === enrolled.email);
  assert.equal(listed.failed_sign_ins, 5);
  assert.notEqual(listed.locked_until, null);
  const unlocked = admin(bin, dataDir, ['unlock-admin', '--admin', enrolled.email]);
  assert.equal(unlocked.failed_sign_ins, 0);
  assert.equal(unlocked.locked_until, null);
  const after = await call('POST', '/api/admin/session', { body: { email: enrolled.email, password: kPassword, code } });
  assert.equal(after.status, 200, after.text);
  const audit = spawnSync(bin, ['admin', 'audit', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(audit.status, 0, audit.stderr);
  for (const action of ['admin.locked', 'admin.sign_in_locked', 'admin.unlocked', 'admin.signed_in']) {
    assert.ok(audit.stdout.includes(`"${action}"`), action);
  }
  assert.ok(!audit.stdout.includes(kPassword), 'a password in the audit trail');
  assert.ok(!audit.stdout.includes('wrong wrong wrong'), 'a password in the audit trail');
});

test('admin disable-admin ends the admin\'s session at once', async () => {
  const enrolled = await enrol('leaving@example.test', 'approver');
  const s = await signIn(enrolled);
  assert.equal((await call('GET', '/api/admin/deliveries', { headers: { cookie: s.cookie } })).status, 200);
  const disabled = admin(bin, dataDir, ['disable-admin', '--admin', enrolled.email]);
  assert.equal(disabled.status, 'disabled');
  const r = await call('GET', '/api/admin/deliveries', { headers: { cookie: s.cookie } });
  assert.equal(r.status, 401);
});

test('malformed sign-in and enrolment bodies are refused naming the field', async () => {
  const raw = async (path, body, contentType = 'application/json') => {
    const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: res.status, json: await res.json() };
  };
  for (const path of ['/api/admin/session', '/api/admin/enrolment', '/api/admin/enrolment/confirm']) {
    const text = await raw(path, 'email=a', 'application/x-www-form-urlencoded');
    assert.equal(text.status, 415, path);
    assert.equal(text.json.field, 'Content-Type');
    const notObject = await raw(path, '[1,2]');
    assert.equal(notObject.status, 400, path);
    assert.equal(notObject.json.error_code, 'INVALID_REQUEST');
    const broken = await raw(path, '{"email":');
    assert.equal(broken.status, 400, path);
  }
  const number = await raw('/api/admin/session', JSON.stringify({ email: 'a@example.test', password: 12, code: '123456' }));
  assert.equal(number.status, 400);
  assert.equal(number.json.field, 'password');
  const algorithm = await raw('/api/admin/enrolment', JSON.stringify({ token: 'x', password: kPassword, algorithm: 5 }));
  assert.equal(algorithm.status, 400);
  assert.equal(algorithm.json.field, 'algorithm');
  const unknownToken = await raw('/api/admin/enrolment', JSON.stringify({ token: 'pge_nothing', password: kPassword }));
  assert.equal(unknownToken.status, 401);
  assert.equal(unknownToken.json.field, 'token');
});
