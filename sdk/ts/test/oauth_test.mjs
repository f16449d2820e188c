// The OAuth2 client-credentials token provider (RFC 6749 §4.4) against a small local token
// endpoint written here (the server's /oauth/token is not part of this SDK's tests):
// client_secret_basic with the §2.3.1 form-encoding, the token cached until shortly before
// expires_in, one fetch for concurrent callers, §5.2 errors, and the client refreshing once on 401.
// Usage: node --test sdk/ts/test/oauth_test.mjs
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, beforeEach, test } from 'node:test';

import { ClientCredentials, Proofgate, ProofgateError, TokenError } from '../src/index.js';

const kClientId = 'partner:one 1';
const kClientSecret = 's3cr+t/=&%';

const stub = {
  tokenRequests: [],
  statusRequests: [],
  issued: 0,
  valid: new Set(),
  expiresIn: 3600,
  tokenType: 'Bearer',
  tokenFailures: [], // statuses to answer before succeeding
  rejectAll: false,
};

/** Reads a whole request body. */
const readBody = (req) => new Promise((resolve) => {
  let b = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { b += d; });
  req.on('end', () => resolve(b));
});

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const body = await readBody(req);
  if (req.method === 'POST' && req.url === '/oauth/token') {
    stub.tokenRequests.push({ headers: req.headers, body });
    const failure = stub.tokenFailures.shift();
    if (failure) return json(res, failure, { error: 'temporarily_unavailable' }, { 'retry-after': '0' });
    const auth = req.headers.authorization ?? '';
    const [id, secret] = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString().split(':')
      .map((s) => decodeURIComponent(s.replace(/\+/g, ' ')));
    if (!auth.startsWith('Basic ') || id !== kClientId || secret !== kClientSecret) {
      return json(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' }, { 'www-authenticate': 'Basic' });
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    const token = `tok-${++stub.issued}`;
    stub.valid.add(token);
    return json(res, 200, { access_token: token, token_type: stub.tokenType, expires_in: stub.expiresIn, scope: form.get('scope') ?? 'age_over_18' });
  }
  if (req.method === 'GET' && req.url.startsWith('/api/v1/status/')) {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    stub.statusRequests.push(token);
    if (stub.rejectAll || !stub.valid.has(token)) {
      res.writeHead(401, { 'content-type': 'application/problem+json', 'x-request-id': 'req-401' });
      return res.end(JSON.stringify({ type: 'https://proofgate.dev/errors/unauthorized', title: 'Unauthorized', status: 401, error_code: 'UNAUTHORIZED', detail: 'Authorization: the token is not valid', field: 'Authorization' }));
    }
    return json(res, 200, { proof_id: 'p1', status: 'verified', claim_type: 'age_over_18', circuit_version: '1.0.0', created_at: '2026-12-05T10:00:00Z', verified_at: '2026-12-05T10:00:00Z' });
  }
  json(res, 404, { error_code: 'NOT_FOUND' });
});

let baseUrl;
before(async () => {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  Object.assign(stub, { tokenRequests: [], statusRequests: [], valid: new Set(), expiresIn: 3600, tokenType: 'Bearer', tokenFailures: [], rejectAll: false });
});

const provider = (extra = {}) => new ClientCredentials({ baseUrl, clientId: kClientId, clientSecret: kClientSecret, ...extra });

test('client_secret_basic with form-encoded credentials, grant_type and scope in the form body', async () => {
  const tokens = provider({ scope: ['age_over_18', 'citizenship'] });
  const token = await tokens.getToken();
  assert.ok(stub.valid.has(token));
  assert.equal(stub.tokenRequests.length, 1);
  const { headers, body } = stub.tokenRequests[0];
  assert.equal(headers['content-type'], 'application/x-www-form-urlencoded');
  // RFC 6749 §2.3.1: id and secret each form-encoded, then "id:secret" in base64.
  assert.equal(headers.authorization, `Basic ${Buffer.from('partner%3Aone+1:s3cr%2Bt%2F%3D%26%25').toString('base64')}`);
  const form = new URLSearchParams(body);
  assert.equal(form.get('grant_type'), 'client_credentials');
  assert.equal(form.get('scope'), 'age_over_18 citizenship');
  assert.equal(form.has('client_secret'), false, 'the secret goes in the header only');
});

test('the token is cached, shared by concurrent callers and refreshed shortly before it expires', async () => {
  let now = 1_000_000;
  const tokens = provider({ now: () => now });
  const first = await Promise.all(Array.from({ length: 5 }, () => tokens.getToken()));
  assert.equal(new Set(first).size, 1);
  assert.equal(stub.tokenRequests.length, 1, 'one request for five concurrent callers');
  now += 3600_000 - 30_001; // just before the refresh point (30 s before expiry)
  assert.equal(await tokens.getToken(), first[0]);
  assert.equal(stub.tokenRequests.length, 1);
  now += 2;
  const second = await tokens.getToken();
  assert.notEqual(second, first[0]);
  assert.equal(stub.tokenRequests.length, 2);
  // A short-lived token refreshes at half its lifetime rather than at once.
  stub.expiresIn = 20;
  tokens.invalidate(second);
  const third = await tokens.getToken();
  now += 9_999;
  assert.equal(await tokens.getToken(), third);
  now += 2;
  assert.notEqual(await tokens.getToken(), third);
  assert.equal(stub.tokenRequests.length, 4);
});

test('token errors (RFC 6749 §5.2) and answers that are not bearer tokens are refused', async () => {
  const wrong = new ClientCredentials({ baseUrl, clientId: kClientId, clientSecret: 'wrong-secret' });
  const e = await wrong.getToken().catch((x) => x);
  assert.ok(e instanceof TokenError, String(e));
  assert.equal(e.status, 401);
  assert.equal(e.error, 'invalid_client');
  assert.equal(e.description, 'client authentication failed');
  stub.tokenType = 'mac';
  const mac = await provider().getToken().catch((x) => x);
  assert.ok(mac instanceof TokenError);
  assert.equal(mac.error, 'invalid_response');
  stub.tokenType = 'Bearer';
  stub.expiresIn = -5;
  const negative = await provider().getToken().catch((x) => x);
  assert.equal(negative.error, 'invalid_response');
});

test('a 503 from the token endpoint is retried; a failure is not cached', async () => {
  stub.tokenFailures = [503, 503];
  const tokens = provider({ retry: { baseDelayMs: 1 } });
  const token = await tokens.getToken();
  assert.ok(stub.valid.has(token));
  assert.equal(stub.tokenRequests.length, 3);
  stub.tokenFailures = [503, 503];
  const once = provider({ retry: { maxAttempts: 2, baseDelayMs: 1 } });
  const e = await once.getToken().catch((x) => x);
  assert.ok(e instanceof TokenError);
  assert.equal(e.status, 503);
  assert.ok(stub.valid.has(await once.getToken()), 'the next call fetches again');
});

test('the client refreshes the token once on a 401, and only once', async () => {
  const tokens = provider();
  const pg = new Proofgate({ baseUrl, tokenProvider: tokens });
  const before = await pg.status('p1');
  assert.equal(before.status, 'verified');
  const firstToken = stub.statusRequests[0];
  stub.valid.delete(firstToken); // revoked (or its signing key rotated away) on the server
  const afterRevocation = await pg.status('p1');
  assert.equal(afterRevocation.proof_id, 'p1');
  assert.deepEqual(stub.statusRequests.slice(1).map((t) => t === firstToken), [true, false]);
  assert.equal(stub.tokenRequests.length, 2);
  // A server that refuses every token: one refresh, then the typed error.
  stub.rejectAll = true;
  stub.statusRequests = [];
  const e = await pg.status('p1').catch((x) => x);
  assert.ok(e instanceof ProofgateError, String(e));
  assert.equal(e.status, 401);
  assert.equal(e.errorCode, 'UNAUTHORIZED');
  assert.equal(e.field, 'Authorization');
  assert.equal(e.requestId, 'req-401');
  assert.equal(stub.statusRequests.length, 2);
});
