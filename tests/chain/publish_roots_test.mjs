// `proofgate chain publish-roots` end to end: a real issuer node (with its sandbox authority over
// mutual TLS), anvil, the Safe 2-of-3 + timelock governance and the registries deployed here with
// ethers. Two owners run the command; after the delay the registry holds the feed's root; a
// revocation's new root goes the same way; a tampered feed proposes nothing; runs repeat nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ethers } from 'ethers';
import { startAnvil, devKeys } from './anvil.mjs';
import { compile } from '../../scripts/chain/solc.mjs';
import * as gov from '../../scripts/chain/governance.mjs';
import { startIssuerStack } from '../integration/issuer_stack.mjs';

const bin = process.env.PROOFGATE_BIN ?? path.resolve('build/release/proofgate');
const MIN_DELAY = 600;
const moha = ethers.id('moha');

let dir;
let stack;
let anvil;
let provider;
let rootReg;
let safe;
let timelockAddr;
let deploymentFile;
let keyFiles; // the three owners' key files, and an outsider's
let feeds;
let artifacts;
let deployer;

function run(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      resolve({ code, stdout, stderr, steps: lines.filter((l) => l.action), summary: lines.find((l) => l.issuers) });
    });
  });
}

const publish = (keyFile, feedArg = feeds) => run(['chain', 'publish-roots', '--rpc-url', anvil.url,
  '--key-file', keyFile, '--deployment', deploymentFile, '--issuer-feeds', feedArg]);

async function feedEntries() {
  const r = await fetch(`${stack.nodes.moha.url}/issuer/v1/roots?since=0`);
  assert.equal(r.status, 200);
  return (await r.json()).entries;
}

async function registryCurrent() {
  const [root, seq] = await rootReg.current(moha);
  return { root: root.toString(), seq: Number(seq) };
}

const blockNumber = () => provider.getBlockNumber();

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-publish-roots-'));
  stack = await startIssuerStack({ bin, dir, kinds: ['moha'], records: 5, verifier: false });
  const node = stack.nodes.moha;
  feeds = `moha|${node.url}|${node.publicKey}`;

  anvil = await startAnvil();
  provider = await gov.connect(anvil.url);
  let owners;
  [deployer, ...owners] = devKeys.slice(0, 4).map((k) => new ethers.Wallet(k, provider));
  const g = await gov.deployGovernance(deployer, { owners: owners.map((o) => o.address), threshold: 2, minDelay: MIN_DELAY });
  safe = g.safe;
  timelockAddr = await g.timelock.getAddress();
  artifacts = compile({
    'contracts/CircuitRegistry.sol': fs.readFileSync('contracts/CircuitRegistry.sol', 'utf8'),
    'contracts/CredentialRootRegistry.sol': fs.readFileSync('contracts/CredentialRootRegistry.sol', 'utf8'),
  });
  const deploy = async (key) => {
    const a = artifacts[key];
    const c = await new ethers.ContractFactory(a.abi, a.bytecode, deployer).deploy(deployer.address);
    await c.waitForDeployment();
    await gov.sendAndWait(c.transferOwnership(timelockAddr));
    return c;
  };
  rootReg = await deploy('contracts/CredentialRootRegistry.sol:CredentialRootRegistry');
  const circuitReg = await deploy('contracts/CircuitRegistry.sol:CircuitRegistry');
  deploymentFile = path.join(dir, 'deployment.json');
  fs.writeFileSync(deploymentFile, JSON.stringify({
    chain_id: 31337, circuit_registry: await circuitReg.getAddress(), root_registry: await rootReg.getAddress(),
    timelock: timelockAddr, safe: await safe.getAddress(), deployed_block: await blockNumber(), verifiers: [],
  }));
  keyFiles = devKeys.slice(1, 5).map((k, i) => {
    const f = path.join(dir, `owner${i + 1}.key`);
    fs.writeFileSync(f, `${k}\n`, { mode: 0o600 });
    return f;
  });
});

after(async () => {
  provider?.destroy();
  await anvil?.stop();
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('two_owners_publish_the_feed_roots_after_the_delay_and_runs_repeat_nothing', async () => {
  await stack.enrol('moha', stack.authorities.moha.records[0].record);
  const entries = await feedEntries();
  assert.ok(entries.length >= 2, 'genesis and the enrolment');
  const last = entries[entries.length - 1];

  // the first owner approves one Safe transaction per entry, nothing scheduled yet
  const first = await publish(keyFiles[0]);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(first.steps.filter((s) => s.action === 'approved').map((s) => s.seq), entries.map((e) => e.seq));
  assert.deepEqual(first.summary.issuers, [{ issuer: 'moha', feed_seq: last.seq, registry_seq: 0 }]);
  assert.equal(await safe.nonce(), 0n);

  // again: nothing new is sent
  const height = await blockNumber();
  const again = await publish(keyFiles[0]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(again.steps.every((s) => s.action === 'already_approved' || s.action === 'awaiting_approvals'), again.stdout);
  assert.equal(await blockNumber(), height);

  // the second owner's approval (as the sender) reaches the threshold: every entry scheduled
  const second = await publish(keyFiles[1]);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(second.steps.filter((s) => s.action === 'scheduled').map((s) => s.seq), entries.map((e) => e.seq));
  assert.ok(second.steps.some((s) => s.action === 'waiting_delay'), second.stdout);
  assert.equal(await safe.nonce(), BigInt(entries.length));
  assert.deepEqual(await registryCurrent(), { root: '0', seq: 0 });

  // before the delay nothing executes, and nothing is scheduled twice
  const height2 = await blockNumber();
  const early = await publish(keyFiles[2]);
  assert.equal(early.code, 0, early.stderr);
  assert.equal(await blockNumber(), height2);
  assert.deepEqual(await registryCurrent(), { root: '0', seq: 0 });

  // after the delay any owner's run executes them in seq order
  await provider.send('evm_increaseTime', [MIN_DELAY]);
  await provider.send('evm_mine', []);
  const done = await publish(keyFiles[2]);
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(done.steps.filter((s) => s.action === 'executed').map((s) => s.seq), entries.map((e) => e.seq));
  assert.deepEqual(await registryCurrent(), { root: last.root, seq: last.seq });
  assert.deepEqual(done.summary.issuers, [{ issuer: 'moha', feed_seq: last.seq, registry_seq: last.seq }]);
  assert.equal(await rootReg.isAcceptedRoot(moha, BigInt(last.root)), true);

  // in step: a run sends nothing (the feeds given as serve's environment variable this time)
  const height3 = await blockNumber();
  const idle = await run(['chain', 'publish-roots', '--rpc-url', anvil.url, '--key-file', keyFiles[0],
    '--deployment', deploymentFile], { PROOFGATE_ISSUER_FEEDS: feeds });
  assert.equal(idle.code, 0, idle.stderr);
  assert.deepEqual(idle.steps, []);
  assert.equal(await blockNumber(), height3);
});

test('a_revocation_root_is_published_the_same_way', async () => {
  const before = await registryCurrent();
  const node = stack.nodes.moha;
  const { credential } = await stack.enrol('moha', stack.authorities.moha.records[1].record);
  const revoked = await node.admin('POST', `/issuer/v1/admin/credentials/${credential.leaf_index}/revoke`, { reason: 'test: revoked' });
  assert.equal(revoked.status, 200, revoked.text);
  const entries = await feedEntries();
  const last = entries[entries.length - 1];
  assert.equal(last.root, revoked.json.root);
  const fresh = entries.filter((e) => e.seq > before.seq).map((e) => e.seq);
  assert.ok(fresh.length >= 2, 'the enrolment and the revocation');

  const a = await publish(keyFiles[1]);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(a.steps.filter((s) => s.action === 'approved').map((s) => s.seq), fresh);
  const b = await publish(keyFiles[2]);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(b.steps.filter((s) => s.action === 'scheduled').map((s) => s.seq), fresh);
  assert.deepEqual(await registryCurrent(), before);
  await provider.send('evm_increaseTime', [MIN_DELAY]);
  await provider.send('evm_mine', []);
  const c = await publish(keyFiles[0]);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(await registryCurrent(), { root: last.root, seq: last.seq });
  // the root the revocation replaced is no longer current (grace 3600 s keeps it accepted a while)
  assert.notEqual(revoked.json.root, before.root);
});

test('a_tampered_feed_is_refused_and_nothing_is_proposed', async () => {
  await stack.enrol('moha', stack.authorities.moha.records[2].record);
  const node = stack.nodes.moha;
  // a man in the middle changing the newest entry's root (its signature no longer verifies)
  const proxy = http.createServer(async (req, res) => {
    const r = await fetch(node.url + req.url);
    const body = await r.json();
    if (body.entries?.length) {
      const e = body.entries[body.entries.length - 1];
      e.root = (BigInt(e.root) + 1n).toString();
    }
    res.writeHead(r.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  try {
    const tampered = `moha|http://127.0.0.1:${proxy.address().port}|${node.publicKey}`;
    const height = await blockNumber();
    const nonce = await safe.nonce();
    const r = await publish(keyFiles[0], tampered);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /refused \(bad_signature\)/);
    assert.deepEqual(r.steps, []);
    assert.equal(await blockNumber(), height);
    assert.equal(await safe.nonce(), nonce);
    // a key the feed was not signed with: refused as well
    const wrongKey = `moha|${node.url}|${Buffer.alloc(32, 7).toString('base64url')}`;
    const w = await publish(keyFiles[0], wrongKey);
    assert.equal(w.code, 1, w.stdout + w.stderr);
    assert.match(w.stderr, /refused \(unknown_key\)/);
    assert.equal(await blockNumber(), height);
  } finally {
    await new Promise((resolve) => proxy.close(resolve));
  }
  // a node suggesting more than --max-fee-gwei per gas: refused before signing, nothing sent
  const height = await blockNumber();
  const capped = await run(['chain', 'publish-roots', '--rpc-url', anvil.url, '--key-file', keyFiles[0],
    '--deployment', deploymentFile, '--issuer-feeds', feeds, '--max-fee-gwei', '0.000001']);
  assert.notEqual(capped.code, 0, capped.stdout + capped.stderr);
  assert.match(capped.stderr, /above the cap of 1000 wei \(--max-fee-gwei\); nothing signed/);
  assert.equal(await blockNumber(), height);
  // another run holding this owner's key lock: refused at once, nothing sent (flock(1) holds
  // "<key-file>.lock" with flock(2) while it runs the second publish-roots)
  const locked = await new Promise((resolve, reject) => {
    const child = spawn('flock', ['-n', `${keyFiles[0]}.lock`, bin, 'chain', 'publish-roots', '--rpc-url', anvil.url,
      '--key-file', keyFiles[0], '--deployment', deploymentFile, '--issuer-feeds', feeds], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(locked.code, 1, locked.stdout + locked.stderr);
  assert.equal(locked.stderr, `--key-file: another run holds ${keyFiles[0]}.lock\n`);
  assert.equal(locked.stdout, '');
  assert.equal(await blockNumber(), height);
  // the untampered feed is proposed as usual
  const ok = await publish(keyFiles[0]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.steps.filter((s) => s.action === 'approved').length, 1);
});

test('bad_inputs_are_refused_with_a_clear_error', async () => {
  // an account that is not an owner of the Safe
  const outsider = await publish(keyFiles[3]);
  assert.equal(outsider.code, 2);
  assert.match(outsider.stderr, /not an owner of the Safe/);
  // a key file others can read
  const loose = path.join(dir, 'loose.key');
  fs.writeFileSync(loose, devKeys[1], { mode: 0o644 });
  fs.chmodSync(loose, 0o644);
  const l = await publish(loose);
  assert.equal(l.code, 2);
  assert.match(l.stderr, /loose\.key/);
  assert.doesNotMatch(l.stderr, new RegExp(devKeys[1].slice(2, 20)));
  // plain http to a node that is not this machine's
  const plain = await run(['chain', 'publish-roots', '--rpc-url', 'http://node.example:8545/v3/SECRETKEY', '--key-file', keyFiles[0],
    '--deployment', deploymentFile, '--issuer-feeds', feeds]);
  assert.equal(plain.code, 2);
  assert.equal(plain.stderr, '--rpc-url: http:// is accepted only for a loopback host (127.0.0.0/8, ::1, localhost); use https:// for any other node\n');
  // a malformed feed setting
  const f = await publish(keyFiles[0], 'moha|not a url|x');
  assert.equal(f.code, 2);
  assert.match(f.stderr, /issuer-feeds/);
  // a deployment file for another chain
  const other = path.join(dir, 'other.json');
  fs.writeFileSync(other, JSON.stringify({ ...JSON.parse(fs.readFileSync(deploymentFile, 'utf8')), chain_id: 1 }));
  const c = await run(['chain', 'publish-roots', '--rpc-url', anvil.url, '--key-file', keyFiles[0],
    '--deployment', other, '--issuer-feeds', feeds]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /chain id 31337 is not the deployment's 1/);
});

test('a_registry_that_disagrees_with_the_feed_gets_nothing', async () => {
  // a registry owned by the deployer (not the governance), to set up states the feed contradicts
  const a = artifacts['contracts/CredentialRootRegistry.sol:CredentialRootRegistry'];
  const other = await new ethers.ContractFactory(a.abi, a.bytecode, deployer).deploy(deployer.address);
  await other.waitForDeployment();
  const file = path.join(dir, 'other-registry.json');
  const write = () => fs.writeFileSync(file, JSON.stringify({
    ...JSON.parse(fs.readFileSync(deploymentFile, 'utf8')), root_registry: other.target,
  }));
  write();
  const entries = await feedEntries();
  const runOther = () => run(['chain', 'publish-roots', '--rpc-url', anvil.url, '--key-file', keyFiles[0],
    '--deployment', file, '--issuer-feeds', feeds]);

  // a root at seq 1 that is not the feed's: a fork, nothing proposed
  await gov.sendAndWait(other.publishRoot(moha, 1, 12345n, 0n));
  let height = await blockNumber();
  const fork = await runOther();
  assert.equal(fork.code, 1, fork.stdout + fork.stderr);
  assert.match(fork.stderr, /registry's root at seq 1 is not the feed's/);
  assert.deepEqual(fork.steps, []);
  assert.equal(await blockNumber(), height);

  // a registry ahead of the feed: nothing proposed either
  const ahead = await new ethers.ContractFactory(a.abi, a.bytecode, deployer).deploy(deployer.address);
  await ahead.waitForDeployment();
  let prev = 0n;
  for (const e of entries) {
    await gov.sendAndWait(ahead.publishRoot(moha, e.seq, BigInt(e.root), prev));
    prev = BigInt(e.root);
  }
  await gov.sendAndWait(ahead.publishRoot(moha, entries.length + 1, 777n, prev));
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(deploymentFile, 'utf8')), root_registry: ahead.target }));
  height = await blockNumber();
  const r = await runOther();
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`registry is at seq ${entries.length + 1}, ahead of the feed`));
  assert.deepEqual(r.steps, []);
  assert.equal(await blockNumber(), height);
});

test('a_publication_the_safe_cancelled_is_not_proposed_again_unless_asked', async () => {
  const entries = await feedEntries();
  const before = await registryCurrent();
  const pending = entries.filter((e) => e.seq > before.seq);
  assert.equal(pending.length, 1, 'the entry approved by the tampered-feed test');
  const e = pending[0];
  const s = await publish(keyFiles[1]);
  assert.deepEqual(s.steps.filter((x) => x.action === 'scheduled').map((x) => x.seq), [e.seq]);
  // two owners cancel it through the Safe
  const op = gov.operation({
    target: rootReg.target,
    data: rootReg.interface.encodeFunctionData('publishRoot', [moha, e.seq, BigInt(e.root), BigInt(e.prev_root)]),
  });
  const signers = devKeys.slice(1, 3).map((k) => new ethers.Wallet(k, provider));
  await gov.cancelThroughSafe(await safe.getAddress(), signers, timelockAddr, op);
  await provider.send('evm_increaseTime', [MIN_DELAY]);
  await provider.send('evm_mine', []);
  const height = await blockNumber();
  const r = await publish(keyFiles[2]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`cancelled the publication of seq ${e.seq}`));
  assert.ok(r.steps.some((x) => x.action === 'cancelled' && x.seq === e.seq), r.stdout);
  assert.equal(await blockNumber(), height);
  assert.deepEqual(await registryCurrent(), before);
  // asked to, an owner proposes it anew
  const again = await run(['chain', 'publish-roots', '--rpc-url', anvil.url, '--key-file', keyFiles[2],
    '--deployment', deploymentFile, '--issuer-feeds', feeds, '--repropose-cancelled']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(again.steps.filter((x) => x.action === 'approved').map((x) => x.seq), [e.seq]);
});
