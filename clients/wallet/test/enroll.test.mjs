// Enrolment (src/enroll.mjs) and the enroll/refresh/credentials commands against a stand-in
// issuer node: a small HTTP server in this process playing docs/issuers.md ("The issuer node's
// API") with real Poseidon trees (src/tree.mjs), so every check the wallet makes is met by the
// honest answers and each tampered answer is refused with nothing kept. The end-to-end test with
// the real issuer node and sandbox authority lives in tests/integration.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import {
  EnrolmentError, ISSUERS, checkCredential, completeEnrolment, credentialStatus, parseOffer, refreshCredential,
  startEnrolment,
} from '../src/enroll.mjs';
import { newHolder } from '../src/holder.mjs';
import { circuitInput } from '../src/proof.mjs';
import { buildTree, credentialLeaf } from '../src/tree.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const cli = path.join(here, '..', 'bin', 'wallet.mjs');
const repo = path.join(here, '..', '..', '..');

const RECORD = '27-01-74-05123';
const LOCKED_RECORD = '27-01-74-09999';
const DOWN_RECORD = '27-01-74-08888';
const GOOD_CODE = '123456';
const EXPIRED_CODE = '999999';

// What each stand-in authority releases for RECORD, as credential attributes (docs/protocol.md).
const kAttributes = {
  moha: { birth_date: 20011201, country: 524 },
  tu: { degree_level: 4, graduation_year: 2021, institution_id: 17 },
  nrb: { annual_income_npr: 1250000, fiscal_year: 2080 },
};
const kExpiry = 20361201;
// A claim circuit of each issuer's schema, whose manifest says what prove reads.
const kCircuit = { moha: 'age_over_18', tu: 'education', nrb: 'income_gte' };

/**
 * A stand-in issuer node of `kind` on 127.0.0.1: the holder routes of docs/issuers.md over a
 * sparse depth-20 tree that starts with three filler leaves. `tamper(answer)` and
 * `tamperPath(answer)` rewrite the next answers; `moveRoot()` appends a leaf, `revoke(i)` zeroes
 * one; `requests` keeps every request (method, url, body text).
 */
async function startIssuer(kind = 'moha') {
  const spec = ISSUERS[kind];
  const state = {
    leaves: [101n, 202n, 303n],
    seq: 4,
    issued: new Map(), // holder commitment -> leaf index
    revoked: new Set(),
    requests: [],
    tamper: null,
    tamperPath: null,
    hang: false,
  };
  let url;
  const credentialAt = async (index) => {
    const tree = await buildTree(state.leaves);
    return {
      issuer: kind, issuer_id: spec.issuer_id, issuer_url: url, schema: spec.schema, schema_id: spec.schema_id,
      attributes: { ...kAttributes[kind] }, expiry: kExpiry, leaf_index: index, leaf: state.leaves[index].toString(),
      root: tree.root.toString(), root_seq: state.seq,
      siblings: tree.path(index).siblings.map(String), path_indices: tree.path(index).path_indices,
    };
  };
  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const error = (res, status, code, detail, headers) => send(res, status, { error_code: code, detail }, headers);
  const server = http.createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    state.requests.push({ method: req.method, url: req.url, body: text });
    if (state.hang) return; // never answers
    const body = text ? JSON.parse(text) : undefined;
    if (req.method === 'POST' && req.url === '/issuer/v1/enrolments') {
      if (body.record === LOCKED_RECORD) return error(res, 429, 'LOCKED_OUT', 'too many wrong codes', { 'retry-after': '840' });
      if (body.record !== RECORD && body.record !== DOWN_RECORD) return error(res, 404, 'UNKNOWN_RECORD', 'no such record');
      return send(res, 202, { sent_to: '98******12', expires_in: 300 });
    }
    if (req.method === 'POST' && req.url === '/issuer/v1/enrolments/complete') {
      if (body.record === LOCKED_RECORD) return error(res, 429, 'LOCKED_OUT', 'too many wrong codes', { 'retry-after': '840' });
      if (body.record === DOWN_RECORD) return error(res, 502, 'AUTHORITY_UNAVAILABLE', 'the authority timed out');
      if (body.code === EXPIRED_CODE) return error(res, 410, 'CODE_EXPIRED', 'the code has expired');
      if (body.code !== GOOD_CODE) return error(res, 401, 'WRONG_CODE', '4 attempts left');
      const commitment = BigInt(body.holder_commitment);
      let status = 200;
      if (!state.issued.has(body.holder_commitment)) {
        const attrs = spec.attributes.map((name) => kAttributes[kind][name]);
        state.leaves.push(await credentialLeaf(spec.issuer_id, spec.schema_id, commitment, attrs, kExpiry));
        state.issued.set(body.holder_commitment, state.leaves.length - 1);
        state.seq += 1;
        status = 201;
      }
      let answer = await credentialAt(state.issued.get(body.holder_commitment));
      if (state.tamper) answer = await state.tamper(answer);
      return send(res, status, answer);
    }
    const m = /^\/issuer\/v1\/credentials\/([0-9]+)$/.exec(req.url);
    if (req.method === 'GET' && m) {
      const index = Number(m[1]);
      if (index >= state.leaves.length) return error(res, 404, 'NOT_FOUND', 'no such leaf');
      if (state.revoked.has(index)) return error(res, 410, 'REVOKED', 'revoked by the issuer');
      const { leaf_index, leaf, root, root_seq, siblings, path_indices } = await credentialAt(index);
      let answer = { leaf_index, leaf, root, root_seq, siblings, path_indices };
      if (state.tamperPath) answer = await state.tamperPath(answer);
      return send(res, 200, answer);
    }
    return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${req.url}`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    state,
    async moveRoot() {
      state.leaves.push(BigInt(state.leaves.length) * 1000n + 7n);
      state.seq += 1;
    },
    revoke(index) {
      state.leaves[index] = 0n;
      state.revoked.add(index);
      state.seq += 1;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Runs the wallet's CLI (asynchronously: the stand-in issuer answers from this process). */
function wallet(args, env = {}) {
  return new Promise((resolve) => {
    execFile('node', [cli, ...args], { encoding: 'utf8', env: { ...process.env, PROOFGATE_WALLET: '', ...env } },
      (err, stdout, stderr) => resolve({ status: err ? err.code : 0, stdout, stderr }));
  });
}
const lines = (stdout) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'wallet-enroll-'));
const manifest = (claimType) => JSON.parse(fs.readFileSync(path.join(repo, 'circuits', claimType, 'manifest.json'), 'utf8'));

async function refusedWith(promise, code, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof EnrolmentError, `not an EnrolmentError: ${err}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('enrolment: a code is asked for, then the checked credential comes back; prove reads it', async () => {
  for (const kind of ['moha', 'tu', 'nrb']) {
    const issuer = await startIssuer(kind);
    try {
      const holder = await newHolder();
      assert.deepEqual(await startEnrolment(issuer.url, RECORD), { sent_to: '98******12', expires_in: 300 });
      const credential = await completeEnrolment(issuer.url, RECORD, GOOD_CODE, holder);
      const spec = ISSUERS[kind];
      assert.equal(credential.issuer, kind);
      assert.equal(credential.issuer_id, spec.issuer_id);
      assert.equal(credential.leaf_index, 3);
      assert.equal(credential.root_seq, 5);
      assert.deepEqual(credential.attributes, kAttributes[kind]);
      const leaf = await credentialLeaf(spec.issuer_id, spec.schema_id, holder.commitment,
        spec.attributes.map((n) => kAttributes[kind][n]), kExpiry);
      assert.equal(credential.leaf, leaf.toString());
      assert.equal(credential.root, (await buildTree(issuer.state.leaves)).root.toString());
      // prove's circuit input is made from exactly this object (the request's params aside).
      const request = {
        nonce: 'n', verifier_domain: 'bank.example', claim_type: kCircuit[kind], circuit_version: '1.0.0',
        params: { today: 20260101, min_level: 4, threshold: 1000000, fiscal_year: 2080 },
      };
      const input = await circuitInput(manifest(kCircuit[kind]), holder, credential, request);
      assert.equal(input.root, credential.root);
      assert.equal(input.secret, holder.secret);
      assert.deepEqual(input.siblings, credential.siblings);
    } finally {
      await issuer.close();
    }
  }
});

test('the holder secret is never sent: the completion body is record, code and commitment only', async () => {
  const issuer = await startIssuer();
  try {
    const holder = await newHolder();
    await startEnrolment(issuer.url, RECORD);
    await completeEnrolment(issuer.url, RECORD, GOOD_CODE, holder);
    const complete = issuer.state.requests.find((r) => r.url === '/issuer/v1/enrolments/complete');
    assert.deepEqual(JSON.parse(complete.body), { record: RECORD, code: GOOD_CODE, holder_commitment: holder.commitment });
    for (const r of issuer.state.requests) {
      assert.ok(!r.body.includes(holder.secret), `${r.url} carried the secret`);
      assert.ok(!r.url.includes(holder.secret));
    }
  } finally {
    await issuer.close();
  }
});

test('completing twice gives the same credential again, not a second leaf', async () => {
  const issuer = await startIssuer();
  try {
    const holder = await newHolder();
    const first = await completeEnrolment(issuer.url, RECORD, GOOD_CODE, holder);
    const again = await completeEnrolment(issuer.url, RECORD, GOOD_CODE, holder);
    assert.deepEqual(again, first);
    assert.equal(issuer.state.leaves.length, 4);
  } finally {
    await issuer.close();
  }
});

test('the issuer\'s errors become messages saying what happened', async () => {
  const issuer = await startIssuer();
  try {
    const holder = await newHolder();
    await refusedWith(completeEnrolment(issuer.url, RECORD, '111111', holder), 'WRONG_CODE', /code is wrong \(4 attempts left\)/);
    await refusedWith(completeEnrolment(issuer.url, RECORD, EXPIRED_CODE, holder), 'CODE_EXPIRED', /expired.*ask for a new code/);
    await assert.rejects(completeEnrolment(issuer.url, LOCKED_RECORD, GOOD_CODE, holder), (err) => {
      assert.equal(err.code, 'LOCKED_OUT');
      assert.equal(err.retryAfter, 840);
      assert.match(err.message, /locked out.*try again in 840 s/);
      return true;
    });
    await refusedWith(startEnrolment(issuer.url, LOCKED_RECORD), 'LOCKED_OUT', /try again in 840 s/);
    await refusedWith(startEnrolment(issuer.url, '11-11-11-11111'), 'UNKNOWN_RECORD', /no such record/);
    await refusedWith(completeEnrolment(issuer.url, DOWN_RECORD, GOOD_CODE, holder), 'AUTHORITY_UNAVAILABLE',
      /authority behind the issuer is unavailable \(the authority timed out\)/);
    assert.equal(issuer.state.leaves.length, 3, 'no leaf was appended');
  } finally {
    await issuer.close();
  }
});

test('an error without the protocol\'s body, an unexpected success, no answer and no issuer are told apart', async () => {
  const plain = http.createServer((req, res) => {
    if (req.url.endsWith('/complete')) {
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(503, { 'content-type': 'text/html' });
    res.end('<h1>Service Unavailable</h1>');
  });
  await new Promise((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const plainUrl = `http://127.0.0.1:${plain.address().port}`;
  try {
    await refusedWith(startEnrolment(plainUrl, RECORD), 'HTTP_STATUS', /HTTP 503 without the protocol's error body/);
    await refusedWith(completeEnrolment(plainUrl, RECORD, GOOD_CODE, await newHolder()), 'BAD_ANSWER',
      /answer is refused: HTTP 204, not 201 or 200/);
  } finally {
    await new Promise((resolve) => plain.close(resolve));
  }
  await refusedWith(startEnrolment(plainUrl, RECORD), 'UNREACHABLE', /cannot reach the issuer/);
  const issuer = await startIssuer();
  issuer.state.hang = true;
  try {
    await refusedWith(startEnrolment(issuer.url, RECORD, { timeoutMs: 300 }), 'UNREACHABLE', /no answer within 300 ms/);
  } finally {
    await issuer.close();
  }
});

test('bad arguments are refused before anything is sent', async () => {
  const issuer = await startIssuer();
  try {
    const holder = await newHolder();
    await refusedWith(startEnrolment(issuer.url, 'a record'), 'BAD_ARGUMENT', /record: "a record" is not a record number/);
    await refusedWith(startEnrolment('ftp://127.0.0.1/', RECORD), 'BAD_ARGUMENT', /is not http\(s\)/);
    await refusedWith(startEnrolment(`${issuer.url}?x=1`, RECORD), 'BAD_ARGUMENT', /query or fragment/);
    await refusedWith(completeEnrolment(issuer.url, RECORD, '12345', holder), 'BAD_ARGUMENT', /code: "12345" is not six digits/);
    await refusedWith(completeEnrolment(issuer.url, RECORD, GOOD_CODE, { secret: holder.secret }), 'BAD_ARGUMENT',
      /holder.commitment is not a decimal string/);
    assert.equal(issuer.state.requests.length, 0);
  } finally {
    await issuer.close();
  }
});

// Tampered credentials: each must be refused, naming what is wrong.
const kTampered = [
  ['a leaf for another holder (consistent path and root)', /the leaf is not Poseidon/, async (a, s) => {
    s.leaves[a.leaf_index] = await credentialLeaf(1, 1, 12345n, [20011201, 524], kExpiry);
    const tree = await buildTree(s.leaves);
    return { ...a, leaf: s.leaves[a.leaf_index].toString(), root: tree.root.toString(), siblings: tree.path(a.leaf_index).siblings.map(String) };
  }],
  ['attributes the leaf was not made of', /the leaf is not Poseidon/, (a) => ({ ...a, attributes: { ...a.attributes, birth_date: 19991201 } })],
  ['a wrong sibling', /path from the leaf does not lead to the root/, (a) => ({ ...a, siblings: a.siblings.map((s, i) => (i === 5 ? '42' : s)) })],
  ['19 siblings', /siblings must be 20 decimal strings, not 19/, (a) => ({ ...a, siblings: a.siblings.slice(1) })],
  ['a hexadecimal sibling', /siblings\[0\] is not a decimal string: "0x1"/, (a) => ({ ...a, siblings: ['0x1', ...a.siblings.slice(1)] })],
  ['a numeric root', /root is not a decimal string/, (a) => ({ ...a, root: Number(a.root) })],
  ['a root with a leading zero', /root is not a decimal string: "0/, (a) => ({ ...a, root: `0${a.root}` })],
  ['a leaf not below r', /leaf is not below the field order r/,
    (a) => ({ ...a, leaf: '21888242871839275222246405745257275088548364400416034343698204186575808495617' })],
  ['a direction bit 2', /path_indices\[0\] is not 0 or 1: 2/, (a) => ({ ...a, path_indices: [2, ...a.path_indices.slice(1)] })],
  ['bits that do not spell leaf_index', /path_indices\[0\] does not match leaf_index/, (a) => ({ ...a, leaf_index: a.leaf_index ^ 1 })],
  ['an unknown member', /unknown member "secret"/, (a) => ({ ...a, secret: '1' })],
  ['a missing member', /lacks "root_seq"/, ({ root_seq, ...rest }) => rest],
  ['another issuer\'s id', /issuer_id 2 is not moha's \(1\)/, (a) => ({ ...a, issuer_id: 2 })],
  ['an attribute as a string', /attributes.country is not a non-negative integer: "524"/, (a) => ({ ...a, attributes: { ...a.attributes, country: '524' } })],
  ['an extra attribute', /attributes has an unknown member "name"/, (a) => ({ ...a, attributes: { ...a.attributes, name: 'Sita' } })],
  ['an expiry that is not a date', /expiry is not a yyyymmdd date/, (a) => ({ ...a, expiry: 20361301 })],
  ['an issuer_url that is not http(s)', /issuer_url: .* is not http\(s\)/, (a) => ({ ...a, issuer_url: 'javascript:alert(1)' })],
  ['not an object', /credential is not a JSON object/, () => [1, 2, 3]],
];

test('tampered credentials are refused, naming what is wrong', async () => {
  const issuer = await startIssuer();
  try {
    for (const [what, pattern, tamper] of kTampered) {
      const holder = await newHolder();
      issuer.state.tamper = (answer) => tamper(answer, { leaves: [...issuer.state.leaves] });
      await refusedWith(completeEnrolment(issuer.url, RECORD, GOOD_CODE, holder), 'BAD_ANSWER', pattern).catch((err) => {
        throw new Error(`${what}: ${err.message}`);
      });
    }
  } finally {
    await issuer.close();
  }
});

test('the checks accept the honest credential they were given (the tampering above is what fails)', async () => {
  const holder = await newHolder();
  const tree = await buildTree([101n, await credentialLeaf(1, 1, holder.commitment, [20011201, 524], kExpiry)]);
  const answer = {
    issuer: 'moha', issuer_id: 1, issuer_url: 'https://moha.example/node', schema: 'identity', schema_id: 1,
    attributes: { birth_date: 20011201, country: 524 }, expiry: kExpiry, leaf_index: 1,
    leaf: (await credentialLeaf(1, 1, holder.commitment, [20011201, 524], kExpiry)).toString(),
    root: tree.root.toString(), root_seq: 2, siblings: tree.path(1).siblings.map(String), path_indices: tree.path(1).path_indices,
  };
  assert.deepEqual(await checkCredential(answer, holder.commitment), answer);
  await refusedWith(checkCredential(answer, (await newHolder()).commitment), 'BAD_ANSWER', /this holder's commitment/);
});

test('refresh after the root moved: stale, then a new path to the new root, then current', async () => {
  const issuer = await startIssuer();
  try {
    const holder = await newHolder();
    const credential = await completeEnrolment(issuer.url, RECORD, GOOD_CODE, holder);
    assert.equal(await credentialStatus(credential), 'current');
    await issuer.moveRoot();
    assert.equal(await credentialStatus(credential), 'stale');
    const fresh = await refreshCredential(credential);
    assert.equal(fresh.root_seq, credential.root_seq + 1);
    assert.notEqual(fresh.root, credential.root);
    assert.equal(fresh.root, (await buildTree(issuer.state.leaves)).root.toString());
    assert.notDeepEqual(fresh.siblings, credential.siblings);
    assert.deepEqual({ ...fresh, root: 0, root_seq: 0, siblings: 0 }, { ...credential, root: 0, root_seq: 0, siblings: 0 });
    assert.equal(await credentialStatus(fresh), 'current');
  } finally {
    await issuer.close();
  }
});

test('a refresh answer for another leaf, an older root or a broken path is refused; the credential stays', async () => {
  const issuer = await startIssuer();
  try {
    const holder = await newHolder();
    const credential = await completeEnrolment(issuer.url, RECORD, GOOD_CODE, holder);
    const kept = structuredClone(credential);
    await issuer.moveRoot();
    const cases = [
      [/the leaf at index 3 is not this credential's/, async (a) => {
        const leaves = [...issuer.state.leaves];
        leaves[3] = 77n;
        const tree = await buildTree(leaves);
        return { ...a, leaf: '77', root: tree.root.toString(), siblings: tree.path(3).siblings.map(String) };
      }],
      [/root_seq 4 is older than the credential's 5/, async (a) => ({ ...a, root_seq: 4 })],
      [/root_seq 5 names another root/, async (a) => ({ ...a, root_seq: 5 })],
      [/root_seq 6 repeats the root of root_seq 5/, async (a) => ({
        ...a, root: credential.root, siblings: credential.siblings, path_indices: credential.path_indices,
      })],
      [/path from the leaf does not lead to the root/, async (a) => ({ ...a, root: credential.root })],
      [/leaf_index 4 was not asked for/, async (a) => {
        const tree = await buildTree(issuer.state.leaves);
        return { ...a, leaf_index: 4, leaf: issuer.state.leaves[4].toString(), siblings: tree.path(4).siblings.map(String), path_indices: tree.path(4).path_indices };
      }],
      [/siblings must be 20 decimal strings, not 21/, async (a) => ({ ...a, siblings: [...a.siblings, '0'] })],
      [/unknown member "issuer"/, async (a) => ({ ...a, issuer: 'moha' })],
    ];
    for (const [pattern, tamper] of cases) {
      issuer.state.tamperPath = tamper;
      await refusedWith(refreshCredential(credential), 'BAD_ANSWER', pattern);
      assert.match(await credentialStatus(credential), /^unreachable: .*refused/);
    }
    assert.deepEqual(credential, kept);
  } finally {
    await issuer.close();
  }
});

test('a revoked credential: refresh says it was revoked, the status is revoked', async () => {
  const issuer = await startIssuer();
  try {
    const credential = await completeEnrolment(issuer.url, RECORD, GOOD_CODE, await newHolder());
    issuer.revoke(credential.leaf_index);
    await refusedWith(refreshCredential(credential), 'REVOKED', /credential moha #3: the credential was revoked by the issuer/);
    assert.equal(await credentialStatus(credential), 'revoked');
  } finally {
    await issuer.close();
  }
});

test('offer links are read strictly', () => {
  const issuerUrl = 'https://moha.issuer.example:8443/node';
  const good = `proofgate-wallet://enroll?issuer=${encodeURIComponent(issuerUrl)}&record=${RECORD}`;
  assert.deepEqual(parseOffer(good), { issuerUrl, record: RECORD });
  assert.deepEqual(parseOffer(`proofgate-wallet://enroll?record=301234567&issuer=${encodeURIComponent('http://127.0.0.1:9000/')}`),
    { issuerUrl: 'http://127.0.0.1:9000', record: '301234567' });
  const refused = [
    [`https://enroll?issuer=${encodeURIComponent(issuerUrl)}&record=1`, /does not start with proofgate-wallet:\/\/enroll\?/],
    [`proofgate-wallet://offer?issuer=${encodeURIComponent(issuerUrl)}&record=1`, /does not start with/],
    [`proofgate-wallet://enroll/?issuer=${encodeURIComponent(issuerUrl)}&record=1`, /does not start with/],
    [`proofgate-wallet://enroll?issuer=${encodeURIComponent(issuerUrl)}`, /parameter record is missing/],
    [`proofgate-wallet://enroll?record=${RECORD}`, /parameter issuer is missing/],
    [`proofgate-wallet://enroll?issuer=${encodeURIComponent(issuerUrl)}&record=1&x=2`, /unknown parameter "x"/],
    [`proofgate-wallet://enroll?issuer=${encodeURIComponent(issuerUrl)}&record=1&record=2`, /record is given twice/],
    [`proofgate-wallet://enroll?issuer=${encodeURIComponent('ftp://x.example/')}&record=1`, /offer: issuer: .* is not http\(s\)/],
    [`proofgate-wallet://enroll?issuer=${encodeURIComponent('not a url')}&record=1`, /offer: issuer: not a URL/],
    [`proofgate-wallet://enroll?issuer=${encodeURIComponent(issuerUrl)}&record=${encodeURIComponent('../x')}`, /offer: record: "..\/x"/],
    [`proofgate-wallet://enroll?issuer=${encodeURIComponent(issuerUrl)}&record=1#frag`, /fragment/],
    ['proofgate-wallet://enroll?issuer=%E0%A4&record=1', /not valid percent-encoding/],
    ['proofgate-wallet://enroll?issuer&record=1', /"issuer" is not a name=value parameter/],
  ];
  for (const [link, pattern] of refused) {
    assert.throws(() => parseOffer(link), (err) => err.code === 'BAD_ARGUMENT' && pattern.test(err.message), link);
  }
});

test('CLI: enroll, credentials, refresh and a revocation, in a wallet directory', async () => {
  const issuer = await startIssuer();
  const dir = path.join(tempDir(), 'wallet');
  try {
    const start = await wallet(['enroll', '--issuer-url', issuer.url, '--record', RECORD, '--wallet', dir]);
    assert.equal(start.status, 0, start.stderr);
    assert.deepEqual(JSON.parse(start.stdout), { sent_to: '98******12', expires_in: 300 });
    assert.match(start.stderr, /again with --code/);
    assert.ok(!fs.existsSync(dir), 'asking for a code writes nothing');

    const done = await wallet(['enroll', '--issuer-url', issuer.url, '--record', RECORD, '--code', GOOD_CODE, '--wallet', dir]);
    assert.equal(done.status, 0, done.stderr);
    const out = JSON.parse(done.stdout);
    const file = path.join(dir, 'credentials', 'moha-3.json');
    assert.equal(out.credential, file);
    assert.equal(out.holder_created, true);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(dir, 'holder.json')).mode & 0o777, 0o600);
    const holder = JSON.parse(fs.readFileSync(path.join(dir, 'holder.json'), 'utf8'));
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(saved.leaf, (await credentialLeaf(1, 1, holder.commitment, [20011201, 524], kExpiry)).toString());
    assert.ok(issuer.state.requests.every((r) => !r.body.includes(holder.secret)));

    let list = await wallet(['credentials', '--wallet', dir]);
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(lines(list.stdout), [{ file, issuer: 'moha', schema: 'identity', leaf_index: 3, root_seq: 5, status: 'current' }]);

    await issuer.moveRoot();
    list = await wallet(['credentials', '--wallet', dir]);
    assert.equal(lines(list.stdout)[0].status, 'stale');
    list = await wallet(['credentials', '--wallet', dir, '--offline']);
    assert.equal(lines(list.stdout)[0].status, 'unknown');
    // Files that are not credentials are listed as invalid, naming why; the others still get a status.
    const garbage = path.join(dir, 'credentials', 'garbage.json');
    const broken = path.join(dir, 'credentials', 'moha-9.json');
    fs.writeFileSync(garbage, '{"issuer": ');
    fs.writeFileSync(broken, JSON.stringify({ ...saved, issuer_url: 'file:///etc/passwd' }));
    list = await wallet(['credentials', '--wallet', dir]);
    assert.equal(list.status, 0, list.stderr);
    const byFile = Object.fromEntries(lines(list.stdout).map((l) => [l.file, l.status]));
    assert.match(byFile[garbage], /^invalid: credential: .*garbage.json is not JSON/);
    assert.match(byFile[broken], /^invalid: credential.issuer_url: "file:\/\/\/etc\/passwd" is not http\(s\)/);
    assert.equal(byFile[file], 'stale');
    fs.rmSync(garbage);
    fs.rmSync(broken);

    const refreshed = await wallet(['refresh', '--wallet', dir]);
    assert.equal(refreshed.status, 0, refreshed.stderr);
    assert.deepEqual(lines(refreshed.stdout), [{ file, issuer: 'moha', leaf_index: 3, root_seq: 6, updated: true }]);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).root, (await buildTree(issuer.state.leaves)).root.toString());
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    list = await wallet(['credentials', '--wallet', dir]);
    assert.deepEqual(lines(list.stdout).map((l) => [l.root_seq, l.status]), [[6, 'current']]);

    // The same holder enrols again: the existing holder is used, not replaced.
    const second = await wallet(['enroll', '--issuer-url', issuer.url, '--record', RECORD, '--code', GOOD_CODE], { PROOFGATE_WALLET: dir });
    assert.equal(second.status, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).holder_created, false);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'holder.json'), 'utf8')).secret, holder.secret);

    issuer.revoke(3);
    const before = fs.readFileSync(file, 'utf8');
    const again = await wallet(['refresh', '--credential', file]);
    assert.equal(again.status, 2);
    assert.match(lines(again.stdout)[0].error, /revoked/);
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'a refused refresh leaves the file as it was');
    list = await wallet(['credentials'], { PROOFGATE_WALLET: dir });
    assert.equal(lines(list.stdout)[0].status, 'revoked');

  } finally {
    await issuer.close();
  }
});

test('CLI: an offer link enrols; a tampered answer, a wrong code or a bad holder save nothing', async () => {
  const issuer = await startIssuer('nrb');
  const dir = tempDir();
  try {
    const offer = `proofgate-wallet://enroll?issuer=${encodeURIComponent(issuer.url)}&record=${RECORD}`;
    const start = await wallet(['enroll', '--offer', offer, '--wallet', dir]);
    assert.equal(start.status, 0, start.stderr);
    assert.equal(JSON.parse(start.stdout).sent_to, '98******12');

    issuer.state.tamper = (a) => ({ ...a, siblings: a.siblings.slice(0, 19) });
    const tampered = await wallet(['enroll', '--offer', offer, '--code', GOOD_CODE, '--wallet', dir]);
    assert.equal(tampered.status, 2);
    assert.match(tampered.stderr, /siblings must be 20 decimal strings, not 19/);
    assert.deepEqual(fs.readdirSync(dir), ['holder.json'], 'no credential saved');

    issuer.state.tamper = null;
    const wrong = await wallet(['enroll', '--offer', offer, '--code', '000000', '--wallet', dir]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /the code is wrong/);
    assert.ok(!fs.existsSync(path.join(dir, 'credentials')));

    const done = await wallet(['enroll', '--offer', offer, '--code', GOOD_CODE, '--wallet', dir]);
    assert.equal(done.status, 0, done.stderr);
    assert.equal(JSON.parse(done.stdout).credential, path.join(dir, 'credentials', 'nrb-3.json'));

    const both = await wallet(['enroll', '--offer', offer, '--record', RECORD, '--wallet', dir]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /without --issuer-url and --record/);
    const badOffer = await wallet(['enroll', '--offer', 'proofgate-wallet://enroll?record=1', '--wallet', dir]);
    assert.equal(badOffer.status, 2);
    assert.match(badOffer.stderr, /parameter issuer is missing/);

    // A holder file whose commitment is not Poseidon(secret) is refused before anything is sent.
    const other = tempDir();
    fs.writeFileSync(path.join(other, 'holder.json'), JSON.stringify({ version: 1, secret: '5', commitment: '6' }));
    const sent = issuer.state.requests.length;
    const bad = await wallet(['enroll', '--offer', offer, '--code', GOOD_CODE, '--wallet', other]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /the commitment is not Poseidon\(secret\)/);
    assert.equal(issuer.state.requests.length, sent);
    assert.ok(!fs.existsSync(path.join(other, 'credentials')));
  } finally {
    await issuer.close();
  }
});

test('CLI: `init --out DIR/holder.json` makes the wallet directory whose holder enroll then uses', async () => {
  const issuer = await startIssuer('tu');
  const dir = path.join(tempDir(), 'new-wallet');
  try {
    const init = await wallet(['init', '--out', path.join(dir, 'holder.json')]);
    assert.equal(init.status, 0, init.stderr);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    const { commitment } = JSON.parse(init.stdout);
    const done = await wallet(['enroll', '--issuer-url', issuer.url, '--record', RECORD, '--code', GOOD_CODE, '--wallet', dir]);
    assert.equal(done.status, 0, done.stderr);
    assert.equal(JSON.parse(done.stdout).holder_created, false);
    assert.equal(JSON.parse(issuer.state.requests.at(-1).body).holder_commitment, commitment);
  } finally {
    await issuer.close();
  }
});

test('CLI: usage errors name the argument', async () => {
  const unknown = await wallet(['credentials', '--walet', '/tmp/x']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown argument "--walet"/);
  const missing = await wallet(['enroll', '--record', RECORD]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--issuer-url and --record \(or --offer\) are required/);
  const noValue = await wallet(['refresh', '--credential']);
  assert.equal(noValue.status, 2);
  assert.match(noValue.stderr, /--credential needs a value/);
});
