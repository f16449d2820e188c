// The operators' console (/console) in a real browser: headless Chromium (playwright-core) against
// the real `proofgate serve --demo`. Two admins are made with `proofgate admin create-admin`; each
// opens their one-time enrolment link, sets a password and reads the TOTP secret off the page, and
// the test computes the codes (RFC 6238, its own HMAC here). The approver signs in with a code,
// creates a partner and sees its API key once (gone after a reload), the test runs a wallet
// verification with that key, the approver sees it in the usage chart, sees the webhook
// delivery it caused with its attempts and replays it, suspends the partner and asks to resume it,
// which a second approver approves on the Approvals page; the audit page shows it all; the viewer
// is refused creating a partner with the API's answer shown. Every page carries the strict CSP and no CSP violation is reported;
// the labels switch to Nepali.
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//          node --test tests/browser/console_browser_test.mjs
// Chromium: /usr/bin/chromium (scripts/install-deps.sh), or PROOFGATE_CHROMIUM. Missing, it fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { prove } from '../../clients/wallet/src/prove.mjs';
import { Server, liveCredential, removeDir, tempDir } from '../integration/server.mjs';
import { currentStep, totpAt } from '../support/totp.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
const chromiumPath = process.env.PROOFGATE_CHROMIUM ?? '/usr/bin/chromium';

let dataDir;
let server;
let browser;
let receiver;
const hooks = [];
const cspViolations = [];

/** Codes are single use per step: each account's next code is for a step after its last one. */
const lastStep = new Map();
function nextCode(secret) {
  const now = currentStep();
  const step = Math.max(now, (lastStep.get(secret) ?? -1) + 1);
  assert.ok(step <= now + 1, 'more than one code needed within one 30 s step');
  lastStep.set(secret, step);
  return totpAt(secret, step);
}

function createAdmin(email, role) {
  const r = spawnSync(bin, ['admin', 'create-admin', '--email', email, '--role', role, '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const link = JSON.parse(r.stdout).enrolment_link;
  assert.match(link, /^https?:\/\/[^/]+\/console\/enrol#token=pge_/);
  // The link names the configured public URL; the page is opened on this test's server.
  const u = new URL(link);
  return `${server.url}${u.pathname}${u.hash}`;
}

async function newPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));
  return page;
}

/** Opens the enrolment link, sets the password, confirms a TOTP code: the TOTP secret. */
async function enrol(page, link, password) {
  await page.goto(link);
  await page.fill('#enrol input[name=password]', password);
  await page.click('#enrol button[type=submit]');
  const secret = (await page.textContent('#totp-secret', { timeout: 30_000 })).trim();
  assert.match(secret, /^[A-Z2-7]{16,}=*$/);
  assert.ok(await page.isVisible('#totp-qr'), 'the TOTP secret is shown as a QR code too');
  await page.fill('#enrol input[name=code]', nextCode(secret));
  await page.click('#enrol button[type=submit]');
  await page.waitForSelector('#enrolled');
  return secret;
}

async function signIn(page, email, password, secret) {
  await page.goto(`${server.url}/console`);
  await page.fill('#signin input[name=email]', email);
  await page.fill('#signin input[name=password]', password);
  await page.fill('#signin input[name=code]', nextCode(secret));
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#who');
}

before(async () => {
  assert.ok(bin && artifacts, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set');
  assert.ok(fs.existsSync(chromiumPath), `Chromium is needed at ${chromiumPath}`);
  dataDir = tempDir('console');
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      hooks.push({ type: JSON.parse(body).event, id: req.headers['webhook-id'] });
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  server = await Server.start({
    bin, artifacts, dataDir,
    args: ['--demo', '--rate-limit', '0', '--webhook-allow-loopback',
      // The usage report's small-count threshold (k) down to 1, so one verification shows.
      '--usage-min-count', '1'],
  });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  receiver?.close();
  removeDir(dataDir);
  // snarkjs's worker threads (the wallet's prove) would keep this process alive.
  await globalThis.curve_bn128?.terminate();
});

test('the console: enrol, sign in with TOTP, create a partner, usage, deliveries and replay; a viewer is refused', async () => {
  const approverLink = createAdmin('ana@ops.example', 'approver');
  const viewerLink = createAdmin('vik@ops.example', 'viewer');
  const password = 'correct horse battery staple';

  // The page and its assets carry the browser headers.
  const res = await fetch(`${server.url}/console`);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.match(res.headers.get('strict-transport-security'), /max-age=\d+/);
  assert.equal((await fetch(`${server.url}/console/no.such.file`)).status, 404);

  const page = await newPage();
  const secret = await enrol(page, approverLink, password);
  await signIn(page, 'ana@ops.example', password, secret);
  assert.match(await page.textContent('#who'), /approver/);

  // A partner, its key shown once.
  await page.click('#nav-partners');
  await page.fill('#create-partner input[name=name]', 'Console Bank');
  await page.check('#create-partner input[name=scope-age_over_18]');
  await page.fill('#create-partner input[name=domains]', 'console-bank.example');
  await page.fill('#create-partner input[name=webhook_url]', `http://127.0.0.1:${receiver.address().port}/hook`);
  await page.click('#create-partner button[type=submit]');
  const apiKey = (await page.textContent('#new-api-key')).trim();
  assert.match(apiKey, /^pg_live_/);
  assert.match((await page.textContent('#new-test-api-key')).trim(), /^pg_test_/);
  assert.match((await page.textContent('#new-client-secret')).trim(), /^pgs_/);
  await page.waitForSelector('#partners-table tr:has-text("Console Bank")');
  await page.reload();
  await page.waitForSelector('#partners-table tr:has-text("Console Bank")');
  assert.equal(await page.$('#new-api-key'), null, 'the key is shown once only');
  assert.ok(!(await page.content()).includes(apiKey));

  // A verification with that key.
  const reqRes = await fetch(`${server.url}/api/v1/requests`, {
    method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ claim_type: 'age_over_18', verifier_domain: 'console-bank.example' }),
  });
  assert.equal(reqRes.status, 201, await reqRes.clone().text());
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  // The demo's roots are sandbox roots and this is a live key (a live verification is what usage
  // counts): the demo holder's identity credential in a live tree of the test's own (its leaf
  // alone), whose root the operator publishes live.
  const holder = read('holder.json');
  const identity = read('identity.json');
  const live = await liveCredential(holder, identity);
  const published = spawnSync(bin, ['admin', 'publish-root', '--issuer-id', '1', '--root', live.root,
    '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(published.status, 0, published.stderr);
  const body = await prove(artifacts, holder, live, await reqRes.json());
  const verified = await fetch(`${server.url}/api/v1/verify`, {
    method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(verified.status, 200, await verified.clone().text());

  // In the usage chart (by hour: this hour's bucket holds it).
  await page.click('#nav-usage');
  await page.selectOption('#granularity', 'hour');
  await page.waitForSelector('#usage-chart canvas');
  await page.waitForFunction(() => Number(document.querySelector('#usage-chart')?.dataset.verified) >= 1);

  // Its webhook delivery, with attempts, replayed.
  await page.click('#nav-deliveries');
  const row = '#deliveries-table tr:has-text("proof.verified")';
  for (;;) {
    await page.waitForSelector(row);
    if ((await page.textContent(`${row} .status`)).trim() === 'delivered') break;
    await page.click('#page-deliveries > button');  // refresh until the worker delivered it
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.click(`${row} .show`);
  await page.waitForSelector('#delivery-detail li');
  const before = hooks.filter((h) => h.type === 'proof.verified').length;
  assert.equal(before, 1, 'the first delivery reached the receiver');
  await page.click(`${row} .replay`);
  await page.waitForFunction(() => document.querySelectorAll('#delivery-detail li').length >= 1);
  for (let i = 0; hooks.filter((h) => h.type === 'proof.verified').length === before; i++) {
    assert.ok(i < 600, 'the replayed delivery never arrived');
    await new Promise((r) => setTimeout(r, 50));
  }

  // Suspend at once; resuming waits for a second approver (two-person rule), who approves it on
  // the Approvals page, where the requester has no Approve button for her own request.
  const partnerRow = '#partners-table tr:has-text("Console Bank")';
  await page.click('#nav-partners');
  await page.click(`${partnerRow} button.suspend`);
  await page.waitForSelector(`${partnerRow} button.resume`);
  await page.click(`${partnerRow} button.resume`);
  assert.match(await page.textContent('#notice'), /client\.resume/);
  await page.click('#nav-approvals');
  const pendingRow = '#approvals-table tr:has-text("client.resume")';
  await page.waitForSelector(pendingRow);
  assert.equal(await page.$(`${pendingRow} button.approve`), null, 'no Approve button on your own request');
  const second = await newPage();
  const secondSecret = await enrol(second, createAdmin('bo@ops.example', 'approver'), password);
  await signIn(second, 'bo@ops.example', password, secondSecret);
  await second.click('#nav-approvals');
  await second.click(`${pendingRow} button.approve`);
  await second.waitForSelector(`${pendingRow} td.state:has-text("approved")`);
  await page.click('#nav-partners');
  await page.waitForSelector(`${partnerRow} button.suspend`);  // active again

  // The audit trail: the partner's creation, the suspension and the approved resume, in order.
  await page.click('#nav-audit');
  await page.waitForSelector('#audit-table td.action:has-text("client.resumed")');
  const actions = await page.$$eval('#audit-table td.action', (tds) => tds.map((td) => td.textContent));
  for (const a of ['client.created', 'client.suspended', 'approval.approved', 'client.resumed']) {
    assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
  }

  // Nepali labels.
  await page.click('#lang');
  assert.equal((await page.textContent('#nav-partners')).trim(), 'साझेदारहरू');
  await page.click('#lang');

  // A viewer may look but not create.
  const viewer = await newPage();
  const viewerSecret = await enrol(viewer, viewerLink, password);
  await signIn(viewer, 'vik@ops.example', password, viewerSecret);
  await viewer.waitForSelector('#partners-table tr:has-text("Console Bank")');
  await viewer.fill('#create-partner input[name=name]', 'Not Allowed');
  await viewer.check('#create-partner input[name=scope-age_over_18]');
  await viewer.fill('#create-partner input[name=domains]', 'not-allowed.example');
  await viewer.click('#create-partner button[type=submit]');
  await viewer.waitForSelector('#error');
  assert.match(await viewer.textContent('#error'), /does not allow/);

  assert.deepEqual(cspViolations, []);
});
