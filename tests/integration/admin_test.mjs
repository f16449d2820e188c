// The admin use cases through the real binary: a leaked API key revoked with `proofgate admin
// revoke-key` (the server keeps running on the same data directory) and with
// POST /api/admin/clients/{client_id}/revoke-key, each works before and gets 401 UNAUTHORIZED from
// the very next request after; both audited without the key. And a verifier domain belongs to one
// partner: `admin create-client` refuses one another partner holds, naming it. And the audit chain:
// the audit export (asked for over HTTP, approved by a second admin, downloaded by the requester
// only with the approval's id) gives JSON lines that verify with `proofgate admin audit verify`, which names
// a removed line. And GET /api/admin/usage over proof rows: JSON and CSV, counts below k as "<k".
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//        node --test tests/integration/admin_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { Server, admin, createClient, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !artifacts) throw new Error('set PROOFGATE_BIN and PROOFGATE_ARTIFACTS');

let dataDir;
let server;
let adminToken;

before(async () => {
  dataDir = tempDir('admin');
  const r = spawnSync(bin, ['admin', 'new-admin-token'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const token = JSON.parse(r.stdout);
  adminToken = token.admin_token;
  server = await Server.start({
    bin, artifacts, dataDir, args: ['--rate-limit', '0', '--admin-token-sha256', token.admin_token_sha256, '--admin-token-role', 'approver'],
  });
});

after(async () => {
  if (server) await server.stop();
  removeDir(dataDir);
});

/** POST /api/v1/requests with `apiKey`: {status, json}. */
async function createRequest(apiKey) {
  const res = await fetch(`${server.url}/api/v1/requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ claim_type: 'age_over_18' }),
  });
  return { status: res.status, json: await res.json() };
}

async function adminPost(path, token = adminToken) {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, json: await res.json() };
}

function auditEntries() {
  const r = spawnSync(bin, ['admin', 'audit', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { text: r.stdout, entries: r.stdout.split('\n').filter((l) => l).map((l) => JSON.parse(l)) };
}

test('admin revoke-key: the key works before and the very next request after gets 401', async () => {
  const partner = createClient(bin, dataDir, { name: 'Leaky CLI', scopes: ['age_over_18'], domains: ['leaky-cli.example'] });
  assert.equal((await createRequest(partner.api_key)).status, 201);

  const revoked = admin(bin, dataDir, ['revoke-key', '--client-id', partner.client_id]);
  assert.equal(revoked.client_id, partner.client_id);
  assert.equal(revoked.already_revoked, false);

  const refused = await createRequest(partner.api_key);
  assert.equal(refused.status, 401);
  assert.equal(refused.json.error_code, 'UNAUTHORIZED');

  const again = admin(bin, dataDir, ['revoke-key', '--client-id', partner.client_id]);
  assert.equal(again.already_revoked, true);
  const unknown = spawnSync(bin, ['admin', 'revoke-key', '--client-id', 'no-such-partner', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /--client-id: no partner with this id/);

  const listed = admin(bin, dataDir, ['list-clients']).find((c) => c.client_id === partner.client_id);
  assert.ok(listed.revoked_at, JSON.stringify(listed));

  const { text, entries } = auditEntries();
  const revocations = entries.filter((e) => e.action === 'client.key_revoked' && e.details.client_id === partner.client_id);
  assert.equal(revocations.length, 1);
  assert.equal(revocations[0].actor_type, 'admin_cli');
  assert.ok(!text.includes(partner.api_key) && !text.includes(partner.key_prefix), 'the audit never holds the key');
});

test('POST /api/admin/clients/{client_id}/revoke-key: the key works before and gets 401 right after', async () => {
  const partner = createClient(bin, dataDir, { name: 'Leaky API', scopes: ['age_over_18'], domains: ['leaky-api.example'] });
  assert.equal((await createRequest(partner.api_key)).status, 201);

  const denied = await adminPost(`/api/admin/clients/${partner.client_id}/revoke-key`, 'pga_not-the-token');
  assert.equal(denied.status, 401);
  assert.equal((await createRequest(partner.api_key)).status, 201, 'a refused admin call revokes nothing');

  const revoked = await adminPost(`/api/admin/clients/${partner.client_id}/revoke-key`);
  assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
  assert.deepEqual({ ...revoked.json, revoked_at: typeof revoked.json.revoked_at },
    { client_id: partner.client_id, revoked: true, already_revoked: false, revoked_at: 'string' });

  const refused = await createRequest(partner.api_key);
  assert.equal(refused.status, 401);
  assert.equal(refused.json.error_code, 'UNAUTHORIZED');

  const again = await adminPost(`/api/admin/clients/${partner.client_id}/revoke-key`);
  assert.equal(again.status, 200);
  assert.equal(again.json.already_revoked, true);
  const unknown = await adminPost('/api/admin/clients/00000000-0000-4000-8000-000000000000/revoke-key');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error_code, 'NOT_FOUND');

  const { text, entries } = auditEntries();
  const revocations = entries.filter((e) => e.action === 'client.key_revoked' && e.details.client_id === partner.client_id);
  assert.equal(revocations.length, 1);
  assert.equal(revocations[0].actor_type, 'admin_api');
  assert.match(revocations[0].actor_id, /^token:[0-9a-f]{12}$/);
  assert.ok(!text.includes(partner.api_key) && !text.includes(partner.key_prefix), 'the audit never holds the key');
});

test('admin create-client refuses a verifier domain another partner holds, naming it', async () => {
  const first = createClient(bin, dataDir, { name: 'First', scopes: ['age_over_18'], domains: ['first.example', 'shared.example'] });
  const r = spawnSync(bin, ['admin', 'create-client', '--name', 'Second', '--scopes', 'age_over_18',
    '--domains', 'second.example,shared.example', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /--domains: the verifier domain 'shared.example' belongs to another partner/);
  assert.doesNotMatch(r.stderr, /INTERNAL|sqlite|constraint/i);
  const names = admin(bin, dataDir, ['list-clients']).map((c) => c.name);
  assert.ok(names.includes('First') && !names.includes('Second'), names.join(','));
  // The refused partner kept nothing: its other domain is free for someone else.
  createClient(bin, dataDir, { name: 'Third', scopes: ['age_over_18'], domains: ['second.example'] });
  // The first partner's key is untouched.
  assert.equal((await createRequest(first.api_key)).status, 201);
});

test('an approved audit export streams the chain as JSON lines that admin audit verify accepts', async () => {
  createClient(bin, dataDir, { name: 'Audited', scopes: ['age_over_18'], domains: ['audited.example'] });
  createClient(bin, dataDir, { name: 'Audited 2', scopes: ['age_over_18'], domains: ['audited2.example'] });
  createClient(bin, dataDir, { name: 'Audited 3', scopes: ['age_over_18'], domains: ['audited3.example'] });
  const download = async (query, token = adminToken) => {
    const res = await fetch(`${server.url}/api/admin/audit/export${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const ask = (body, token = adminToken) => fetch(`${server.url}/api/admin/audit/exports`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  }).then(async (res) => ({ status: res.status, json: await res.json() }));
  // The two-person rule: the token asks, a CLI admin approves, the token downloads.
  const exportVia = async (from, to) => {
    const asked = await ask({ from, to });
    assert.equal(asked.status, 202, JSON.stringify(asked.json));
    assert.equal(admin(bin, dataDir, ['approve', asked.json.id]).state, 'approved');
    return download(`?approval=${asked.json.id}`);
  };

  // Without an approved approval: 403 naming the need for one; the requester cannot approve.
  for (const query of ['', `?approval=${crypto.randomUUID()}`]) {
    const refused = await download(query);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(JSON.parse(refused.text).field, 'approval');
    assert.match(refused.text, /needs an approved audit.export approval/);
  }
  const waiting = await ask({ from: 0, to: '2100-01-01T00:00:00Z' });
  assert.equal(waiting.status, 202, JSON.stringify(waiting.json));
  assert.deepEqual([waiting.json.kind, waiting.json.params], ['audit.export', { from: 0, to: 4102444800000 }]);
  const early = await download(`?approval=${waiting.json.id}`);
  assert.equal(early.status, 403, early.text);
  assert.match(early.text, /it is pending; a second admin must approve it/);
  const self = await adminPost(`/api/admin/approvals/${waiting.json.id}/approve`);
  assert.equal(self.status, 409);
  assert.equal(admin(bin, dataDir, ['cancel-approval', waiting.json.id]).state, 'cancelled');

  const all = await exportVia(0, 8_640_000_000_000_000);
  assert.equal(all.status, 200, all.text);
  assert.match(all.type, /^application\/x-ndjson/);
  const lines = all.text.split('\n').filter((l) => l);
  assert.ok(lines.length >= 3, all.text);
  const entries = lines.map((l) => JSON.parse(l));
  entries.forEach((e, i) => {
    assert.equal(e.seq, i + 1);
    assert.match(e.hash, /^[0-9a-f]{64}$/);
    assert.equal(e.prev_hash, i === 0 ? '0'.repeat(64) : entries[i - 1].hash);
  });
  // The CLI's export is the same chain, line for line.
  assert.equal(auditEntries().text, all.text);

  const file = join(dataDir, 'audit-export.jsonl');
  writeFileSync(file, all.text);
  const head = entries.at(-1).hash;
  const ok = spawnSync(bin, ['admin', 'audit', 'verify', file, '--anchor', '0'.repeat(64), '--head', head], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), `${lines.length} entries, chain intact from seq 1 to ${lines.length}, head ${head}`);

  // A middle line removed: exit 1 naming the line after the gap.
  const tampered = lines.filter((_, i) => i !== 1).join('\n') + '\n';
  const broken = spawnSync(bin, ['admin', 'audit', 'verify', '-'], { input: tampered, encoding: 'utf8' });
  assert.equal(broken.status, 1, broken.stdout);
  assert.match(broken.stderr, /chain broken at line 2 \(seq 3\): removed: seq 2 missing/);
  // A head that is not the export's last hash: exit 1, truncated. Not an export at all: exit 2.
  const truncated = spawnSync(bin, ['admin', 'audit', 'verify', file, '--head', entries[0].hash], { encoding: 'utf8' });
  assert.equal(truncated.status, 1, truncated.stdout);
  assert.match(truncated.stderr, /truncated/);
  const garbage = spawnSync(bin, ['admin', 'audit', 'verify', '-'], { input: 'not json\n', encoding: 'utf8' });
  assert.equal(garbage.status, 2);
  assert.match(garbage.stderr, /line 1 is not an audit export entry/);

  // A time range (RFC 3339 and Unix ms alike) is a contiguous part that verifies on its anchor.
  const from = entries[1].at_ms;
  const part = await exportVia(from, new Date(entries[2].at_ms + 1).toISOString());
  assert.equal(part.status, 200, part.text);
  const partEntries = part.text.split('\n').filter((l) => l).map((l) => JSON.parse(l));
  assert.ok(partEntries.length >= 1 && partEntries[0].seq >= 2, part.text);
  const partCheck = spawnSync(bin, ['admin', 'audit', 'verify', '-', '--anchor', entries[partEntries[0].seq - 2].hash], { input: part.text, encoding: 'utf8' });
  assert.equal(partCheck.status, 0, partCheck.stderr);

  // The download may be repeated until the action expires, each one audited.
  const again = await download(`?approval=${JSON.parse(all.text.split('\n').filter((l) => l).at(-1)).details.approval_id}`);
  assert.equal(again.status, 200, again.text);
  assert.ok(auditEntries().entries.filter((e) => e.action === 'audit.exported').length >= 3);

  const bad = await ask({ from: 'yesterday', to: 0 });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error_code, 'INVALID_REQUEST');
  assert.equal(bad.json.field, 'from');
  const backwards = await ask({ from: 2000, to: 1000 });
  assert.equal(backwards.status, 400);
  assert.equal(backwards.json.field, 'to');
  assert.equal((await ask({ from: 0, to: 1 }, 'pga_wrong')).status, 401);
  assert.equal((await download('', 'pga_wrong')).status, 401);
});

test('GET /api/admin/audit: the latest entries newest first, with the chain; not an export', async () => {
  createClient(bin, dataDir, { name: 'Latest', scopes: ['age_over_18'], domains: ['latest.example'] });
  const get = async (query) => {
    const res = await fetch(`${server.url}/api/admin/audit${query}`, { headers: { authorization: `Bearer ${adminToken}` } });
    return { status: res.status, json: await res.json() };
  };
  const { entries: trail } = auditEntries();
  const latest = await get('?limit=2');
  assert.equal(latest.status, 200, JSON.stringify(latest.json));
  assert.deepEqual(latest.json.entries, trail.slice(-2).reverse(), 'the export lines, newest first');
  assert.equal(latest.json.entries[0].prev_hash, latest.json.entries[1].hash);
  assert.equal(latest.json.entries[0].action, 'client.created');
  const byDefault = await get('');
  assert.equal(byDefault.json.entries.length, Math.min(50, trail.length));
  for (const bad of ['0', '201', 'x', '-1']) {
    const r = await get(`?limit=${bad}`);
    assert.equal(r.status, 400, bad);
    assert.equal(r.json.field, 'limit');
  }
});

/** Runs `sql` on the server's SQLite database (the server keeps running: WAL). */
function sqlite(sql) {
  const r = spawnSync('python3', ['-c', 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.close()',
    join(dataDir, 'proofgate.db'), sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('GET /api/admin/usage: counts, p50/p95 and suppression below k, as JSON and as CSV', async () => {
  const partner = createClient(bin, dataDir, { name: 'Usage', scopes: ['age_over_18'], domains: ['usage.example'] });
  const day = Date.UTC(2026, 10, 3); // 2026-11-03
  const rows = [];
  const add = (status, error, latency, at) => {
    const n = rows.length;
    rows.push(`('usage-proof-${n}', '${partner.client_id}', 'age_over_18', '1.0.0', '${status}', ${error ? `'${error}'` : 'NULL'}, '${'a'.repeat(64)}', 'usage-nonce-${n}', ${at}, ${status === 'verified' ? at : 'NULL'}, ${latency})`);
  };
  for (let ms = 1; ms <= 6; ms++) add('verified', null, ms, day + 3600_000 + ms); // 01:00
  add('failed', 'INVALID_PROOF', 40, day + 3600_000);
  add('failed', 'INVALID_PROOF', 50, day + 7200_000); // 02:00
  add('verified', null, 9, day + 86_400_000 + 5); // the next day
  // The partner's test twin verified as much that day: test-mode proofs never count.
  const live = rows.length;
  for (let ms = 1; ms <= 7; ms++) add('verified', null, 100 + ms, day + 3600_000 + ms);
  for (let n = live; n < rows.length; n++) rows[n] = rows[n].replace(`'${partner.client_id}'`, `'${partner.test_client_id}'`);
  sqlite(`INSERT INTO proofs (id, verifier_id, claim_type, circuit_version, status, error_code, public_hash, request_nonce, created_at, verified_at, latency_ms) VALUES ${rows.join(',')};`);

  const get = async (query, headers = {}) => {
    const res = await fetch(`${server.url}/api/admin/usage?${query}`, { headers: { authorization: `Bearer ${adminToken}`, ...headers } });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const range = `from=${new Date(day).toISOString()}&to=${day + 2 * 86_400_000}&verifier_id=${partner.client_id}`;
  const byDay = await get(range);
  assert.equal(byDay.status, 200, byDay.text);
  const twin = JSON.parse((await get(`from=${new Date(day).toISOString()}&to=${day + 2 * 86_400_000}&verifier_id=${partner.test_client_id}`)).text);
  assert.deepEqual(twin.buckets, [], 'no test-mode verification in usage');
  const report = JSON.parse(byDay.text);
  assert.equal(report.min_count, 5);
  assert.equal(report.granularity, 'day');
  assert.deepEqual(report.buckets.map((b) => [b.start, b.verified, b.failed, b.p50_ms, b.p95_ms]), [
    // 6 verified shown; 2 INVALID_PROOF suppressed; percentiles over 8 timed proofs (1..6, 40, 50).
    ['2026-11-03T00:00:00Z', 6, { INVALID_PROOF: '<5' }, 4, 50],
    // One proof: its count suppressed and its latency omitted.
    ['2026-11-04T00:00:00Z', '<5', {}, null, null],
  ]);

  const byHour = JSON.parse((await get(`${range}&granularity=hour&claim_type=age_over_18`)).text);
  assert.deepEqual(byHour.buckets.map((b) => [b.start, b.verified, b.failed]), [
    ['2026-11-03T01:00:00Z', 6, { INVALID_PROOF: '<5' }],
    ['2026-11-03T02:00:00Z', 0, { INVALID_PROOF: '<5' }],
    ['2026-11-04T00:00:00Z', '<5', {}],
  ]);

  for (const csv of [await get(`${range}&format=csv`), await get(range, { accept: 'text/csv' })]) {
    assert.equal(csv.status, 200, csv.text);
    assert.match(csv.type, /^text\/csv/);
    assert.deepEqual(csv.text.trim().split('\r\n'), [
      'start,claim_type,verifier_id,outcome,count,p50_ms,p95_ms',
      `2026-11-03T00:00:00Z,age_over_18,${partner.client_id},verified,6,4,50`,
      `2026-11-03T00:00:00Z,age_over_18,${partner.client_id},INVALID_PROOF,<5,4,50`,
      `2026-11-04T00:00:00Z,age_over_18,${partner.client_id},verified,<5,,`,
    ]);
  }

  const refused = async (query, field) => {
    const r = await get(query);
    assert.equal(r.status, 400, r.text);
    const problem = JSON.parse(r.text);
    assert.equal(problem.error_code, 'INVALID_REQUEST');
    assert.equal(problem.field, field, r.text);
  };
  await refused(`to=${day}`, 'from');
  await refused(`from=soon&to=${day}`, 'from');
  await refused(`from=${day}&to=${day}`, 'to');
  await refused(`from=${day}&to=${day + 32 * 86_400_000}&granularity=hour`, 'to');
  await refused(`from=${day}&to=${day + 367 * 86_400_000}`, 'to');
  await refused(`from=${day}&to=${day + 1000}&granularity=week`, 'granularity');
  await refused(`from=${day}&to=${day + 1000}&format=xml`, 'format');
  const anonymous = await fetch(`${server.url}/api/admin/usage?${range}`);
  assert.equal(anonymous.status, 401);
});
