// "mode":"onchain" through the real binary against a real anvil (docs/onchain.md): Groth16
// verifiers deployed for the demo circuits (ours, from `proofgate chain verifier`; snarkjs's
// exported verifier beside them takes the same calldata), a deployment file, `proofgate serve --demo` with chain_deployment and chain_check. Every claim
// type answers with a calldata bundle that snarkjs agrees with and that the deployed verifier
// accepts (eth_call and a real transaction); a replay answers the same bundle; a wrong mode is
// 400; no verifier is ONCHAIN_UNAVAILABLE; a verifier that always says false is CHAIN_DISAGREES;
// a node on another chain than the deployment file's is CHAIN_UNAVAILABLE; the node down is
// CHAIN_UNAVAILABLE (offchain verifies go on); beyond chain_check_concurrency checks at once a
// verify is CHAIN_UNAVAILABLE at once (a stub node holding the first call). The bundle also names what a partner's contract
// checks besides verifyProof, and real registries (contracts/*.sol, deployed here with the test's
// key as owner) answer isAcceptedRoot and circuit() with its keys. Last, every transaction and log of
// the run is read: only public signals, proof points, keys and addresses are there, none of the
// demo holder's credential attributes nor its secret.
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//        node --test tests/chain/onchain_api_test.mjs
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';

import { ethers } from 'ethers';

import { prove } from '../../clients/wallet/src/prove.mjs';
import { Server, removeDir, tempDir } from '../integration/server.mjs';
import { compile } from '../../scripts/chain/solc.mjs';
import { devKeys, startAnvil } from './anvil.mjs';

const require = createRequire(import.meta.url);
const snarkjs = require('snarkjs');

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !artifacts) throw new Error('set PROOFGATE_BIN and PROOFGATE_ARTIFACTS');

const kClaims = ['age_over_18', 'citizenship', 'education', 'income_gte'];
const kCredentialOf = { age_over_18: 'identity', citizenship: 'identity', education: 'education', income_gte: 'income' };
const kSelector = /^0x[0-9a-f]{8}$/;
// Attributes that are also a claim's parameter, named by the partner in its request and so a
// public signal by design (income_gte's fiscal year).
const kRequestParams = new Set(['fiscal_year']);

// A contract that answers false to every call: a "verifier" the chain_check must disagree with.
const kAlwaysFalse = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract AlwaysFalse {
  fallback(bytes calldata) external returns (bytes memory) { return abi.encode(false); }
}
`;

let anvil;
let provider;
let wallet;
let tmp;
const servers = {};
const verifiers = {}; // claim -> address of our verifier
const snarkjsVerifiers = {}; // claim -> address of snarkjs's
let alwaysFalse;
let circuitRegistry; // CircuitRegistry and CredentialRootRegistry, owned by devKeys[0]
let rootRegistry;
const registryTx = new Set(); // hashes of the registry transactions (setCircuit, publishRoot)
const bundles = []; // every onchain bundle answered
let sentTx = 0;

function vkeyOf(claim) {
  const file = path.join(artifacts, claim, '1.0.0', 'verification_key.json');
  const bytes = fs.readFileSync(file);
  return { sha256: crypto.createHash('sha256').update(bytes).digest('hex'), vkey: JSON.parse(bytes) };
}

async function writeDeployment(name, entries, chainId = 31337) {
  const file = path.join(tmp, name);
  // The real registries; governance is not this test's concern: any addresses (anvil's accounts).
  const accounts = devKeys.slice(1, 5).map((k) => new ethers.Wallet(k).address);
  fs.writeFileSync(file, JSON.stringify({
    chain_id: chainId,
    circuit_registry: (await circuitRegistry.getAddress()).toLowerCase(), // either case is accepted
    root_registry: await rootRegistry.getAddress(),
    timelock: accounts[2].toLowerCase(), // either case is accepted
    safe: accounts[3],
    deployed_block: 1,
    verifiers: entries.map(([claim, address]) => {
      const { sha256, vkey } = vkeyOf(claim);
      return { claim_type: claim, version: '1.0.0', address, public_inputs: vkey.nPublic, vkey_sha256: sha256 };
    }),
  }, null, 2));
  return file;
}

async function startServer(label, args) {
  const dataDir = tempDir(`onchain-${label}`);
  const server = await Server.start({ bin, artifacts, dataDir, args: ['--demo', '--rate-limit', '0', ...args] });
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  server.demo = {
    key: read('partner.json').api_key,
    holder: read('holder.json'),
    credentials: { identity: read('identity.json'), education: read('education.json'), income: read('income.json') },
  };
  server.dataDir = dataDir;
  return server;
}

async function call(server, method, pathname, body, headers = {}) {
  const h = { authorization: `Bearer ${server.demo.key}`, ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(server.url + pathname, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function paramsOf(server, claim) {
  if (claim === 'education') return { params: { min_level: 4 } };
  if (claim === 'income_gte') return { params: { threshold: 1000000, fiscal_year: server.demo.credentials.income.attributes.fiscal_year } };
  return {};
}

/** A fresh proof request of `claim` on `server` and the demo holder's verify body for it. */
async function proofFor(server, claim) {
  const r = await call(server, 'POST', '/api/v1/requests', { claim_type: claim, ...paramsOf(server, claim) });
  assert.equal(r.status, 201, r.text);
  return prove(artifacts, server.demo.holder, server.demo.credentials[kCredentialOf[claim]], r.json);
}

function assertProblem(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.error_code, code, r.text);
}

async function metric(server, name) {
  const res = await fetch(server.url + '/metrics');
  const line = (await res.text()).split('\n').find((l) => l.startsWith(name + ' '));
  assert.ok(line, `no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

before(async () => {
  tmp = tempDir('onchain-files');
  anvil = await startAnvil();
  provider = new ethers.JsonRpcProvider(anvil.url, 31337, { staticNetwork: true });
  wallet = new ethers.NonceManager(new ethers.Wallet(devKeys[0], provider));
  const template = fs.readFileSync(path.join(path.dirname(require.resolve('snarkjs')), '../templates/verifier_groth16.sol.ejs'), 'utf8');
  const sources = { 'AlwaysFalse.sol': kAlwaysFalse };
  for (const name of ['CircuitRegistry', 'CredentialRootRegistry']) {
    sources[`contracts/${name}.sol`] = fs.readFileSync(`contracts/${name}.sol`, 'utf8');
  }
  for (const claim of kClaims) {
    const zkey = path.join(artifacts, claim, '1.0.0', 'circuit.zkey');
    sources[`${claim}-snarkjs.sol`] = await snarkjs.zKey.exportSolidityVerifier(zkey, { groth16: template });
    const ours = spawnSync(bin, ['chain', 'verifier', '--vkey', path.join(artifacts, claim, '1.0.0', 'verification_key.json'),
      '--name', 'ClaimVerifier'], { encoding: 'utf8' });
    assert.equal(ours.status, 0, ours.stderr);
    sources[`${claim}.sol`] = ours.stdout;
  }
  const compiled = compile(sources);
  const deployContract = async (key, args = []) => {
    const c = compiled[key];
    const contract = await new ethers.ContractFactory(c.abi, c.bytecode, wallet).deploy(...args);
    await contract.waitForDeployment();
    sentTx++;
    return contract;
  };
  const deploy = async (key) => (await deployContract(key)).getAddress();
  const owner = new ethers.Wallet(devKeys[0]).address;
  circuitRegistry = await deployContract('contracts/CircuitRegistry.sol:CircuitRegistry', [owner]);
  rootRegistry = await deployContract('contracts/CredentialRootRegistry.sol:CredentialRootRegistry', [owner]);
  for (const claim of kClaims) {
    verifiers[claim] = await deploy(`${claim}.sol:ClaimVerifier`);
    snarkjsVerifiers[claim] = await deploy(`${claim}-snarkjs.sol:Groth16Verifier`);
  }
  alwaysFalse = await deploy('AlwaysFalse.sol:AlwaysFalse');

  const full = await writeDeployment('full.json', kClaims.map((c) => [c, c === 'education' ? verifiers[c].toLowerCase() : verifiers[c]]));
  // age_over_18's "verifier" always says false; citizenship has none.
  const lying = await writeDeployment('lying.json', [['age_over_18', alwaysFalse], ['education', verifiers.education]]);
  servers.checked = await startServer('checked', ['--chain-deployment', full, '--chain-rpc-url', anvil.url, '--chain-check']);
  servers.lying = await startServer('lying', ['--chain-deployment', lying, '--chain-rpc-url', anvil.url, '--chain-check']);
  servers.plain = await startServer('plain', []);
  // The same verifiers, but the file says chain 1 while the node is anvil's 31337.
  const elsewhere = await writeDeployment('elsewhere.json', kClaims.map((c) => [c, verifiers[c]]), 1);
  servers.elsewhere = await startServer('elsewhere', ['--chain-deployment', elsewhere, '--chain-rpc-url', anvil.url, '--chain-check']);
});

after(async () => {
  for (const s of Object.values(servers)) if (s.running) await s.kill();
  await anvil?.stop();
  await globalThis.curve_bn128?.terminate();
  for (const s of Object.values(servers)) removeDir(s.dataDir);
  if (tmp) removeDir(tmp);
});

for (const claim of kClaims) {
  test(`${claim}: mode onchain answers calldata that snarkjs agrees with and the deployed verifier accepts`, async () => {
    const server = servers.checked;
    const body = await proofFor(server, claim);
    const r = await call(server, 'POST', '/api/v1/verify', { ...body, mode: 'onchain' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'verified', r.text);
    const b = r.json.onchain;
    assert.ok(b, r.text);
    bundles.push(b);
    assert.equal(b.chain_id, 31337);
    assert.equal(b.verifier, verifiers[claim], 'the deployment\'s verifier, EIP-55 checksummed');
    const n = body.public_signals.length;
    assert.equal(b.function, `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${n}])`);
    assert.equal(b.selector, ethers.id(b.function).slice(0, 10));
    assert.match(b.selector, kSelector);
    // The arguments are snarkjs's own calldata (B's Fp2 coordinates as [c1, c0]).
    const theirs = JSON.parse('[' + await snarkjs.groth16.exportSolidityCallData(body.proof, body.public_signals) + ']');
    const big = (x) => (Array.isArray(x) ? x.map(big) : BigInt(x));
    assert.deepEqual(big([b.args.a, b.args.b, b.args.c, b.args.pubSignals]), big(theirs));
    assert.deepEqual(b.args.pubSignals, body.public_signals);
    const iface = new ethers.Interface([`function ${b.function} view returns (bool)`]);
    assert.equal(b.calldata, iface.encodeFunctionData('verifyProof', theirs), 'ethers encodes the same bytes');
    // The partner's call: eth_call, and a real transaction.
    const answer = await provider.call({ to: b.verifier, data: b.calldata });
    assert.equal(BigInt(answer), 1n, `verifyProof(${claim}) answered ${answer}`);
    // The same bytes to snarkjs's verifier of the same key: wallets and tools need no change.
    assert.equal(BigInt(await provider.call({ to: snarkjsVerifiers[claim], data: b.calldata })), 1n);
    const tx = await wallet.sendTransaction({ to: b.verifier, data: b.calldata });
    const receipt = await tx.wait();
    sentTx++;
    assert.equal(receipt.status, 1);
    // A tampered public signal: the same verifier refuses.
    const tampered = iface.encodeFunctionData('verifyProof', [theirs[0], theirs[1], theirs[2], theirs[3].map((x, i) => (i === 0 ? BigInt(x) + 1n : x))]);
    assert.equal(BigInt(await provider.call({ to: b.verifier, data: tampered })), 0n);
    await assertRegistryFields(claim, body, r.json);
  });
}

/** What a partner's contract checks besides verifyProof: the bundle's registry fields, and the
 * registries answering with them. The demo's root is published directly by the owner. */
async function assertRegistryFields(claim, body, answer) {
  const b = answer.onchain;
  assert.equal(b.circuit_registry, await circuitRegistry.getAddress(), 'EIP-55 although the file has it lowercase');
  assert.equal(b.root_registry, await rootRegistry.getAddress());
  assert.equal(b.claim_key, ethers.id(claim));
  assert.equal(b.semver, '1.0.0');
  assert.equal(b.issuer, answer.issuer, 'the issuer whose root the server accepted');
  assert.ok(['moha', 'tu', 'nrb'].includes(b.issuer), b.issuer);
  assert.equal(b.issuer_key, ethers.id(b.issuer));
  const manifest = JSON.parse(fs.readFileSync(path.join(artifacts, claim, '1.0.0', 'manifest.json'), 'utf8'));
  assert.deepEqual(b.public_signal_names, manifest.public_signals);
  assert.equal(b.public_signal_names.length, b.args.pubSignals.length);
  for (const name of ['nullifier', 'root', 'binding']) assert.ok(b.public_signal_names.includes(name), name);
  const at = (name) => BigInt(b.args.pubSignals[b.public_signal_names.indexOf(name)]);
  assert.equal(at('nullifier').toString(), answer.nullifier, 'the index of "nullifier" is the nullifier');

  const root = at('root');
  const roots = rootRegistry.connect(wallet);
  if (!(await roots.isAcceptedRoot(b.issuer_key, root))) {
    const [current, seq] = await roots.current(b.issuer_key);
    assert.equal(seq, 0n, `${b.issuer} has another root on chain than the proof's`);
    const tx = await roots.publishRoot(b.issuer_key, 1n, root, current);
    await tx.wait();
    registryTx.add(tx.hash);
    sentTx++;
  }
  assert.equal(await roots.isAcceptedRoot(b.issuer_key, root), true);
  // A root the issuer never published (e.g. the proof's over a self-made tree) is not accepted.
  assert.equal(await roots.isAcceptedRoot(b.issuer_key, root + 1n), false);
  assert.equal(await roots.isAcceptedRoot(ethers.id('not-' + b.issuer), root), false);

  const circuits = circuitRegistry.connect(wallet);
  const before = await circuits.circuit(b.claim_key, b.semver);
  assert.equal(before[0], ethers.ZeroAddress, 'nothing registered yet');
  const tx = await circuits.setCircuit(b.claim_key, b.verifier, b.semver, true);
  await tx.wait();
  registryTx.add(tx.hash);
  sentTx++;
  const [registered, enabled] = await circuits.circuit(b.claim_key, b.semver);
  assert.equal(registered, b.verifier, 'the registry\'s verifier is the bundle\'s');
  assert.equal(enabled, true);
  assert.equal((await circuits.circuit(b.claim_key, '9.9.9'))[0], ethers.ZeroAddress);
}

test('an idempotent replay answers the same bundle; offchain and absent mode carry none', async () => {
  const server = servers.checked;
  const body = { ...(await proofFor(server, 'age_over_18')), mode: 'onchain' };
  const key = { 'idempotency-key': 'onchain-replay-1' };
  const first = await call(server, 'POST', '/api/v1/verify', body, key);
  assert.equal(first.status, 200, first.text);
  const again = await call(server, 'POST', '/api/v1/verify', body, key);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.json.onchain, first.json.onchain);
  assert.equal(again.json.proof_id, first.json.proof_id);
  for (const mode of ['offchain', undefined]) {
    const b = await proofFor(server, 'age_over_18');
    const r = await call(server, 'POST', '/api/v1/verify', mode ? { ...b, mode } : b);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.onchain, undefined, r.text);
  }
});

test('a mode other than offchain or onchain is 400 naming mode, before anything is recorded', async () => {
  const server = servers.checked;
  const body = await proofFor(server, 'age_over_18');
  for (const mode of ['OnChain', 'chain', '', 1, null]) {
    const r = await call(server, 'POST', '/api/v1/verify', { ...body, mode });
    assertProblem(r, 400, 'INVALID_REQUEST');
    assert.equal(r.json.field, 'mode', r.text);
  }
  const r = await call(server, 'POST', '/api/v1/verify', { ...body, mode: 'onchain' });
  assert.equal(r.status, 200, 'the nonce was not spent: ' + r.text);
});

test('no verifier for the circuit, or no deployment at all: 422 ONCHAIN_UNAVAILABLE, the nonce unspent', async () => {
  for (const [server, claim] of [[servers.lying, 'citizenship'], [servers.plain, 'age_over_18']]) {
    const body = await proofFor(server, claim);
    const r = await call(server, 'POST', '/api/v1/verify', { ...body, mode: 'onchain' });
    assertProblem(r, 422, 'ONCHAIN_UNAVAILABLE');
    assert.equal(r.json.field, 'mode');
    const offchain = await call(server, 'POST', '/api/v1/verify', body);
    assert.equal(offchain.status, 200, offchain.text);
  }
});

test('chain_check: a deployed verifier that disagrees is 502 CHAIN_DISAGREES, logged at error level and counted', async () => {
  const server = servers.lying;
  const before = await metric(server, 'proofgate_chain_disagreements_total');
  const body = await proofFor(server, 'age_over_18');
  const r = await call(server, 'POST', '/api/v1/verify', { ...body, mode: 'onchain' });
  assertProblem(r, 502, 'CHAIN_DISAGREES');
  assert.equal(r.json.proof_id, undefined, 'nothing was recorded');
  assert.equal(await metric(server, 'proofgate_chain_disagreements_total'), before + 1);
  const logged = server.stderr.split('\n').filter((l) => l.includes('disagrees')).map((l) => JSON.parse(l));
  assert.ok(logged.some((l) => l.level === 'error' && l.verifier === alwaysFalse && l.server === 'valid' && l.chain === 'invalid'), server.stderr);
  // The same circuit's other verifier on the same server agrees.
  const ok = await call(server, 'POST', '/api/v1/verify', { ...(await proofFor(server, 'education')), mode: 'onchain' });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(await metric(server, 'proofgate_chain_disagreements_total'), before + 1);
});

test('chain_check: a node on another chain than the deployment file\'s is 503 CHAIN_UNAVAILABLE, logged with both ids and counted, on every call', async () => {
  const server = servers.elsewhere;
  const before = await metric(server, 'proofgate_chain_unavailable_total');
  for (let i = 1; i <= 2; i++) { // a mismatch is never cached: the second call asks again
    const body = await proofFor(server, 'age_over_18');
    const r = await call(server, 'POST', '/api/v1/verify', { ...body, mode: 'onchain' });
    assertProblem(r, 503, 'CHAIN_UNAVAILABLE');
    assert.equal(r.json.proof_id, undefined, 'nothing was recorded');
    assert.equal(await metric(server, 'proofgate_chain_unavailable_total'), before + i);
    const logged = server.stderr.split('\n').filter((l) => l.includes('another chain')).map((l) => JSON.parse(l));
    assert.equal(logged.filter((l) => l.level === 'error' && l.node_chain_id === 31337 && l.chain_id === 1).length, i, server.stderr);
    // The nonce is unspent: the same proof verifies offchain.
    const offchain = await call(server, 'POST', '/api/v1/verify', body);
    assert.equal(offchain.status, 200, offchain.text);
  }
  // The server with the right chain_id asked the same node once and went on (no such line).
  assert.ok(!servers.checked.stderr.includes('another chain'), servers.checked.stderr);
});

/** A JSON-RPC node on loopback that answers eth_chainId with 31337 and holds every eth_call until
 * release() (then answers true), so a test controls how many chain checks are running. */
async function holdingNode() {
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  let callArrived;
  const firstCall = new Promise((resolve) => { callArrived = resolve; });
  let calls = 0;
  const node = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => { text += chunk; });
    req.on('end', async () => {
      const { id, method } = JSON.parse(text);
      let result = '0x7a69';
      if (method === 'eth_call') {
        calls++;
        callArrived();
        await released;
        result = '0x' + '0'.repeat(63) + '1';
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id, result }));
    });
  });
  await new Promise((resolve) => node.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${node.address().port}/`,
    firstCall,
    release: () => release(),
    calls: () => calls,
    close: () => new Promise((resolve) => node.close(resolve)),
  };
}

test('chain_check: beyond chain_check_concurrency checks at once a verify is 503 CHAIN_UNAVAILABLE at once, counted, the nonce unspent', async () => {
  const node = await holdingNode();
  try {
    const deployment = await writeDeployment('bounded.json', kClaims.map((c) => [c, verifiers[c]]));
    servers.bounded = await startServer('bounded', ['--chain-deployment', deployment, '--chain-rpc-url', node.url,
      '--chain-check', '--chain-check-concurrency', '1', '--workers', '4']);
    const server = servers.bounded;
    const first = { ...(await proofFor(server, 'age_over_18')), mode: 'onchain' };
    const second = { ...(await proofFor(server, 'age_over_18')), mode: 'onchain' };
    const held = call(server, 'POST', '/api/v1/verify', first);
    await node.firstCall; // the first verify now holds the only chain check
    assert.equal(await metric(server, 'proofgate_chain_checks_in_flight'), 1);
    const refused = await call(server, 'POST', '/api/v1/verify', second);
    assertProblem(refused, 503, 'CHAIN_UNAVAILABLE');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.json.proof_id, undefined, 'nothing was recorded');
    assert.equal(node.calls(), 1, 'the refused verify did not ask the node');
    assert.equal(await metric(server, 'proofgate_chain_checks_saturated_total'), 1);
    assert.equal(await metric(server, 'proofgate_chain_unavailable_total'), 0);
    node.release();
    const answered = await held;
    assert.equal(answered.status, 200, answered.text);
    assert.equal(await metric(server, 'proofgate_chain_checks_in_flight'), 0);
    // The slot is free and the refused verify's nonce unspent: it verifies now.
    const again = await call(server, 'POST', '/api/v1/verify', second);
    assert.equal(again.status, 200, again.text);
    assert.equal(node.calls(), 2);
  } finally {
    node.release();
    if (servers.bounded?.running) await servers.bounded.kill();
    await node.close();
  }
});

test('the privacy check: every transaction and log of the run holds no credential attribute nor the holder secret', async () => {
  const latest = await provider.getBlockNumber();
  const txs = [];
  const logs = [];
  for (let n = 0; n <= latest; n++) {
    const block = await provider.getBlock(n, true);
    for (const tx of block.prefetchedTransactions) txs.push(tx);
  }
  for (const tx of txs) {
    const receipt = await provider.getTransactionReceipt(tx.hash);
    logs.push(...receipt.logs);
  }
  assert.equal(txs.length, sentTx, 'every transaction of the run was read');
  const bytes = [...txs.map((t) => t.data), ...logs.flatMap((l) => [l.data, ...l.topics])].map((h) => h.toLowerCase().slice(2));
  // What the holder must never put on chain: each attribute's value as a 32-byte word, as a
  // decimal's and as text's bytes, and the holder's secret.
  const secrets = [];
  const demo = servers.checked.demo;
  for (const credential of Object.values(demo.credentials)) {
    for (const [name, value] of Object.entries(credential.attributes ?? {})) {
      const text = String(value);
      if (kRequestParams.has(name)) continue;
      if (text.length < 4) continue; // a level "4" or a flag matches anything by chance
      secrets.push({ what: `attribute ${name}`, hex: Buffer.from(text, 'utf8').toString('hex') });
      if (/^[0-9]+$/.test(text)) secrets.push({ what: `attribute ${name} as a word`, hex: BigInt(text).toString(16).padStart(64, '0') });
    }
  }
  assert.ok(secrets.length >= 4, 'the demo credentials have attributes to look for: ' + JSON.stringify(demo.credentials));
  const holderSecret = BigInt(demo.holder.secret);
  secrets.push({ what: 'the holder secret', hex: holderSecret.toString(16).padStart(64, '0') });
  for (const s of secrets) {
    for (const data of bytes) assert.ok(!data.includes(s.hex), `${s.what} appears on chain`);
  }
  // The verify calls' calldata is the selector and words that are proof points or public signals.
  const allowed = new Set();
  for (const b of bundles) {
    for (const x of [...b.args.a, ...b.args.b.flat(), ...b.args.c, ...b.args.pubSignals]) allowed.add(BigInt(x).toString(16).padStart(64, '0'));
  }
  const calls = txs.filter((t) => t.to !== null && !registryTx.has(t.hash));
  assert.equal(registryTx.size, kClaims.length + 3, 'a circuit per claim, a root per issuer');
  assert.equal(calls.length, kClaims.length);
  for (const tx of calls) {
    const data = tx.data.slice(10);
    assert.equal(data.length % 64, 0);
    for (let i = 0; i < data.length; i += 64) assert.ok(allowed.has(data.slice(i, i + 64)), `word ${i / 64} of ${tx.hash}`);
  }
});

test('the node down: 503 CHAIN_UNAVAILABLE, counted, the nonce unspent; offchain never asks the chain', async () => {
  const server = servers.checked;
  await anvil.stop();
  const before = await metric(server, 'proofgate_chain_unavailable_total');
  const body = await proofFor(server, 'age_over_18');
  const r = await call(server, 'POST', '/api/v1/verify', { ...body, mode: 'onchain' });
  assertProblem(r, 503, 'CHAIN_UNAVAILABLE');
  assert.ok(r.headers.get('retry-after'), 'a retry hint');
  assert.equal(await metric(server, 'proofgate_chain_unavailable_total'), before + 1);
  const offchain = await call(server, 'POST', '/api/v1/verify', body);
  assert.equal(offchain.status, 200, offchain.text);
  assert.equal(await metric(server, 'proofgate_chain_unavailable_total'), before + 1);
});
