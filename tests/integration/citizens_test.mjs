// Citizens' accounts through the real binary (docs/citizens.md): sign-in with the code read from
// the sandbox's SMS directory, a wallet-made proof linked to the account (a link token for another
// nonce refused first, leaving the nonce unspent), the proof in /api/v1/account/proofs, refresh
// rotation and family revocation, deletion: the partner's webhook receives a signed
// account.deleted naming its proof, the old tokens are refused, the proof stays with user_id NULL.
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//        node --test tests/integration/citizens_test.mjs
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { prove } from '../../clients/wallet/src/prove.mjs';
import { buildTree, credentialLeaf } from '../../clients/wallet/src/tree.mjs';
import { Server, admin, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !artifacts) throw new Error('set PROOFGATE_BIN and PROOFGATE_ARTIFACTS');

const phone = '+9779812345678';
let dataDir;
let server;
let receiver;
const received = [];
let waiters = [];
const demo = {};

/** Every webhook request the partner's receiver got: {headers, body}. */
function startReceiver() {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end();
        for (const w of waiters) w();
        waiters = [];
      });
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

/** Waits (no fixed sleep) until `pick()` finds something among the received webhooks. */
async function waitForWebhook(pick, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = pick();
    if (found) return found;
    assert.ok(Date.now() < deadline, `no matching webhook within ${timeoutMs} ms: ${JSON.stringify(received.map((r) => r.body))}`);
    await new Promise((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
  }
}

/** Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body)) among the entries. */
function signatureValid(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest();
  return String(headers['webhook-signature']).split(' ').some((entry) => {
    const given = Buffer.from(entry.replace(/^v1,/, ''), 'base64');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
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

function userIdOf(proofId) {
  const r = spawnSync('python3', ['-c', 'import json, sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=5)\n' +
    'print(json.dumps([r[0] for r in c.execute("SELECT user_id FROM proofs WHERE id = ?", (sys.argv[2],))]))',
  path.join(dataDir, 'proofgate.db'), proofId], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

before(async () => {
  dataDir = tempDir('citizens');
  receiver = await startReceiver();
  server = await Server.start({ bin, artifacts, dataDir, args: ['--demo', '--rate-limit', '0', '--webhook-allow-loopback'] });
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  demo.holder = read('holder.json');
  // Accounts link live verifications only: the demo holder's identity credential in a live tree of
  // the test's own (its leaf alone), whose root the operator publishes live (the demo's roots are
  // sandbox roots).
  const sandboxIdentity = read('identity.json');
  const { birth_date: birthDate, country } = sandboxIdentity.attributes;
  const leaf = await credentialLeaf(1, 1, BigInt(demo.holder.commitment), [birthDate, country], sandboxIdentity.expiry);
  const tree = await buildTree([leaf]);
  const { siblings, path_indices: pathIndices } = tree.path(0);
  demo.identity = { ...sandboxIdentity, root: tree.root.toString(), siblings: siblings.map(String), path_indices: pathIndices };
  demo.identityFile = path.join(dataDir, 'identity-live.json');
  fs.writeFileSync(demo.identityFile, JSON.stringify(demo.identity));
  admin(bin, dataDir, ['publish-root', '--issuer-id', '1', '--root', demo.identity.root]);
  demo.partner = admin(bin, dataDir, ['create-client', '--name', 'Hooked Bank', '--scopes', 'age_over_18',
    '--domains', 'hooked.example', '--webhook-url', `http://127.0.0.1:${receiver.address().port}/hook`,
    '--allow-loopback-webhook']);
});

after(async () => {
  if (server) await server.stop();
  receiver?.close();
  await globalThis.curve_bn128?.terminate();
  removeDir(dataDir);
});

test('sign in by code, link a proof, see it, rotate, delete: the partner is told and the tokens die', async () => {
  // Sign-in: the code from the sandbox's SMS file, the text in Nepali by default.
  const sent = await call('POST', '/api/v1/account/sign-in', { body: { phone } });
  assert.equal(sent.status, 202, sent.text);
  const sms = fs.readFileSync(path.join(dataDir, 'sms', `${phone}.code`), 'utf8');
  assert.match(sms, /कोड/);
  const code = sms.match(/(\d{6})\s*$/)[1];
  const wrong = await call('POST', '/api/v1/account/sign-in/verify', { body: { phone, code: code === '000000' ? '000001' : '000000' } });
  assert.equal(wrong.status, 401, wrong.text);
  assert.equal(wrong.json.error_code, 'WRONG_CODE');
  assert.equal(wrong.headers.get('content-language'), 'ne');
  const signedIn = await call('POST', '/api/v1/account/sign-in/verify', { body: { phone, code, language: 'en' } });
  assert.equal(signedIn.status, 200, signedIn.text);
  const first = signedIn.json;
  const account = await call('GET', '/api/v1/account', { bearer: first.access_token });
  assert.equal(account.status, 200, account.text);
  assert.equal(account.json.language, 'en');
  assert.ok(!account.text.includes('9812345678'), 'the account never shows the number');
  // The access token is no partner credential.
  assert.equal((await call('POST', '/api/v1/requests', { bearer: first.access_token, body: { claim_type: 'age_over_18' } })).status, 401);

  // A proof request of the partner; a link token for another nonce is refused and spends nothing.
  const request = await call('POST', '/api/v1/requests', { bearer: demo.partner.api_key, body: { claim_type: 'age_over_18' } });
  assert.equal(request.status, 201, request.text);
  const otherLink = await call('POST', '/api/v1/account/link-token', { bearer: first.access_token, body: { nonce: 'A'.repeat(22) } });
  assert.equal(otherLink.status, 200, otherLink.text);
  const body = await prove(artifacts, demo.holder, demo.identity, request.json);
  const refused = await call('POST', '/api/v1/verify', { bearer: demo.partner.api_key, body: { ...body, account_link: otherLink.json.link_token } });
  assert.equal(refused.status, 400, refused.text);
  assert.equal(refused.json.field, 'account_link');
  // The link token reads nothing.
  assert.equal((await call('GET', '/api/v1/account', { bearer: otherLink.json.link_token })).status, 401);
  const link = await call('POST', '/api/v1/account/link-token', { bearer: first.access_token, body: { nonce: request.json.nonce } });
  const verified = await call('POST', '/api/v1/verify', { bearer: demo.partner.api_key, body: { ...body, account_link: link.json.link_token } });
  assert.equal(verified.status, 200, verified.text);
  const proofId = verified.json.proof_id;
  assert.ok(proofId, verified.text);
  await waitForWebhook(() => received.find((r) => r.body.includes(proofId)));

  const proofs = await call('GET', '/api/v1/account/proofs', { bearer: first.access_token });
  assert.equal(proofs.status, 200, proofs.text);
  assert.deepEqual(proofs.json.proofs.map((p) => [p.proof_id, p.partner, p.claim_type, p.verdict]),
    [[proofId, 'Hooked Bank', 'age_over_18', 'verified']]);
  assert.ok(!/nullifier|public_signals/.test(proofs.text));
  assert.deepEqual(userIdOf(proofId), [account.json.id]);

  // Rotation: the next pair; the used token presented again revokes the family.
  const second = await call('POST', '/api/v1/account/token', { body: { refresh_token: first.refresh_token } });
  assert.equal(second.status, 200, second.text);
  const reuse = await call('POST', '/api/v1/account/token', { body: { refresh_token: first.refresh_token } });
  assert.equal(reuse.status, 401, reuse.text);
  assert.equal(reuse.headers.get('content-language'), 'en');
  assert.equal((await call('POST', '/api/v1/account/token', { body: { refresh_token: second.json.refresh_token } })).status, 401);

  // Deletion.
  const removed = await call('DELETE', '/api/v1/account', { bearer: second.json.access_token });
  assert.equal(removed.status, 204, removed.text);
  const told = await waitForWebhook(() => received.find((r) => JSON.parse(r.body).event === 'account.deleted'));
  assert.ok(signatureValid(demo.partner.webhook_secret, told.headers, told.body), 'a valid Standard Webhooks signature');
  const event = JSON.parse(told.body);
  assert.deepEqual(event.data, { proof_ids: [proofId] });
  assert.equal(told.headers['webhook-id'], event.event_id);
  assert.ok(!told.body.includes(account.json.id) && !told.body.includes('9812345678'), 'no personal data');
  for (const token of [first.access_token, second.json.access_token]) {
    assert.equal((await call('GET', '/api/v1/account', { bearer: token })).status, 401);
  }
  assert.deepEqual(userIdOf(proofId), [null]);
  const status = await call('GET', `/api/v1/status/${proofId}`, { bearer: demo.partner.api_key });
  assert.equal(status.status, 200, status.text);
  assert.equal(status.json.status, 'verified');
});

test('the wallet command line: account sign-in, prove --link-account, account proofs, account delete', async () => {
  const walletCli = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'clients', 'wallet', 'bin', 'wallet.mjs');
  const walletDir = path.join(dataDir, 'wallet');
  const wallet = (...args) => {
    const r = spawnSync('node', [walletCli, ...args, '--wallet', walletDir], { encoding: 'utf8' });
    assert.equal(r.status, 0, `wallet ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim().split('\n').filter((l) => l).map((l) => JSON.parse(l));
  };
  const number = '+9779800000042';
  assert.equal(wallet('account', 'sign-in', '--server', server.url, '--phone', number)[0].status, 'code_sent');
  const code = fs.readFileSync(path.join(dataDir, 'sms', `${number}.code`), 'utf8').match(/(\d{6})\s*$/)[1];
  wallet('account', 'sign-in', '--server', server.url, '--phone', number, '--code', code);
  assert.equal((fs.statSync(path.join(walletDir, 'account.json')).mode & 0o777), 0o600);
  const me = wallet('account', 'show')[0];
  assert.equal(me.language, 'ne');

  const request = await call('POST', '/api/v1/requests', { bearer: demo.partner.api_key, body: { claim_type: 'age_over_18' } });
  assert.equal(request.status, 201, request.text);
  const requestFile = path.join(dataDir, 'request.json');
  fs.writeFileSync(requestFile, JSON.stringify(request.json));
  const [body] = wallet('prove', '--holder', path.join(dataDir, 'demo', 'holder.json'),
    '--credential', demo.identityFile, '--request', requestFile,
    '--artifacts', artifacts, '--link-account');
  assert.ok(body.account_link);
  const verified = await call('POST', '/api/v1/verify', { bearer: demo.partner.api_key, body });
  assert.equal(verified.status, 200, verified.text);
  assert.deepEqual(wallet('account', 'proofs').map((p) => p.proof_id), [verified.json.proof_id]);
  assert.deepEqual(userIdOf(verified.json.proof_id), [me.id]);

  assert.deepEqual(wallet('account', 'delete'), [{ deleted: true }]);
  assert.ok(!fs.existsSync(path.join(walletDir, 'account.json')));
  assert.deepEqual(userIdOf(verified.json.proof_id), [null]);
});
