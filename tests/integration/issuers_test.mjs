// The issuers end to end (issue #12, "How it is shown to be right"), with real processes and
// mutual TLS between issuer nodes and sandbox authorities (tests/integration/issuer_stack.mjs):
// enrol -> prove -> verify for every claim type, revocation refused at once with grace 0, a
// hostile feed refused entry by entry, an authority slow / down / answering garbage, kill -9 of a
// node during enrolment, and no personal data in the verifier's database or logs. The MOHA node
// keeps its store on PostgreSQL (a throwaway server, scripts/pg-test-server.sh), the others in
// SQLite: both adapters go through the same enrolment, revocation and restart.
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//          node --test tests/integration/issuers_test.mjs
//
// One stack for all tests (the tests run in order and share it); each proof costs ~3 s.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { rootFromPath } from '../../clients/wallet/src/enroll.mjs';
import { prove } from '../../clients/wallet/src/prove.mjs';
import { metricValue, startIssuerStack, startVerifier, waitFor } from './issuer_stack.mjs';
import { startPostgres } from './cluster.mjs';
import { createClient, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
const kR = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

let dir;
let pg;
let stack;
let partner;
let holder;
const enrolled = { moha: [], tu: [], nrb: [] }; // the records whose data went through a node
const used = new Set(); // record numbers taken by a test (each test gets fresh ones)

/** The first record of `kind` not used yet that satisfies `predicate`. */
function pickRecord(kind, predicate = () => true) {
  const r = stack.authorities[kind].records.find((x) => !used.has(x.record) && predicate(x));
  assert.ok(r, `no unused ${kind} record satisfies the test's predicate`);
  used.add(r.record);
  return r;
}

async function enrol(kind, record) {
  enrolled[kind].push(record);
  return stack.enrol(kind, record.record);
}

async function call(method, url, body, key = partner.api_key) {
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, text, json };
}

/** A request of `claim` (with `params`), a wallet proof on `credential`, and the verify answer. */
async function proveAndVerify(claim, params, credential) {
  const req = await call('POST', `${stack.verifier.url}/api/v1/requests`, { claim_type: claim, ...(params ? { params } : {}) });
  assert.equal(req.status, 201, req.text);
  const body = await prove(artifacts, holder, credential, req.json);
  return call('POST', `${stack.verifier.url}/api/v1/verify`, body);
}

before(async () => {
  assert.ok(bin && artifacts, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set');
  dir = tempDir('issuers');
  pg = startPostgres();
  stack = await startIssuerStack({ bin, dir, records: 60, graceSeconds: 0, databaseUrls: { moha: pg.url } });
  partner = createClient(bin, stack.verifier.dataDir, {
    name: 'Issuers Bank', scopes: ['age_over_18', 'citizenship', 'education', 'income_gte'], domains: ['bank.example'],
  });
});

after(async () => {
  await globalThis.curve_bn128?.terminate();
  if (stack) await stack.stop();
  pg?.stop();
  if (dir && process.env.PROOFGATE_KEEP_TMP === undefined) removeDir(dir);
});

// --- enrol -> prove -> verify ---

const credentials = {};

test('MOHA: enrol through the wallet, then age_over_18 and citizenship verify with issuer, root_seq and root age', async () => {
  // Born in BS 2060 or earlier: at least 19 in AD years.
  const record = pickRecord('moha', (r) => Number(r.date_of_birth_bs.slice(0, 4)) <= 2060);
  const { credential, answer } = await enrol('moha', record);
  assert.equal(answer.issuer, 'moha');
  assert.equal(credential.schema, 'identity');
  assert.equal(credential.attributes.country, 524);
  holder = JSON.parse(fs.readFileSync(answer.holder, 'utf8'));
  credentials.moha = credential;
  await stack.verifier.waitForSeq('moha', credential.root_seq);
  for (const claim of ['age_over_18', 'citizenship']) {
    const r = await proveAndVerify(claim, undefined, credential);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'verified', r.text);
    assert.equal(r.json.issuer, 'moha', r.text);
    assert.ok(r.json.root_seq >= credential.root_seq, r.text);
    assert.ok(Number.isInteger(r.json.root_age_seconds) && r.json.root_age_seconds >= 0, r.text);
  }
});

test('TU: enrol, then education (min_level 4) verifies', async () => {
  const record = pickRecord('tu', (r) => r.degree_level >= 4);
  const { credential } = await enrol('tu', record);
  assert.equal(credential.attributes.degree_level, record.degree_level);
  assert.equal(credential.attributes.graduation_year, record.graduation_year_bs);
  credentials.tu = credential;
  await stack.verifier.waitForSeq('tu', credential.root_seq);
  const r = await proveAndVerify('education', { min_level: 4 }, credential);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'verified', r.text);
  assert.equal(r.json.issuer, 'tu', r.text);
  assert.ok(r.json.root_seq >= credential.root_seq, r.text);
});

test('NRB/IRD: enrol, then income_gte at the latest completed fiscal year verifies', async () => {
  const record = pickRecord('nrb');
  const { credential } = await enrol('nrb', record);
  const latest = record.incomes[record.incomes.length - 1];
  assert.equal(credential.attributes.fiscal_year, latest.fiscal_year_bs);
  assert.equal(credential.attributes.annual_income_npr, latest.annual_income_npr);
  credentials.nrb = credential;
  await stack.verifier.waitForSeq('nrb', credential.root_seq);
  const r = await proveAndVerify('income_gte', { threshold: latest.annual_income_npr, fiscal_year: latest.fiscal_year_bs }, credential);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'verified', r.text);
  assert.equal(r.json.issuer, 'nrb', r.text);
});

// --- revocation ---

test('revoke: with grace 0 the next proof on the old root is STALE_ROOT, and the wallet refresh says revoked', async () => {
  const record = pickRecord('moha', (r) => Number(r.date_of_birth_bs.slice(0, 4)) <= 2060);
  const { file, credential } = await enrol('moha', record);
  await stack.verifier.waitForSeq('moha', credential.root_seq);
  const node = stack.nodes.moha;
  const revoked = await node.admin('POST', `/issuer/v1/admin/credentials/${credential.leaf_index}/revoke`, { reason: 'test: card reported stolen' });
  assert.equal(revoked.status, 200, revoked.text);
  assert.equal(revoked.json.leaf_index, credential.leaf_index);
  assert.ok(revoked.json.root_seq > credential.root_seq, revoked.text);
  await stack.verifier.waitForSeq('moha', revoked.json.root_seq);
  const r = await proveAndVerify('age_over_18', undefined, credential);
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error_code, 'STALE_ROOT', r.text);

  const refresh = await stack.wallet(['refresh', '--credential', file]);
  assert.notEqual(refresh.code, 0, refresh.stdout);
  assert.match(refresh.json?.error ?? '', /revoked/i, refresh.stdout);
  const gone = await fetch(`${node.url}/issuer/v1/credentials/${credential.leaf_index}`);
  assert.equal(gone.status, 410);
  assert.equal((await gone.json()).error_code, 'REVOKED');
});

test('MOHA on PostgreSQL: a second node is refused, a restart keeps root and seq, and the feed goes on verified', async () => {
  const node = stack.nodes.moha;
  const before = await node.stats();
  assert.ok(before.root_seq >= 3, JSON.stringify(before)); // genesis, enrolments, the revocation
  assert.equal(fs.existsSync(path.join(node.dataDir, 'issuer.db')), false, 'no SQLite store beside PostgreSQL');
  const [{ n }] = await pg.sql('SELECT count(*)::int AS n FROM issuer_moha.feed');
  assert.equal(n, before.root_seq);

  // Another node for MOHA on the same database (its own data directory) refuses to start.
  const second = spawnSync(bin, ['issuer', 'serve', '--issuer', 'moha', '--listen', '127.0.0.1:0',
    '--data-dir', path.join(dir, 'node-moha-second'), '--authority-url', `https://localhost:${stack.authorities.moha.port}`,
    '--ca', path.join(stack.pki, 'ca.pem'), '--cert', path.join(stack.pki, 'issuer.pem'),
    '--key', path.join(stack.pki, 'issuer.key'), '--database-url', pg.url], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(second.status, 0, second.stdout);
  assert.match(second.stderr, /another issuer node holds the lock of issuer moha/, second.stderr);

  await node.kill('SIGTERM');
  await node.restart();
  const after = await node.stats();
  assert.equal(after.root, before.root);
  assert.equal(after.root_seq, before.root_seq);
  assert.equal(after.leaf_count, before.leaf_count);

  // The chain goes on from where it was: the verifier checks the new entry's signature and link.
  const { credential } = await enrol('moha', pickRecord('moha'));
  assert.ok(credential.root_seq > before.root_seq, JSON.stringify(credential));
  await stack.verifier.waitForSeq('moha', credential.root_seq);
  const feed = await (await fetch(`${node.url}/issuer/v1/roots?since=0`)).json();
  feed.entries.forEach((e, i) => {
    assert.equal(e.seq, i + 1);
    assert.equal(e.prev_root, i === 0 ? '0' : feed.entries[i - 1].root);
  });
  assert.equal(feed.entries.at(-1).root, credential.root);
});

// --- a hostile feed ---

/** An Ed25519 key as the feed uses it: raw public key (base64url) and key_id. */
function feedKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { privateKey, publicKey: raw.toString('base64url'), keyId: createHash('sha256').update(raw).digest('hex').slice(0, 16) };
}

/** A feed entry signed as docs/issuers.md says (signing text without next_key). */
function signedEntry(key, e) {
  const entry = { issuer_id: 2, key_id: key.keyId, ...e };
  const text = ['proofgate.root-feed.v1', entry.issuer_id, entry.seq, entry.root, entry.prev_root, entry.leaf_count,
    entry.issued_at, entry.key_id, '', '', ''].join('\n');
  entry.signature = sign(null, Buffer.from(text, 'utf8'), key.privateKey).toString('base64url');
  return entry;
}

const randomRoot = () => (BigInt(`0x${randomBytes(32).toString('hex')}`) % kR).toString();

/**
 * A feed server for issuer 2 (tu): GET /issuer/v1/roots answers the entries handed to `publish`
 * once (to the next poll, held until then or until the poll's wait ends).
 */
async function hostileFeed() {
  let pending = null;
  const held = [];
  const answer = (res, entries) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ issuer_id: 2, entries }));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname !== '/issuer/v1/roots') {
      res.writeHead(404).end();
      return;
    }
    if (pending) {
      answer(res, pending);
      pending = null;
      return;
    }
    const wait = Math.min(Number(url.searchParams.get('wait') ?? 0), 30);
    const slot = { res };
    slot.timer = setTimeout(() => {
      held.splice(held.indexOf(slot), 1);
      answer(res, []);
    }, wait * 1000);
    held.push(slot);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    publish(entries) {
      const slot = held.shift();
      if (slot) {
        clearTimeout(slot.timer);
        answer(slot.res, entries);
      } else {
        pending = entries;
      }
    },
    async close() {
      for (const slot of held.splice(0)) {
        clearTimeout(slot.timer);
        answer(slot.res, []);
      }
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let hostileVerifier;

test('a hostile feed: tampered, forked, out-of-order, replayed and foreign-signed entries are refused, counted, logged; the last good root stays', async () => {
  const key = feedKey();
  const stranger = feedKey();
  const feed = await hostileFeed();
  try {
    hostileVerifier = await startVerifier({ bin, dir, name: 'verifier-hostile', feeds: `tu|${feed.url}|${key.publicKey}` });
    const t0 = Date.now();
    const genesis = signedEntry(key, { seq: 1, root: randomRoot(), prev_root: '0', leaf_count: 0, issued_at: t0 });
    const good = signedEntry(key, { seq: 2, root: randomRoot(), prev_root: genesis.root, leaf_count: 1, issued_at: t0 + 1 });
    feed.publish([genesis, good]);
    await hostileVerifier.waitForSeq('tu', 2);

    const next = { seq: 3, root: randomRoot(), prev_root: good.root, leaf_count: 2, issued_at: t0 + 2 };
    const tampered = { ...signedEntry(key, next), root: randomRoot() };
    const forked = signedEntry(key, { ...next, prev_root: randomRoot() });
    const gap = signedEntry(key, { ...next, seq: 4 });
    const replayed = genesis;
    const foreign = signedEntry(stranger, next);
    const cases = [[tampered, 'bad_signature'], [forked, 'fork'], [gap, 'gap'], [replayed, 'replay'], [foreign, 'unknown_key']];
    for (const [entry, reason] of cases) {
      feed.publish([entry]);
      const text = await waitFor(async () => {
        const m = await hostileVerifier.metrics();
        return (metricValue(m, 'proofgate_feed_entries_refused_total', { issuer: 'tu', reason }) ?? 0) >= 1 && m;
      }, `the ${reason} entry to be refused`);
      assert.equal(metricValue(text, 'proofgate_feed_seq', { issuer: 'tu' }), 2, `after the ${reason} entry`);
      const logged = await waitFor(() => hostileVerifier.proc.jsonLines('stderr').find((j) => j.msg === 'feed entry refused' && j.reason === reason),
        `the ${reason} refusal in the verifier's log`);
      assert.equal(logged.level, 'error');
      assert.equal(logged.issuer, 'tu');
    }
    // Still following: the right next entry is accepted after all that.
    feed.publish([signedEntry(key, next)]);
    await hostileVerifier.waitForSeq('tu', 3);
    const m = await hostileVerifier.metrics();
    assert.equal(metricValue(m, 'proofgate_feed_entries_accepted_total', { issuer: 'tu' }), 3);
  } finally {
    if (hostileVerifier) await hostileVerifier.proc.stop();
    await feed.close();
  }
});

// --- the authority slow, down, answering garbage ---

test('authority slow, down, answering garbage: the wallet exits non-zero naming it, and the tree is unchanged', async () => {
  const node = stack.nodes.tu;
  const authority = stack.authorities.tu;
  const before = (await node.stats()).leaf_count;
  // The wallet's words for AUTHORITY_UNAVAILABLE and AUTHORITY_BAD_ANSWER (clients/wallet/src/enroll.mjs).
  const kUnavailable = /the authority behind the issuer is unavailable/;
  const kBadAnswer = /the authority gave the issuer an answer it could not read/;
  const enrollArgs = (record, code) => ['enroll', '--issuer-url', node.url, '--record', record, ...(code ? ['--code', code] : [])];

  // Slow past the node's 3 s deadline while releasing the record (fetch_record is not retried).
  const slow = pickRecord('tu');
  assert.equal((await stack.wallet(enrollArgs(slow.record))).code, 0);
  const slowCode = await authority.code(slow.record);
  await authority.setFault('slow', 5000);
  const r1 = await stack.wallet(enrollArgs(slow.record, slowCode));
  await authority.setFault('none', 0);
  assert.notEqual(r1.code, 0, r1.stdout);
  assert.match(r1.stderr, kUnavailable, r1.stderr);

  // Garbage: 200 with a body that is not the protocol's.
  const garbage = pickRecord('tu');
  assert.equal((await stack.wallet(enrollArgs(garbage.record))).code, 0);
  const garbageCode = await authority.code(garbage.record);
  await authority.setFault('garbage', 0);
  const r2 = await stack.wallet(enrollArgs(garbage.record, garbageCode));
  await authority.setFault('none', 0);
  assert.notEqual(r2.code, 0, r2.stdout);
  assert.match(r2.stderr, kBadAnswer, r2.stderr);

  // Down: the authority's process is gone.
  await authority.proc.stop('SIGKILL');
  const down = pickRecord('tu');
  const r3 = await stack.wallet(enrollArgs(down.record));
  assert.notEqual(r3.code, 0, r3.stdout);
  assert.match(r3.stderr, kUnavailable, r3.stderr);

  const stats = await node.stats();
  assert.equal(stats.leaf_count, before, 'no leaf appended by a failed enrolment');
  assert.ok(stats.authority.failures >= 2, JSON.stringify(stats));

  // Back up: the same node enrols again.
  await authority.restart();
  const { credential } = await enrol('tu', down);
  assert.equal((await node.stats()).leaf_count, before + 1);
  assert.equal(credential.leaf_index, before);
});

// --- kill -9 of an issuer node during enrolment ---

test('kill -9 of an issuer node during enrolment: acknowledged credentials survive, a retry never appends a second leaf', async () => {
  const node = stack.nodes.nrb;
  const authority = stack.authorities.nrb;
  const commitment = holder.commitment;
  const post = async (pathname, body) => {
    const res = await fetch(node.url + pathname, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json().catch(() => undefined) };
  };
  const records = [];
  for (let i = 0; i < 6; ++i) records.push(pickRecord('nrb'));
  const codes = {};
  for (const r of records) {
    const s = await post('/issuer/v1/enrolments', { record: r.record });
    assert.equal(s.status, 202, JSON.stringify(s.json));
    codes[r.record] = await authority.code(r.record);
    enrolled.nrb.push(r);
  }

  // Completions one after the other; the node is killed right after the fourth is sent.
  const acknowledged = new Map(); // record -> credential
  const unacknowledged = [];
  let killed;
  for (const [i, r] of records.entries()) {
    const sending = post('/issuer/v1/enrolments/complete', { record: r.record, code: codes[r.record], holder_commitment: commitment });
    if (i === 3) killed = node.kill('SIGKILL');
    try {
      const res = await sending;
      if (res.status === 201 || res.status === 200) acknowledged.set(r.record, res.json);
      else unacknowledged.push(r);
    } catch {
      unacknowledged.push(r);
    }
  }
  await killed;
  assert.ok(acknowledged.size >= 3, `the first three completions were acknowledged (${acknowledged.size})`);
  assert.ok(unacknowledged.length >= 2, 'the completions sent after the kill were not');
  await node.restart();

  const stats = await node.stats();
  for (const [record, c] of acknowledged) {
    const res = await fetch(`${node.url}/issuer/v1/credentials/${c.leaf_index}`);
    assert.equal(res.status, 200, `acknowledged leaf ${c.leaf_index} after the restart`);
    const p = await res.json();
    assert.equal(p.leaf, c.leaf);
    assert.equal(p.root, stats.root, 'the path leads to the current root');
    assert.equal((await rootFromPath(BigInt(p.leaf), p.siblings.map(BigInt), p.path_indices)).toString(), stats.root);
    // A retry of an acknowledged completion is the same credential, not a new leaf.
    const again = await post('/issuer/v1/enrolments/complete', { record, code: codes[record], holder_commitment: commitment });
    assert.equal(again.status, 200, JSON.stringify(again.json));
    assert.equal(again.json.leaf_index, c.leaf_index);
  }
  const final = new Map(acknowledged);
  for (const r of unacknowledged) {
    let res = await post('/issuer/v1/enrolments/complete', { record: r.record, code: codes[r.record], holder_commitment: commitment });
    if (res.status === 410 && res.json?.error_code === 'CODE_EXPIRED') {
      // Killed after the authority released the record and before the commit: the code is spent
      // and nothing was appended (docs/issuers.md, "Retries"); a fresh code completes it.
      assert.equal((await post('/issuer/v1/enrolments', { record: r.record })).status, 202);
      fs.rmSync(authority.smsFile(r.record), { force: true });
      res = await post('/issuer/v1/enrolments/complete', { record: r.record, code: await authority.code(r.record), holder_commitment: commitment });
    }
    assert.ok(res.status === 201 || res.status === 200, `re-sent completion: ${res.status} ${JSON.stringify(res.json)}`);
    final.set(r.record, res.json);
  }
  // Exactly one leaf per record: distinct leaf indexes, and the node lists exactly the
  // credentials of this test plus the one of the NRB happy path.
  const indexes = new Set([...final.values()].map((c) => c.leaf_index));
  assert.equal(indexes.size, records.length, 'one leaf per record');
  const list = await node.admin('GET', '/issuer/v1/admin/credentials?limit=1000');
  assert.equal(list.status, 200, list.text);
  const listed = list.json.credentials.map((c) => c.leaf_index);
  assert.equal(new Set(listed).size, listed.length, 'no leaf listed twice');
  assert.equal(listed.length, records.length + 1, `credentials listed: ${JSON.stringify(listed)}`);
  for (const i of indexes) assert.ok(listed.includes(i), `leaf ${i} is listed`);
  const after = await node.stats();
  assert.ok(after.leaf_count >= listed.length, 'leaf_count counts the credentials (and padding leaves, if any)');
});

// --- an issuer node stops at once ---

test('SIGTERM of an issuer node whose feed a verifier long-polls: it exits without waiting out the poll', async () => {
  const node = stack.nodes.tu;
  const t0 = Date.now();
  const exit = await node.kill('SIGTERM');
  // The verifier's poll waits up to 25 s; a node that drained it would take that long.
  assert.ok(Date.now() - t0 < 10_000, `stopped after ${Date.now() - t0} ms`);
  assert.equal(exit.code, 0, JSON.stringify(exit));
  await node.restart();
});

// --- privacy ---

test('privacy: no enrolled record number, name, phone or birth date in the verifier database or logs', async () => {
  // Stopped first, so every byte is on disk (the WAL included).
  await stack.verifier.proc.stop();
  const files = [];
  for (const v of [stack.verifier, hostileVerifier].filter(Boolean)) {
    for (const f of fs.readdirSync(v.dataDir)) {
      if (/\.db(-wal)?$/.test(f)) files.push(path.join(v.dataDir, f));
    }
    files.push(v.proc.logFile);
  }
  assert.ok(files.some((f) => f.endsWith('.db')), `the verifier's database is among ${files}`);
  const needles = [];
  for (const [kind, records] of Object.entries(enrolled)) {
    for (const r of records) {
      needles.push([`${kind} record number`, r.record], [`${kind} phone`, r.phone]);
      if (r.name) needles.push(['name', r.name]);
      if (r.date_of_birth_bs) needles.push(['birth date', r.date_of_birth_bs]);
    }
  }
  assert.ok(needles.length >= 20, 'the run enrolled records to look for');
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    for (const [what, value] of needles) {
      assert.equal(bytes.indexOf(Buffer.from(value, 'utf8')), -1, `${path.basename(f)} holds a ${what}`);
    }
  }
});
