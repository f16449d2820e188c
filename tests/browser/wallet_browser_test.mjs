// The holder wallet in a real browser: headless Chromium (playwright-core) loads the wallet's
// browser bundle (clients/wallet/scripts/bundle.mjs, made here into a temporary directory),
// fetches the age_over_18 artifacts from the real `proofgate serve --demo`, checks the
// manifest's release signature (a release key made here with `proofgate release keygen`, the
// version signed with `proofgate release sign`, serve started with release_public_keys) and
// then the artifacts' SHA-256 against the signed manifest, proves the demo holder's claim for a
// proof request made over HTTP with the demo partner's key, and proofgate verifies the body
// (200 "verified"). A circuit.wasm with one byte changed on the way, and a manifest.json with
// one byte changed (its signature no longer verifies), are refused before any proving.
// The page also enrols from a credential offer link with a stand-in issuer node (docs/issuers.md,
// the holder routes, under /issuer/v1/ of the page's server): the credential is checked in the
// browser and only the holder's commitment leaves the page.
//
// The page comes from a small loopback server that also proxies /artifacts/* and /api/* to
// proofgate, so everything the page fetches is same-origin (proofgate sends no CORS headers);
// under /tampered/ it serves the artifacts with one byte of circuit.wasm flipped, under /forged/
// with the manifest's circuit.zkey digest changed (as a swapped zkey would need).
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//          node --test tests/browser/wallet_browser_test.mjs
// Chromium: /usr/bin/chromium (Debian's, scripts/install-deps.sh), or PROOFGATE_CHROMIUM.
// Missing, it fails the test: it does not skip.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { bundleWallet } from '../../clients/wallet/scripts/bundle.mjs';
import { partnerScope, requestBinding } from '../../clients/wallet/src/protocol.mjs';
import { buildTree, credentialLeaf } from '../../clients/wallet/src/tree.mjs';
import { spawnSync } from 'node:child_process';
import { Server, removeDir, tempDir } from '../integration/server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
const chromiumPath = process.env.PROOFGATE_CHROMIUM ?? '/usr/bin/chromium';
const kTamperPrefix = '/tampered';
const kForgedPrefix = '/forged';

const kPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>proofgate wallet</title></head>
<body><p id="state">loading</p>
<script type="module">
  import * as wallet from '/wallet.mjs';
  globalThis.wallet = wallet;
  document.getElementById('state').textContent = 'ready';
</script></body></html>`;

let proofgate;
let dataDir;
let bundleDir;
let pageServer;
let pageUrl;
let browser;
let signedDir;
const release = {};
const demo = {};
const served = { tamperedWasm: 0, forgedManifests: 0, issuerBodies: [] };

/** Forwards `req` to proofgate (path `upstreamPath`); `rewrite` may change a 200 body. */
function proxy(req, res, upstreamPath, rewrite) {
  const headers = { ...req.headers, host: proofgate.address };
  const up = http.request({ host: '127.0.0.1', port: proofgate.port, method: req.method, path: upstreamPath, headers }, (upRes) => {
    const chunks = [];
    upRes.on('data', (c) => chunks.push(c));
    upRes.on('end', () => {
      let body = Buffer.concat(chunks);
      if (rewrite && upRes.statusCode === 200) body = rewrite(body);
      const out = { ...upRes.headers, 'content-length': String(body.length) };
      delete out['transfer-encoding'];
      res.writeHead(upRes.statusCode, out);
      res.end(body);
    });
  });
  up.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy: ${err.message}`);
  });
  req.pipe(up);
}

/** circuit.wasm with the byte in its middle flipped. */
function flipOneByte(body) {
  const copy = Buffer.from(body);
  copy[copy.length >> 1] ^= 0x01;
  served.tamperedWasm += 1;
  return copy;
}

/** manifest.json with the first hex digit of circuit.zkey's SHA-256 changed. */
function forgeManifest(body) {
  const text = body.toString('utf8');
  const at = text.indexOf('"circuit.zkey"');
  const digit = text.indexOf('"', text.indexOf(':', at)) + 1;
  served.forgedManifests += 1;
  return Buffer.from(text.slice(0, digit) + (text[digit] === '0' ? '1' : '0') + text.slice(digit + 1));
}

/**
 * The age_over_18 build of `artifacts` (links; the manifest copied) in a new directory, signed
 * with a new release key: { dir, publicKey }.
 */
function signedCopy() {
  const dir = tempDir('signed-art');
  const v = path.join(dir, 'age_over_18', '1.0.0');
  fs.mkdirSync(v, { recursive: true });
  const from = path.join(artifacts, 'age_over_18', '1.0.0');
  for (const f of ['circuit.wasm', 'circuit.zkey', 'verification_key.json']) fs.symlinkSync(path.join(from, f), path.join(v, f));
  fs.copyFileSync(path.join(from, 'manifest.json'), path.join(v, 'manifest.json'));
  const keyFile = path.join(dir, 'release.key');  // removed once the version is signed
  const keygen = spawnSync(bin, ['release', 'keygen', '--out', keyFile], { encoding: 'utf8' });
  assert.equal(keygen.status, 0, keygen.stderr);
  const sign = spawnSync(bin, ['release', 'sign', '--key', keyFile, v], { encoding: 'utf8' });
  assert.equal(sign.status, 0, sign.stderr);
  fs.rmSync(keyFile);
  return { dir, publicKey: keygen.stdout.trim() };
}

/**
 * A stand-in MOHA issuer node (docs/issuers.md, the holder routes): a code "sent" for any record,
 * then a credential for the commitment it is given, at leaf 1 of a tree with one filler leaf.
 */
async function standInIssuer(req, res, url) {
  let text = '';
  for await (const chunk of req) text += chunk;
  served.issuerBodies.push(text);
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const attributes = { birth_date: 20011201, country: 524 };
  const expiry = 20361201;
  const credentialPath = async (commitment) => {
    const leaf = await credentialLeaf(1, 1, commitment, [attributes.birth_date, attributes.country], expiry);
    const tree = await buildTree([101n, leaf]);
    return { leaf_index: 1, leaf: leaf.toString(), root: tree.root.toString(), root_seq: 2,
      siblings: tree.path(1).siblings.map(String), path_indices: tree.path(1).path_indices };
  };
  if (req.method === 'POST' && url.pathname === '/issuer/v1/enrolments') {
    return send(202, { sent_to: '98******12', expires_in: 300 });
  }
  if (req.method === 'POST' && url.pathname === '/issuer/v1/enrolments/complete') {
    const body = JSON.parse(text);
    served.commitment = BigInt(body.holder_commitment);
    const where = await credentialPath(served.commitment);
    return send(201, { issuer: 'moha', issuer_id: 1, issuer_url: pageUrl.replace(/\/$/, ''), schema: 'identity',
      schema_id: 1, attributes, expiry, ...where });
  }
  if (req.method === 'GET' && url.pathname === '/issuer/v1/credentials/1' && served.commitment !== undefined) {
    return send(200, await credentialPath(served.commitment));
  }
  return send(404, { error_code: 'NOT_FOUND', detail: url.pathname });
}

function startPageServer(bundlePath) {
  const bundle = fs.readFileSync(bundlePath);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://page');
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(kPage);
    } else if (req.method === 'GET' && url.pathname === '/wallet.mjs') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': bundle.length });
      res.end(bundle);
    } else if (url.pathname.startsWith('/artifacts/') || url.pathname.startsWith('/api/')) {
      proxy(req, res, req.url);
    } else if (url.pathname.startsWith('/issuer/v1/')) {
      standInIssuer(req, res, url).catch((err) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err.message);
      });
    } else if (url.pathname.startsWith(`${kTamperPrefix}/artifacts/`)) {
      const upstream = req.url.slice(kTamperPrefix.length);
      proxy(req, res, upstream, upstream.endsWith('/circuit.wasm') ? flipOneByte : undefined);
    } else if (url.pathname.startsWith(`${kForgedPrefix}/artifacts/`)) {
      const upstream = req.url.slice(kForgedPrefix.length);
      proxy(req, res, upstream, upstream.endsWith('/manifest.json') ? forgeManifest : undefined);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function api(method, pathname, body) {
  const res = await fetch(proofgate.url + pathname, {
    method,
    headers: { authorization: `Bearer ${demo.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

/** A fresh proof request (201) for the demo holder's age_over_18 claim at the demo partner. */
async function newAgeRequest() {
  const r = await api('POST', '/api/v1/requests', { claim_type: 'age_over_18' });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** A new page (own browser context, so nothing cached from another test) with the wallet loaded. */
async function walletPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const log = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  await page.goto(pageUrl);
  await page.waitForFunction(() => globalThis.wallet !== undefined, null, { timeout: 30_000 })
    .catch((err) => assert.fail(`the wallet bundle did not load: ${err.message}\n${log.join('\n')}`));
  return { context, page, log };
}

before(async () => {
  assert.ok(bin && artifacts, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set');
  assert.ok(fs.existsSync(chromiumPath),
    `no Chromium at ${chromiumPath}: install Debian's chromium (scripts/install-deps.sh) or set PROOFGATE_CHROMIUM`);
  dataDir = tempDir('browser');
  const signed = signedCopy();
  signedDir = signed.dir;
  release.publicKey = signed.publicKey;
  proofgate = await Server.start({ bin, artifacts: signedDir, dataDir, args: ['--demo', '--release-public-keys', release.publicKey] });
  assert.match(proofgate.stderr, new RegExp(`release key the wallet trusts: ${release.publicKey}`));
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  demo.key = read('partner.json').api_key;
  demo.holder = read('holder.json');
  demo.identity = read('identity.json');
  bundleDir = tempDir('wallet-bundle');
  const bundlePath = path.join(bundleDir, 'wallet.mjs');
  await bundleWallet(bundlePath);
  pageServer = await startPageServer(bundlePath);
  pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'], headless: true });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (pageServer ? pageServer.close(resolve) : resolve()));
  await proofgate?.stop();
  if (dataDir) removeDir(dataDir);
  if (bundleDir) removeDir(bundleDir);
  if (signedDir) removeDir(signedDir);
});

test('Chromium proves age_over_18 with artifacts from proofgate, and proofgate verifies it', { timeout: 300_000 }, async (t) => {
  const request = await newAgeRequest();
  const { context, page, log } = await walletPage();
  const out = await page.evaluate(async ({ holder, credential, request, releaseKeys }) => {
    const { wallet } = globalThis;
    const t0 = performance.now();
    const artifacts = await wallet.fetchArtifacts('', request.claim_type, request.circuit_version, { releaseKeys });
    const t1 = performance.now();
    const body = await wallet.proveWithArtifacts(artifacts, holder, credential, request);
    const t2 = performance.now();
    return {
      body,
      fetchMs: t1 - t0,
      proveMs: t2 - t1,
      wasmBytes: artifacts.wasm.length,
      zkeyBytes: artifacts.zkey.length,
      releaseKeyId: artifacts.releaseKeyId,
      binding: (await wallet.requestBinding(request)).toString(),
      scope: (await wallet.partnerScope(request.verifier_domain)).toString(),
      secureContext: globalThis.isSecureContext,
      userAgent: navigator.userAgent,
    };
  }, { holder: demo.holder, credential: demo.identity, request, releaseKeys: [release.publicKey] })
    .catch((err) => assert.fail(`${err.message}\n${log.join('\n')}`));
  await context.close();

  t.diagnostic(`${out.userAgent}: artifacts fetched and checked in ${out.fetchMs.toFixed(0)} ms ` +
    `(wasm ${out.wasmBytes} B, zkey ${out.zkeyBytes} B), proved in ${out.proveMs.toFixed(0)} ms`);
  assert.equal(out.secureContext, true);
  assert.match(out.releaseKeyId, /^[0-9a-f]{16}$/, 'the manifest signature was checked');
  // The browser's Poseidon and SHA-256 agree with Node's.
  assert.equal(out.binding, (await requestBinding(request)).toString());
  assert.equal(out.scope, (await partnerScope(request.verifier_domain)).toString());
  assert.deepEqual(Object.keys(out.body).sort(), ['circuit_version', 'claim_type', 'proof', 'public_signals', 'request']);
  assert.equal(out.body.request.nonce, request.nonce);

  const r = await api('POST', '/api/v1/verify', out.body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'verified', r.text);
  assert.equal(r.json.claim_type, 'age_over_18');
  assert.match(r.json.nullifier, /^[1-9][0-9]*$/);
  assert.equal(r.json.nullifier, out.body.public_signals[0]);
});

test('Chromium refuses a circuit.wasm with one byte changed, before proving', { timeout: 120_000 }, async () => {
  const request = await newAgeRequest();
  const { context, page, log } = await walletPage();
  const before = served.tamperedWasm;
  const out = await page.evaluate(async ({ holder, credential, request, prefix, releaseKeys }) => {
    try {
      const body = await globalThis.wallet.answerRequest(prefix, holder, credential, request, { releaseKeys });
      return { proved: true, body };
    } catch (err) {
      return { proved: false, name: err.name, code: err.code, file: err.file, message: err.message };
    }
  }, { holder: demo.holder, credential: demo.identity, request, prefix: kTamperPrefix, releaseKeys: [release.publicKey] })
    .catch((err) => assert.fail(`${err.message}\n${log.join('\n')}`));
  await context.close();

  assert.equal(served.tamperedWasm, before + 1, 'the proxy must have served the tampered circuit.wasm');
  assert.equal(out.proved, false, 'a proof was made with a tampered circuit.wasm');
  assert.equal(out.name, 'ArtifactError', out.message);
  assert.equal(out.code, 'sha256_mismatch', out.message);
  assert.equal(out.file, 'circuit.wasm', out.message);
  assert.match(out.message, /circuit\.wasm digest differs from the signed manifest of age_over_18 1\.0\.0 \(SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}\); refusing to prove with it/);
});

test('Chromium refuses a manifest changed after signing, before fetching the artifacts', { timeout: 120_000 }, async () => {
  const request = await newAgeRequest();
  const { context, page, log } = await walletPage();
  const before = served.forgedManifests;
  const out = await page.evaluate(async ({ holder, credential, request, prefix, releaseKeys }) => {
    try {
      const body = await globalThis.wallet.answerRequest(prefix, holder, credential, request, { releaseKeys });
      return { proved: true, body };
    } catch (err) {
      return { proved: false, name: err.name, code: err.code, file: err.file, message: err.message };
    }
  }, { holder: demo.holder, credential: demo.identity, request, prefix: kForgedPrefix, releaseKeys: [release.publicKey] })
    .catch((err) => assert.fail(`${err.message}\n${log.join('\n')}`));
  await context.close();

  assert.equal(served.forgedManifests, before + 1, 'the proxy must have served the changed manifest.json');
  assert.equal(out.proved, false, 'a proof was made with a manifest whose signature does not verify');
  assert.equal(out.name, 'ArtifactError', out.message);
  assert.equal(out.code, 'bad_signature', out.message);
  assert.equal(out.file, 'manifest.sig', out.message);
  assert.match(out.message, /^age_over_18 1\.0\.0: manifest signature does not verify under release key [0-9a-f]{16}; refusing to prove with it$/);
});

test('Chromium enrols from an offer link: the credential is checked in the page, the secret stays there', { timeout: 120_000 }, async () => {
  const { context, page, log } = await walletPage();
  const out = await page.evaluate(async () => {
    const { wallet } = globalThis;
    const link = `proofgate-wallet://enroll?issuer=${encodeURIComponent(location.origin)}&record=27-01-74-05123`;
    const offer = wallet.parseOffer(link);
    const sent = await wallet.startEnrolment(offer.issuerUrl, offer.record);
    const holder = await wallet.newHolder();
    const credential = await wallet.completeEnrolment(offer.issuerUrl, offer.record, '123456', holder);
    const status = await wallet.credentialStatus(credential);
    let refused;
    try {
      wallet.parseOffer('proofgate-wallet://enroll?record=27-01-74-05123');
    } catch (err) {
      refused = `${err.name} ${err.code}: ${err.message}`;
    }
    return { offer, sent, holder, credential, status, refused, origin: location.origin };
  }).catch((err) => assert.fail(`${err.message}\n${log.join('\n')}`));
  await context.close();

  assert.deepEqual(out.offer, { issuerUrl: out.origin, record: '27-01-74-05123' });
  assert.deepEqual(out.sent, { sent_to: '98******12', expires_in: 300 });
  // The browser's Poseidon recomputed the leaf and walked the path; Node agrees.
  const leaf = await credentialLeaf(1, 1, out.holder.commitment, [20011201, 524], 20361201);
  assert.equal(out.credential.leaf, leaf.toString());
  assert.equal(out.credential.root, (await buildTree([101n, leaf])).root.toString());
  assert.equal(out.status, 'current');
  assert.match(out.refused, /^EnrolmentError BAD_ARGUMENT: offer: parameter issuer is missing/);
  assert.ok(served.issuerBodies.length >= 2);
  for (const body of served.issuerBodies) assert.ok(!body.includes(out.holder.secret), 'the secret left the page');
});
