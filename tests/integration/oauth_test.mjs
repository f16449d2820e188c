// OAuth2 client credentials through the real binary (docs/partners.md, "Tokens"): tokens by
// client_secret_basic and client_secret_post; a token creates a request and a wallet-made proof
// verifies with it; scope escalation, a wrong secret, an unsupported grant and both
// authentications at once are refused per RFC 6749 §5.2; tokens made here with alg none, HS256
// keyed with the JWKS public key, or an unknown kid are refused by /api/v1/requests; the JWKS
// shape; a key rotation by the CLI keeps both tokens working and both keys in the JWKS; failed client
// authentications count in the failed-authentication throttle; the TypeScript SDK's token provider
// works against the real endpoint.
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//        node --test tests/integration/oauth_test.mjs
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { prove } from '../../clients/wallet/src/prove.mjs';
import { ClientCredentials, Proofgate } from '../../sdk/ts/src/index.js';
import { Server, admin, createClient, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !artifacts) throw new Error('set PROOFGATE_BIN and PROOFGATE_ARTIFACTS');

let dataDir;
let server;
const demo = {};

before(async () => {
  dataDir = tempDir('oauth');
  server = await Server.start({ bin, artifacts, dataDir, args: ['--demo', '--rate-limit', '0'] });
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

const b64url = (data) => Buffer.from(data).toString('base64url');

async function tokenCall(form, { basic, contentType = 'application/x-www-form-urlencoded' } = {}) {
  const headers = { 'content-type': contentType };
  if (basic) {
    const [id, secret] = basic;
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  }
  const res = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text), text };
}

async function call(method, pathname, { bearer, body } = {}) {
  const headers = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const createRequest = (bearer, claimType = 'age_over_18') => call('POST', '/api/v1/requests', { bearer, body: { claim_type: claimType } });

function claimsOf(token) {
  const [header, payload] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
  return { header, payload };
}

test('client_secret_basic and client_secret_post issue an EdDSA at+jwt; the token creates a request and a proof verifies with it', async () => {
  const { client_id: id, client_secret: secret } = demo.partner;
  assert.match(secret, /^pgs_[A-Za-z0-9_-]{43}$/);
  const basic = await tokenCall({ grant_type: 'client_credentials' }, { basic: [id, secret] });
  assert.equal(basic.status, 200, basic.text);
  assert.equal(basic.json.token_type, 'Bearer');
  assert.equal(basic.json.expires_in, 600);
  assert.equal(basic.json.scope, 'age_over_18 citizenship education income_gte');
  assert.equal(basic.headers.get('cache-control'), 'no-store');
  const { header, payload } = claimsOf(basic.json.access_token);
  assert.deepEqual([header.alg, header.typ], ['EdDSA', 'at+jwt']);
  assert.equal(payload.sub, id);
  assert.equal(payload.client_id, id);
  assert.equal(payload.iss, payload.aud);
  assert.equal(payload.exp - payload.iat, 600);

  const post = await tokenCall({ grant_type: 'client_credentials', client_id: id, client_secret: secret, scope: 'age_over_18' });
  assert.equal(post.status, 200, post.text);
  assert.equal(post.json.scope, 'age_over_18');

  const request = await createRequest(post.json.access_token);
  assert.equal(request.status, 201, request.text);
  const body = await prove(artifacts, demo.holder, demo.identity, request.json);
  const verified = await call('POST', '/api/v1/verify', { bearer: post.json.access_token, body });
  assert.equal(verified.status, 200, verified.text);
  assert.equal(verified.json.status, 'verified', verified.text);

  // The token's scope, not the partner's: citizenship was not asked for.
  const narrow = await createRequest(post.json.access_token, 'citizenship');
  assert.equal(narrow.status, 403, narrow.text);
  assert.equal(narrow.json.error_code, 'UNAUTHORIZED_SCOPE');
  assert.equal((await createRequest(basic.json.access_token, 'citizenship')).status, 201);
});

test('RFC 6749 §5.2 errors: scope escalation, wrong secret, unsupported grant, two authentications, wrong body type', async () => {
  const partner = createClient(bin, dataDir, { name: 'Narrow Bank', scopes: ['age_over_18'], domains: ['narrow.example'] });
  const { client_id: id, client_secret: secret } = partner;
  const ok = await tokenCall({ grant_type: 'client_credentials', client_id: id, client_secret: secret });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.scope, 'age_over_18');

  const escalate = await tokenCall({ grant_type: 'client_credentials', scope: 'age_over_18 citizenship' }, { basic: [id, secret] });
  assert.equal(escalate.status, 400, escalate.text);
  assert.equal(escalate.json.error, 'invalid_scope');
  assert.equal(typeof escalate.json.error_description, 'string');

  const wrong = await tokenCall({ grant_type: 'client_credentials' }, { basic: [id, `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`] });
  assert.equal(wrong.status, 401, wrong.text);
  assert.equal(wrong.json.error, 'invalid_client');
  assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic/);
  const wrongPost = await tokenCall({ grant_type: 'client_credentials', client_id: id, client_secret: 'pgs_nope' });
  assert.equal(wrongPost.status, 401, wrongPost.text);
  assert.equal(wrongPost.json.error, 'invalid_client');

  const grant = await tokenCall({ grant_type: 'password', username: 'x', password: 'y' }, { basic: [id, secret] });
  assert.equal(grant.status, 400, grant.text);
  assert.equal(grant.json.error, 'unsupported_grant_type');

  const both = await tokenCall({ grant_type: 'client_credentials', client_id: id, client_secret: secret }, { basic: [id, secret] });
  assert.equal(both.status, 400, both.text);
  assert.equal(both.json.error, 'invalid_request');

  const noGrant = await tokenCall({ client_id: id, client_secret: secret });
  assert.equal(noGrant.json.error, 'invalid_request', noGrant.text);

  const json = await tokenCall({ grant_type: 'client_credentials' }, { basic: [id, secret], contentType: 'application/json' });
  assert.equal(json.status, 400, json.text);
  assert.equal(json.json.error, 'invalid_request');

  // A rotated secret: the new one works, the old one no longer does.
  const rotated = admin(bin, dataDir, ['rotate-client-secret', '--client-id', id]);
  assert.notEqual(rotated.client_secret, secret);
  assert.equal((await tokenCall({ grant_type: 'client_credentials' }, { basic: [id, secret] })).status, 401);
  assert.equal((await tokenCall({ grant_type: 'client_credentials' }, { basic: [id, rotated.client_secret] })).status, 200);
});

test('the JWKS lists OKP Ed25519 keys; tokens with alg none, HS256 keyed with the public key, or an unknown kid get 401', async () => {
  const res = await call('GET', '/.well-known/jwks.json');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
  assert.ok(res.json.keys.length >= 1);
  for (const k of res.json.keys) {
    assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.deepEqual([k.kty, k.crv, k.use, k.alg], ['OKP', 'Ed25519', 'sig', 'EdDSA']);
    assert.equal(Buffer.from(k.x, 'base64url').length, 32);
  }
  const jwk = res.json.keys[0];

  const { client_id: id, client_secret: secret } = demo.partner;
  const real = await tokenCall({ grant_type: 'client_credentials' }, { basic: [id, secret] });
  const { payload } = claimsOf(real.json.access_token);
  const body = b64url(JSON.stringify(payload));
  const forged = {};
  forged.none = `${b64url(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: jwk.kid }))}.${body}.`;
  const hsInput = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }))}.${body}`;
  for (const [name, secretKey] of [['hs256-raw-key', Buffer.from(jwk.x, 'base64url')], ['hs256-x', Buffer.from(jwk.x)], ['hs256-jwk', Buffer.from(JSON.stringify(jwk))]]) {
    forged[name] = `${hsInput}.${crypto.createHmac('sha256', secretKey).update(hsInput).digest('base64url')}`;
  }
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const otherInput = `${b64url(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: 'not-a-known-kid' }))}.${body}`;
  forged.unknownKid = `${otherInput}.${crypto.sign(null, Buffer.from(otherInput), privateKey).toString('base64url')}`;
  const sameKidInput = `${b64url(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: jwk.kid }))}.${body}`;
  forged.otherKeySameKid = `${sameKidInput}.${crypto.sign(null, Buffer.from(sameKidInput), privateKey).toString('base64url')}`;
  for (const [name, token] of Object.entries(forged)) {
    const r = await createRequest(token);
    assert.equal(r.status, 401, `${name}: ${r.text}`);
    assert.equal(r.json.error_code, 'UNAUTHORIZED', name);
  }
  assert.equal((await createRequest(real.json.access_token)).status, 201, 'the real token still works');
});

test('rotate-token-key: a new kid signs, the token of the old key still works, both keys are in the JWKS', async () => {
  const { client_id: id, client_secret: secret } = demo.partner;
  const first = (await tokenCall({ grant_type: 'client_credentials' }, { basic: [id, secret] })).json.access_token;
  const oldKid = claimsOf(first).header.kid;
  const rotated = admin(bin, dataDir, ['rotate-token-key']);
  assert.notEqual(rotated.kid, oldKid);
  // The server rereads its key ring within a second: wait for the new kid.
  let second;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    second = (await tokenCall({ grant_type: 'client_credentials' }, { basic: [id, secret] })).json.access_token;
    if (claimsOf(second).header.kid === rotated.kid) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(claimsOf(second).header.kid, rotated.kid);
  for (const token of [first, second]) assert.equal((await createRequest(token)).status, 201);
  let kids = [];
  while (Date.now() < deadline + 10_000) {
    kids = (await call('GET', '/.well-known/jwks.json')).json.keys.map((k) => k.kid);
    if (kids.includes(rotated.kid)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(kids[0], rotated.kid, 'the current key leads');
  assert.ok(kids.includes(oldKid), 'the retired key stays until its tokens expire');
});

test('the TypeScript SDK\'s client credentials get a token from the real endpoint and use it', async () => {
  const { client_id: clientId, client_secret: clientSecret } = demo.partner;
  const tokens = new ClientCredentials({ clientId, clientSecret, baseUrl: server.url, scope: ['age_over_18'] });
  const client = new Proofgate({ baseUrl: server.url, tokenProvider: tokens });
  const created = await client.createRequest({ claim_type: 'age_over_18' });
  assert.ok(created.request_id, JSON.stringify(created));
  await assert.rejects(client.createRequest({ claim_type: 'citizenship' }), (e) => e.errorCode === 'UNAUTHORIZED_SCOPE');
});

test('failed client authentications count in the failed-authentication throttle', async () => {
  const dir = tempDir('oauth-throttle');
  const throttled = await Server.start({ bin, artifacts, dataDir: dir, args: ['--auth-failures-per-minute', '3'] });
  try {
    const { client_id: id, client_secret: secret } = createClient(bin, dir, { name: 'Throttled', scopes: ['age_over_18'], domains: ['throttled.example'] });
    const post = (form) => fetch(`${throttled.url}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(),
    });
    for (let i = 0; i < 3; i++) {
      const r = await post({ grant_type: 'client_credentials', client_id: id, client_secret: 'pgs_guess' });
      assert.equal(r.status, 401, `failure ${i + 1}`);
    }
    const r = await post({ grant_type: 'client_credentials', client_id: id, client_secret: secret });
    assert.equal(r.status, 429, 'even the right secret waits once the address is throttled');
    assert.equal((await r.json()).error_code, 'RATE_LIMITED');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  } finally {
    await throttled.stop();
    removeDir(dir);
  }
});
