// The issuer node's operator console (/issuer/console) in a real browser: headless Chromium
// (playwright-core) against a real `proofgate issuer serve --issuer moha` and its sandbox authority
// over mutual TLS (tests/integration/issuer_stack.mjs), two credentials enrolled through the
// wallet's command line. A wrong admin token is refused with the node's answer and not kept; the
// right one signs in and the overview shows the node's own stats (leaves, root, seq, the adapter's
// breaker and attempts, the signing key); a credential is revoked with a reason through a confirm
// step (an empty reason and a cancelled confirmation change nothing), after which the root and seq
// on the page are the node's new ones and the credential's path answers 410; an offer shows its
// link and QR code; a key rotation with an overlap lists the new key; the audit page (GET
// /issuer/v1/admin/audit) shows the failed sign-in, the revocation with its reason and the
// rotation; the labels switch to Nepali with none missing; the token lives in sessionStorage only
// and is gone after signing out. The page carries the strict CSP and no violation is reported.
//
// Usage: PROOFGATE_BIN=build/release/proofgate node --test tests/browser/issuer_console_browser_test.mjs
// Chromium: /usr/bin/chromium (scripts/install-deps.sh), or PROOFGATE_CHROMIUM. Missing, it fails.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { labels } from '../../clients/issuer-console/src/i18n.js';
import { startIssuerStack } from '../integration/issuer_stack.mjs';
import { removeDir, tempDir } from '../integration/server.mjs';

const bin = process.env.PROOFGATE_BIN;
const chromiumPath = process.env.PROOFGATE_CHROMIUM ?? '/usr/bin/chromium';

let dir;
let stack;
let node;
let browser;
const credentials = [];
const cspViolations = [];

before(async () => {
  assert.ok(bin, 'PROOFGATE_BIN must be set');
  assert.ok(fs.existsSync(chromiumPath), `Chromium is needed at ${chromiumPath}`);
  dir = tempDir('issuer-console');
  const launching = chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  stack = await startIssuerStack({ bin, dir, kinds: ['moha'], records: 4, verifier: false });
  node = stack.nodes.moha;
  for (const r of stack.authorities.moha.records.slice(0, 2)) {
    credentials.push((await stack.enrol('moha', r.record)).credential);
  }
  browser = await launching;
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  if (dir) removeDir(dir);
});

async function newPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));
  return page;
}

const text = async (page, selector) => (await page.textContent(selector)).trim();

test('the issuer console: token sign-in, stats, revocation with a reason and a confirm step, offers, rotation, audit', async () => {
  // The page and its assets, with the browser headers; nothing else under /issuer/console.
  const res = await fetch(`${node.url}/issuer/console`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.doesNotMatch(await res.text(), /<script>|<style>|\son\w+=/i, 'no inline script, style or handler');
  for (const asset of ['app.js', 'app.css']) {
    assert.equal((await fetch(`${node.url}/issuer/console/${asset}`)).status, 200, asset);
  }
  assert.equal((await fetch(`${node.url}/issuer/console/no.such.file`)).status, 404);

  const page = await newPage();
  await page.goto(`${node.url}/issuer/console`);

  // A wrong token: the node's 401 on the page, nothing kept, not signed in.
  await page.fill('#signin input[name=token]', `${node.adminToken}x`);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#signin #error');
  assert.match(await text(page, '#error'), /UNAUTHORIZED/);
  assert.equal(await page.$('#who'), null);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);

  // The right one.
  await page.fill('#signin input[name=token]', node.adminToken);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#stat-root-seq');
  const before = await node.stats();
  assert.equal(before.revoked, 0);
  assert.equal(await text(page, '#stat-leaf-count'), String(before.leaf_count));
  assert.equal(await text(page, '#stat-revoked'), '0');
  assert.equal(await text(page, '#stat-root'), before.root);
  assert.equal(await text(page, '#stat-root-seq'), String(before.root_seq));
  assert.equal(await text(page, '#stat-breaker'), 'closed');
  // Two enrolments: a code sent and a record read each, every call one attempt at least.
  assert.ok(Number(await text(page, '#stat-attempts')) >= 4, 'the adapter attempts are shown');
  assert.equal(await text(page, '#stat-failures'), '0');
  assert.equal(await page.locator('#keys tbody tr').count(), 1);
  assert.equal(await text(page, '#keys tbody tr .valid-until'), 'current');
  // The token is this tab's: sessionStorage, never localStorage or a cookie.
  assert.equal(await page.evaluate(() => sessionStorage.getItem('proofgate.issuer-console.token')), node.adminToken);
  assert.ok(!(await page.evaluate(() => JSON.stringify(localStorage) + document.cookie)).includes(node.adminToken));

  // Revoke the first credential: the reason is required, the confirmation can be cancelled.
  const victim = credentials[0].leaf_index;
  const kept = credentials[1].leaf_index;
  await page.click('#nav-credentials');
  await page.waitForSelector(`#cred-${victim} .status[data-status=active]`);
  await page.waitForSelector(`#cred-${kept} .status[data-status=active]`);
  await page.click(`#cred-${victim} button.revoke`);
  await page.click('#revoke-ask');
  assert.equal(await page.$('#revoke-confirmation'), null, 'no confirmation without a reason');
  await page.fill('#revoke-form textarea[name=reason]', 'certificate reported stolen (ticket 4711)');
  await page.click('#revoke-ask');
  await page.waitForSelector('#revoke-confirmation');
  await page.click('#revoke-cancel');
  assert.equal((await node.stats()).revoked, 0, 'nothing is revoked before the confirmation');
  await page.click('#revoke-ask');
  await page.click('#revoke-confirm');
  await page.waitForSelector('#revoked-result');
  const after1 = await node.stats();
  assert.equal(after1.revoked, 1);
  assert.ok(after1.root_seq > before.root_seq);
  assert.notEqual(after1.root, before.root);
  assert.match(await text(page, '#revoked-result'), new RegExp(`\\b${victim}\\b.*\\b${after1.root_seq}\\b`));
  await page.waitForSelector(`#cred-${victim} .status[data-status=revoked]`);
  assert.equal(await page.$(`#cred-${victim} button.revoke`), null);
  await page.waitForSelector(`#cred-${kept} .status[data-status=active]`);
  assert.equal((await fetch(`${node.url}/issuer/v1/credentials/${victim}`)).status, 410);
  assert.equal((await fetch(`${node.url}/issuer/v1/credentials/${kept}`)).status, 200);

  // The overview shows the new root and seq.
  await page.click('#nav-stats');
  await page.waitForSelector('#stat-root-seq');
  assert.equal(await text(page, '#stat-root-seq'), String(after1.root_seq));
  assert.equal(await text(page, '#stat-root'), after1.root);
  assert.equal(await text(page, '#stat-revoked'), '1');

  // A credential offer: the link and its QR code.
  const offered = stack.authorities.moha.records[2].record;
  await page.click('#nav-offers');
  await page.fill('#offer-form input[name=record]', offered);
  await page.click('#offer-form button[type=submit]');
  await page.waitForSelector('#offer-link');
  const link = await text(page, '#offer-link');
  assert.equal(link, `proofgate-wallet://enroll?issuer=${encodeURIComponent(node.url)}&record=${encodeURIComponent(offered)}`);
  assert.ok(await page.isVisible('#offer-qr'));
  assert.ok((await page.getAttribute('#offer-qr', 'src')).startsWith('data:image/svg+xml'));
  // A record of the wrong shape: the node's refusal, naming the field.
  await page.fill('#offer-form input[name=record]', 'not a record');
  await page.click('#offer-form button[type=submit]');
  await page.waitForSelector('#offer-form #error');
  assert.match(await text(page, '#offer-form #error'), /INVALID_REQUEST/);

  // Key rotation with an overlap, confirmed.
  await page.click('#nav-keys');
  await page.fill('#rotate-form input[name=overlap]', '120');
  await page.click('#rotate-form button[type=submit]');
  await page.click('#rotate-confirm');
  await page.waitForSelector('#rotated');
  await page.waitForFunction(() => document.querySelectorAll('#keys tbody tr').length === 2);
  const keys = await (await fetch(`${node.url}/issuer/v1/keys`)).json();
  assert.equal(keys.keys.length, 2);
  assert.match(await text(page, '#rotated'), new RegExp(keys.keys[1].key_id));
  const overlapMs = keys.keys[0].retired_after - keys.keys[1].created_at;
  assert.ok(Math.abs(overlapMs - 120_000) <= 1000, `the old key stays valid 120 s (${overlapMs} ms)`);
  assert.equal((await node.stats()).root_seq, after1.root_seq + 1, 'the rotation is announced in the feed');

  // The audit trail through the new route: the failed sign-in, the revocation with its reason,
  // the offer, the rotation.
  await page.click('#nav-audit');
  await page.waitForSelector('#audit tr[data-action=rotate_key]');
  const rows = await page.$$eval('#audit tbody tr', (trs) =>
    trs.map((tr) => ({ action: tr.dataset.action, detail: tr.querySelector('.detail').textContent })));
  const actions = rows.map((r) => r.action);
  for (const a of ['unauthorized', 'stats', 'list_credentials', 'revoke', 'offer', 'rotate_key', 'read_audit']) {
    assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
  }
  assert.equal(rows.find((r) => r.action === 'revoke').detail, 'certificate reported stolen (ticket 4711)');
  assert.equal(actions[0], 'read_audit', 'newest first');
  assert.ok(!(await page.content()).includes(offered), 'the audit names an offer by its subject, never the record');

  // The route pages with `before`: a page of 2, then the next one continues below it.
  const p1 = await node.admin('GET', '/issuer/v1/admin/audit?limit=2');
  assert.equal(p1.status, 200, p1.text);
  assert.equal(p1.json.entries.length, 2);
  assert.equal(p1.json.next_before, p1.json.entries[1].id);
  const p2 = await node.admin('GET', `/issuer/v1/admin/audit?limit=2&before=${p1.json.next_before}`);
  assert.ok(p2.json.entries.every((e) => e.id < p1.json.next_before));
  assert.equal((await node.admin('GET', '/issuer/v1/admin/audit?limit=0')).status, 400);
  assert.equal((await fetch(`${node.url}/issuer/v1/admin/audit`)).status, 401);

  // Nepali, with no label missing.
  for (const key of Object.keys(labels.en)) assert.ok(labels.ne[key], `Nepali label for ${key}`);
  await page.click('#lang');
  assert.equal(await text(page, '#nav-credentials'), labels.ne.credentials);
  await page.click('#lang');
  assert.equal(await text(page, '#nav-credentials'), labels.en.credentials);

  // Signing out forgets the token.
  await page.click('#signout');
  await page.waitForSelector('#signin');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.reload();
  await page.waitForSelector('#signin');

  assert.deepEqual(cspViolations, []);
});
