// The registries under their governance on a real anvil node: a Safe 2-of-3 proposing to an
// OpenZeppelin TimelockController that owns CircuitRegistry and CredentialRootRegistry. Shows that
// no single account (owner or not) changes a registry, that a change waits for the delay, that a
// cancelled proposal never executes, and the root registry's rules (docs/issuers.md's feed rules).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ethers } from 'ethers';
import { startAnvil, devKeys } from './anvil.mjs';
import { compile } from '../../scripts/chain/solc.mjs';
import * as gov from '../../scripts/chain/governance.mjs';

const MIN_DELAY = 3600;
const R = 21888242871839275222246405745257275088548364400416230826773162783034934839297n;
const moha = ethers.id('moha');
const tu = ethers.id('tu');

let anvil;
let provider;
let deployer;
let owners; // the Safe's three owners
let outsider;
let safeAddr;
let timelockAddr;
let rootReg; // owned by the timelock
let circuitReg; // owned by the timelock
let artifacts;

async function rpc(method, params = []) {
  return provider.send(method, params);
}

async function increaseTime(seconds) {
  await rpc('evm_increaseTime', [seconds]);
  await rpc('evm_mine');
}

async function latestTimestamp() {
  return (await provider.getBlock('latest')).timestamp;
}

/// Asserts the promise rejects with the custom error `name` (decoded from the revert data with
/// the registries', the timelock's and the Safe's ABIs) or, for require strings (the Safe's GSxxx
/// codes), with that reason.
async function expectRevert(promise, name) {
  let err = null;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a revert with ${name}, but it succeeded`);
  let got = err.revert?.name === 'Error' ? err.revert.args[0] : (err.revert?.name ?? err.reason ?? null);
  const data = err.data ?? err.info?.error?.data ?? null;
  if (typeof data === 'string' && data.length >= 10) {
    for (const iface of knownInterfaces()) {
      const parsed = iface.parseError(data);
      if (parsed) {
        got = parsed.name === 'Error' ? parsed.args[0] : parsed.name;
        break;
      }
    }
  }
  assert.equal(got, name, `expected ${name}, got ${got} (${err.shortMessage ?? err.message})`);
  return err;
}

function knownInterfaces() {
  return [
    new ethers.Interface(artifacts['contracts/CredentialRootRegistry.sol:CredentialRootRegistry'].abi),
    new ethers.Interface(artifacts['contracts/CircuitRegistry.sol:CircuitRegistry'].abi),
    timelockIface(),
    safeIface(),
  ];
}

async function deploy(signer, key, args) {
  const a = artifacts[key];
  const c = await new ethers.ContractFactory(a.abi, a.bytecode, signer).deploy(...args);
  await c.waitForDeployment();
  return c;
}

const timelockIface = () => new ethers.Interface(gov.timelockArtifact().abi);
const safeIface = () => new ethers.Interface(gov.safeArtifact('Safe').abi);

before(async () => {
  anvil = await startAnvil();
  provider = await gov.connect(anvil.url);
  [deployer, ...owners] = devKeys.slice(0, 4).map((k) => new ethers.Wallet(k, provider));
  outsider = new ethers.Wallet(devKeys[4], provider);
  artifacts = compile({
    'contracts/CircuitRegistry.sol': fs.readFileSync('contracts/CircuitRegistry.sol', 'utf8'),
    'contracts/CredentialRootRegistry.sol': fs.readFileSync('contracts/CredentialRootRegistry.sol', 'utf8'),
  });
  const g = await gov.deployGovernance(deployer, {
    owners: owners.map((o) => o.address), threshold: 2, minDelay: MIN_DELAY,
  });
  safeAddr = await g.safe.getAddress();
  timelockAddr = await g.timelock.getAddress();
  rootReg = await deploy(deployer, 'contracts/CredentialRootRegistry.sol:CredentialRootRegistry', [deployer.address]);
  circuitReg = await deploy(deployer, 'contracts/CircuitRegistry.sol:CircuitRegistry', [deployer.address]);
  await gov.sendAndWait(rootReg.transferOwnership(timelockAddr));
  await gov.sendAndWait(circuitReg.transferOwnership(timelockAddr));
});

after(async () => {
  provider?.destroy();
  await anvil?.stop();
});

test('governance_is_deployed_as_configured', async () => {
  const safe = new ethers.Contract(safeAddr, safeIface(), provider);
  assert.equal(await safe.getThreshold(), 2n);
  assert.deepEqual([...(await safe.getOwners())].map((a) => a.toLowerCase()).sort(),
    owners.map((o) => o.address.toLowerCase()).sort());
  const tl = new ethers.Contract(timelockAddr, gov.timelockArtifact().abi, provider);
  assert.equal(await tl.getMinDelay(), BigInt(MIN_DELAY));
  assert.equal(await tl.hasRole(await tl.PROPOSER_ROLE(), safeAddr), true);
  assert.equal(await tl.hasRole(await tl.CANCELLER_ROLE(), safeAddr), true);
  assert.equal(await tl.hasRole(await tl.EXECUTOR_ROLE(), ethers.ZeroAddress), true);
  // no admin: nobody (not the deployer, not an owner) can grant itself a role
  for (const who of [deployer, ...owners]) {
    assert.equal(await tl.hasRole(await tl.DEFAULT_ADMIN_ROLE(), who.address), false);
    assert.equal(await tl.hasRole(await tl.PROPOSER_ROLE(), who.address), false);
  }
  assert.equal(await rootReg.owner(), timelockAddr);
  assert.equal(await circuitReg.owner(), timelockAddr);
});

test('safe_tx_hash_computed_locally_matches_the_safe', async () => {
  const safe = new ethers.Contract(safeAddr, safeIface(), provider);
  const { chainId } = await provider.getNetwork();
  const tx = gov.safeTx({ to: timelockAddr, data: '0x1234', nonce: 7 });
  const onChain = await safe.getTransactionHash(tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas,
    tx.baseGas, tx.gasPrice, tx.gasToken, tx.refundReceiver, tx.nonce);
  assert.equal(gov.safeTxHash(chainId, safeAddr, tx), onChain);
});

test('registries_refuse_a_direct_call_by_anyone_even_a_safe_owner_or_the_safe', async () => {
  for (const who of [deployer, owners[0], outsider]) {
    await expectRevert(rootReg.connect(who).publishRoot(moha, 1, 5n, 0n), 'OwnableUnauthorizedAccount');
    await expectRevert(rootReg.connect(who).setGraceSeconds(0), 'OwnableUnauthorizedAccount');
    await expectRevert(circuitReg.connect(who).setCircuit(ethers.id('age_over_18'), rootReg.target, '1.0.0', true),
      'OwnableUnauthorizedAccount');
  }
  // the Safe itself (two owners signing) calling the registry directly: not the owner either,
  // so the Safe transaction reverts as a whole (GS013) and the Safe's nonce does not move
  const safe = new ethers.Contract(safeAddr, safeIface(), provider);
  const nonce = await safe.nonce();
  await expectRevert(gov.runThroughSafe(safeAddr, owners.slice(0, 2), {
    to: rootReg.target, data: rootReg.interface.encodeFunctionData('publishRoot', [moha, 1, 5n, 0n]),
  }), 'GS013');
  assert.equal(await safe.nonce(), nonce);
  assert.deepEqual([...(await rootReg.current(moha))], [0n, 0n, 0n]);
  // and a single owner cannot schedule on the timelock either: the Safe is the only proposer
  const tl = new ethers.Contract(timelockAddr, gov.timelockArtifact().abi, owners[0]);
  const op = gov.operation({ target: rootReg.target, data: rootReg.interface.encodeFunctionData('publishRoot', [moha, 1, 5n, 0n]) });
  await expectRevert(tl.schedule(op.target, op.value, op.data, op.predecessor, op.salt, MIN_DELAY),
    'AccessControlUnauthorizedAccount');
});

test('safe_refuses_a_transaction_with_one_owners_signature', async () => {
  const safe = new ethers.Contract(safeAddr, safeIface(), provider);
  const { chainId } = await provider.getNetwork();
  const op = gov.operation({ target: rootReg.target, data: rootReg.interface.encodeFunctionData('publishRoot', [moha, 1, 5n, 0n]) });
  const tx = gov.safeTx({ to: timelockAddr, data: gov.timelockCalldata.schedule(op, MIN_DELAY), nonce: await safe.nonce() });
  const one = await gov.signSafeTx(owners[0], chainId, safeAddr, tx);
  // one signature where the threshold needs two
  await expectRevert(gov.execSafeTx(owners[0], safeAddr, tx, [one]), 'GS020');
  // the same owner's signature twice does not count as two owners
  await expectRevert(gov.execSafeTx(owners[0], safeAddr, tx, [one, one]), 'GS026');
  // an outsider's signature is not an owner's
  const stranger = await gov.signSafeTx(outsider, chainId, safeAddr, tx);
  await expectRevert(gov.execSafeTx(owners[0], safeAddr, tx, [one, stranger]), 'GS026');
  // an owner's on-chain approval plus an outsider sending the transaction: still one owner
  const hash = gov.safeTxHash(chainId, safeAddr, tx);
  await gov.approveSafeTx(owners[1], safeAddr, hash);
  await expectRevert(gov.execSafeTx(outsider, safeAddr, tx, [gov.approvalSignature(owners[1].address)]), 'GS020');
  await expectRevert(gov.execSafeTx(outsider, safeAddr, tx,
    [gov.approvalSignature(owners[1].address), gov.approvalSignature(owners[2].address)]), 'GS025');
  assert.equal(await gov.operationState(provider, timelockAddr, op), gov.OperationState.Unset);
});

test('a_change_waits_for_the_delay_then_anyone_executes_it', async () => {
  const op = gov.operation({ target: rootReg.target, data: rootReg.interface.encodeFunctionData('publishRoot', [moha, 1, 11n, 0n]) });
  // a delay shorter than minDelay is refused (the Safe transaction reverts with the timelock's call)
  await expectRevert(gov.scheduleThroughSafe(safeAddr, owners.slice(0, 2), timelockAddr, op, MIN_DELAY - 1), 'GS013');
  // the on-chain approval flow (approveHash by one owner, a second owner sending) schedules it
  const safe = new ethers.Contract(safeAddr, safeIface(), provider);
  const { chainId } = await provider.getNetwork();
  const tx = gov.safeTx({ to: timelockAddr, data: gov.timelockCalldata.schedule(op, MIN_DELAY), nonce: await safe.nonce() });
  await gov.approveSafeTx(owners[2], safeAddr, gov.safeTxHash(chainId, safeAddr, tx));
  const scheduled = await gov.execSafeTx(owners[0], safeAddr, tx,
    [gov.approvalSignature(owners[2].address), gov.approvalSignature(owners[0].address)]);
  const scheduledAt = (await provider.getBlock(scheduled.blockNumber)).timestamp;
  assert.equal(await gov.operationState(provider, timelockAddr, op), gov.OperationState.Waiting);
  // before the delay: refused, by an outsider and by an owner alike
  await expectRevert(gov.executeOperation(outsider, timelockAddr, op), 'TimelockUnexpectedOperationState');
  await expectRevert(gov.executeOperation(owners[1], timelockAddr, op), 'TimelockUnexpectedOperationState');
  // one second before the delay ends the operation is still waiting (read at that mined block:
  // a transaction sent now would run in a later block, whose time anvil takes from the wall clock)
  await rpc('evm_setNextBlockTimestamp', [scheduledAt + MIN_DELAY - 1]);
  await rpc('evm_mine');
  const tl = new ethers.Contract(timelockAddr, gov.timelockArtifact().abi, provider);
  const atBlock = { blockTag: await provider.getBlockNumber() };
  assert.equal(await tl.getOperationState(gov.operationId(op), atBlock), gov.OperationState.Waiting);
  assert.deepEqual([...(await rootReg.current(moha))].slice(0, 2), [0n, 0n]);
  // after it (a mined block at or past scheduledAt + delay): anyone executes
  await increaseTime(1);
  assert.equal(await gov.operationState(provider, timelockAddr, op), gov.OperationState.Ready);
  const receipt = await gov.executeOperation(outsider, timelockAddr, op);
  const events = receipt.logs.filter((l) => l.address === rootReg.target).map((l) => rootReg.interface.parseLog(l));
  assert.equal(events.length, 1);
  assert.equal(events[0].name, 'RootPublished');
  assert.deepEqual([...events[0].args], [moha, 1n, 11n, 0n]);
  const [rootNow, seqNow] = await rootReg.current(moha);
  assert.equal(rootNow, 11n);
  assert.equal(seqNow, 1n);
  assert.equal(await gov.operationState(provider, timelockAddr, op), gov.OperationState.Done);
  // done once: executing again is refused
  await expectRevert(gov.executeOperation(outsider, timelockAddr, op), 'TimelockUnexpectedOperationState');
});

test('a_cancelled_proposal_never_executes', async () => {
  const op = gov.operation({
    target: circuitReg.target,
    data: circuitReg.interface.encodeFunctionData('setCircuit', [ethers.id('age_over_18'), rootReg.target, '9.9.9', true]),
    salt: ethers.id('cancelled'),
  });
  await gov.scheduleThroughSafe(safeAddr, owners.slice(1, 3), timelockAddr, op, MIN_DELAY);
  assert.equal(await gov.operationState(provider, timelockAddr, op), gov.OperationState.Waiting);
  // one owner alone cannot cancel (only the Safe is a canceller) ...
  const tl = new ethers.Contract(timelockAddr, gov.timelockArtifact().abi, owners[0]);
  await expectRevert(tl.cancel(gov.operationId(op)), 'AccessControlUnauthorizedAccount');
  // ... two through the Safe can
  await gov.cancelThroughSafe(safeAddr, [owners[0], owners[2]], timelockAddr, op);
  assert.equal(await gov.operationState(provider, timelockAddr, op), gov.OperationState.Unset);
  await increaseTime(MIN_DELAY * 2);
  await expectRevert(gov.executeOperation(outsider, timelockAddr, op), 'TimelockUnexpectedOperationState');
  assert.deepEqual([...(await circuitReg.circuit(ethers.id('age_over_18'), '9.9.9'))], [ethers.ZeroAddress, false]);
});

test('grace_change_through_the_timelock', async () => {
  const op = gov.operation({ target: rootReg.target, data: rootReg.interface.encodeFunctionData('setGraceSeconds', [60]) });
  await gov.scheduleThroughSafe(safeAddr, owners.slice(0, 2), timelockAddr, op, MIN_DELAY);
  await increaseTime(MIN_DELAY);
  await gov.executeOperation(outsider, timelockAddr, op);
  assert.equal(await rootReg.graceSeconds(), 60n);
});

// ---- the root registry's rules, on a registry owned by a plain account (the rules, not the
// governance, are under test here) --------------------------------------------------------------

async function freshRootRegistry() {
  return deploy(deployer, 'contracts/CredentialRootRegistry.sol:CredentialRootRegistry', [deployer.address]);
}

test('root_registry_follows_the_feed_chain_rules', async () => {
  const reg = await freshRootRegistry();
  assert.equal(await reg.graceSeconds(), 3600n);
  // the first root: seq 1, prevRoot 0
  await expectRevert(reg.publishRoot(moha, 2, 100n, 0n), 'SeqNotNext');
  await expectRevert(reg.publishRoot(moha, 0, 100n, 0n), 'SeqNotNext');
  await expectRevert(reg.publishRoot(moha, 1, 100n, 7n), 'PrevRootMismatch');
  await expectRevert(reg.publishRoot(moha, 1, 0n, 0n), 'RootZero');
  await expectRevert(reg.publishRoot(moha, 1, R, 0n), 'RootNotInField');
  const r1 = await gov.sendAndWait(reg.publishRoot(moha, 1, 100n, 0n));
  const ev = reg.interface.parseLog(r1.logs[0]);
  assert.equal(ev.name, 'RootPublished');
  assert.deepEqual([...ev.args], [moha, 1n, 100n, 0n]);
  assert.equal(r1.logs[0].topics[1], moha); // issuer is indexed
  const [root1, seq1, at1] = await reg.current(moha);
  assert.deepEqual([root1, seq1], [100n, 1n]);
  assert.equal(Number(at1), (await provider.getBlock(r1.blockNumber)).timestamp);
  // a gap, a wrong prev, the current root again
  await expectRevert(reg.publishRoot(moha, 3, 200n, 100n), 'SeqNotNext');
  await expectRevert(reg.publishRoot(moha, 1, 200n, 0n), 'SeqNotNext');
  await expectRevert(reg.publishRoot(moha, 2, 200n, 0n), 'PrevRootMismatch');
  await expectRevert(reg.publishRoot(moha, 2, 100n, 100n), 'RootAlreadySeen');
  await gov.sendAndWait(reg.publishRoot(moha, 2, 200n, 100n));
  // a replaced root never comes back (a revocation cannot be undone)
  await expectRevert(reg.publishRoot(moha, 3, 100n, 200n), 'RootAlreadySeen');
  await gov.sendAndWait(reg.publishRoot(moha, 3, R - 1n, 200n));
  assert.deepEqual([...(await reg.current(moha))].slice(0, 2), [R - 1n, 3n]);
  // issuers are independent: tu starts at seq 1 and may hold a root moha had
  assert.deepEqual([...(await reg.current(tu))], [0n, 0n, 0n]);
  await gov.sendAndWait(reg.publishRoot(tu, 1, 100n, 0n));
  assert.deepEqual([...(await reg.current(tu))].slice(0, 2), [100n, 1n]);
  assert.deepEqual([...(await reg.current(moha))].slice(0, 2), [R - 1n, 3n]);
});

test('root_registry_accepts_a_replaced_root_for_less_than_grace_seconds', async () => {
  const reg = await freshRootRegistry();
  await expectRevert(reg.setGraceSeconds(86401), 'GraceTooLong');
  const g = await gov.sendAndWait(reg.setGraceSeconds(100));
  const gev = reg.interface.parseLog(g.logs[0]);
  assert.equal(gev.name, 'GraceSecondsUpdated');
  assert.deepEqual([...gev.args], [3600n, 100n]);
  assert.equal(await reg.isAcceptedRoot(moha, 0n), false); // no root yet: 0 is not a root
  await gov.sendAndWait(reg.publishRoot(moha, 1, 100n, 0n));
  assert.equal(await reg.isAcceptedRoot(moha, 100n), true);
  assert.equal(await reg.isAcceptedRoot(moha, 999n), false);
  assert.equal(await reg.isAcceptedRoot(tu, 100n), false);
  const replaced = await gov.sendAndWait(reg.publishRoot(moha, 2, 200n, 100n));
  const t = (await provider.getBlock(replaced.blockNumber)).timestamp;
  assert.equal(await reg.isAcceptedRoot(moha, 200n), true);
  assert.equal(await reg.isAcceptedRoot(moha, 100n), true);
  // 99 s after the replacement: still accepted; 100 s: no longer
  // (read at the mined block: its timestamp is exact, a pending block's follows the wall clock)
  await rpc('evm_setNextBlockTimestamp', [t + 99]);
  await rpc('evm_mine');
  assert.equal(await reg.isAcceptedRoot(moha, 100n, { blockTag: await provider.getBlockNumber() }), true);
  await rpc('evm_setNextBlockTimestamp', [t + 100]);
  await rpc('evm_mine');
  const at100 = { blockTag: await provider.getBlockNumber() };
  assert.equal((await provider.getBlock(at100.blockTag)).timestamp, t + 100);
  assert.equal(await reg.isAcceptedRoot(moha, 100n, at100), false);
  assert.equal(await reg.isAcceptedRoot(moha, 200n, at100), true);
  // grace 0: a root is accepted only while it is current
  await gov.sendAndWait(reg.setGraceSeconds(0));
  await gov.sendAndWait(reg.publishRoot(moha, 3, 300n, 200n));
  assert.equal(await reg.isAcceptedRoot(moha, 200n), false);
  assert.equal(await reg.isAcceptedRoot(moha, 300n), true);
  // the maximum is the server's (root_grace_seconds at most 86400); raising the grace does not
  // bring back a root replaced under grace 0
  await gov.sendAndWait(reg.setGraceSeconds(86400));
  assert.equal(await reg.isAcceptedRoot(moha, 200n), false);
  assert.equal(await reg.isAcceptedRoot(moha, 100n), false);
  assert.equal(await reg.MAX_GRACE_SECONDS(), 86400n);
});

test('root_registry_keeps_the_grace_in_force_when_a_root_was_replaced', async () => {
  const reg = await freshRootRegistry();
  await gov.sendAndWait(reg.setGraceSeconds(100));
  await gov.sendAndWait(reg.publishRoot(moha, 1, 100n, 0n));
  const replaced = await gov.sendAndWait(reg.publishRoot(moha, 2, 200n, 100n));
  const t = (await provider.getBlock(replaced.blockNumber)).timestamp;
  const mineAt = async (ts) => {
    await rpc('evm_setNextBlockTimestamp', [ts]);
    await rpc('evm_mine');
    const blockTag = await provider.getBlockNumber();
    assert.equal((await provider.getBlock(blockTag)).timestamp, ts);
    return { blockTag };
  };
  // root 100's grace ends at t + 100; two hours on it is refused (a revocation in force)
  assert.equal(await reg.isAcceptedRoot(moha, 100n, await mineAt(t + 7200)), false);
  // the governance raises the grace to a day: root 100 stays refused, it got 100 s when replaced
  await gov.sendAndWait(reg.setGraceSeconds(86400));
  assert.equal(await reg.graceSeconds(), 86400n);
  assert.equal(await reg.isAcceptedRoot(moha, 100n, await mineAt(t + 7300)), false);
  // the next replacement gets the new grace, and a later, shorter grace does not cut it: 200 is
  // accepted 86399 s after its replacement, refused at 86400 s exactly
  const r3 = await gov.sendAndWait(reg.publishRoot(moha, 3, 300n, 200n));
  const t3 = (await provider.getBlock(r3.blockNumber)).timestamp;
  await gov.sendAndWait(reg.setGraceSeconds(0));
  assert.equal(await reg.isAcceptedRoot(moha, 200n, await mineAt(t3 + 86399)), true);
  const end = await mineAt(t3 + 86400);
  assert.equal(await reg.isAcceptedRoot(moha, 200n, end), false);
  assert.equal(await reg.isAcceptedRoot(moha, 100n, end), false);
  assert.equal(await reg.isAcceptedRoot(moha, 300n), true);
});

test('circuit_registry_records_verifiers_and_emits_circuit_updated', async () => {
  const reg = await deploy(deployer, 'contracts/CircuitRegistry.sol:CircuitRegistry', [deployer.address]);
  const iface = reg.interface;
  const age = ethers.id('age_over_18');
  const verifier = await freshRootRegistry(); // any contract stands in for a verifier here
  assert.deepEqual([...(await reg.circuit(age, '1.0.0'))], [ethers.ZeroAddress, false]);
  await expectRevert(reg.setCircuit(age, outsider.address, '1.0.0', true), 'VerifierNotContract');
  await expectRevert(reg.setCircuit(age, verifier.target, '', true), 'EmptySemver');
  const r = await gov.sendAndWait(reg.setCircuit(age, verifier.target, '1.0.0', true));
  const ev = iface.parseLog(r.logs[0]);
  assert.equal(ev.name, 'CircuitUpdated');
  assert.deepEqual([...ev.args], [age, verifier.target, '1.0.0', true]);
  assert.equal(r.logs[0].topics[1], age);
  assert.deepEqual([...(await reg.circuit(age, '1.0.0'))], [verifier.target, true]);
  assert.deepEqual([...(await reg.circuit(age, '1.0.1'))], [ethers.ZeroAddress, false]);
  assert.deepEqual([...(await reg.circuit(ethers.id('nepali_citizen'), '1.0.0'))], [ethers.ZeroAddress, false]);
  // disabling keeps the address for the record
  await gov.sendAndWait(reg.setCircuit(age, verifier.target, '1.0.0', false));
  assert.deepEqual([...(await reg.circuit(age, '1.0.0'))], [verifier.target, false]);
  // through the governance: the timelock-owned registry gets its circuit after the delay
  const op = gov.operation({ target: circuitReg.target, data: circuitReg.interface.encodeFunctionData('setCircuit', [age, verifier.target, '1.0.0', true]) });
  await gov.scheduleThroughSafe(safeAddr, [owners[2], owners[0]], timelockAddr, op, MIN_DELAY);
  await increaseTime(MIN_DELAY);
  const done = await gov.executeOperation(outsider, timelockAddr, op);
  assert.equal(done.logs.filter((l) => l.address === circuitReg.target).length, 1);
  assert.deepEqual([...(await circuitReg.circuit(age, '1.0.0'))], [verifier.target, true]);
});

test('governance_cli_deploys_a_safe_and_timelock_and_refuses_a_loose_key_file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-governance-'));
  try {
    const key = path.join(dir, 'deployer.key');
    fs.writeFileSync(key, devKeys[5], { mode: 0o600 });
    const out = path.join(dir, 'governance.json');
    const args = ['scripts/chain/governance.mjs', 'deploy', '--rpc-url', anvil.url, '--key-file', key,
      '--owners', owners.map((o) => o.address.toLowerCase()).join(','), '--min-delay', '120', '--out', out];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const g = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(g.chain_id, 31337);
    assert.equal(g.threshold, 2);
    assert.deepEqual(g.owners, owners.map((o) => o.address)); // checksummed on output
    const safe = new ethers.Contract(g.safe, safeIface(), provider);
    assert.equal(await safe.getThreshold(), 2n);
    const tl = new ethers.Contract(g.timelock, gov.timelockArtifact().abi, provider);
    assert.equal(await tl.getMinDelay(), 120n);
    assert.equal(await tl.hasRole(await tl.PROPOSER_ROLE(), g.safe), true);
    // malformed flags: exit 2 naming the flag
    const bad = (extra) => spawnSync(process.execPath, [...args, ...extra], { encoding: 'utf8' });
    const t = bad(['--threshold', '4']);
    assert.equal(t.status, 2);
    assert.match(t.stderr, /--threshold/);
    const d = bad(['--min-delay', '-1']);
    assert.equal(d.status, 2);
    assert.match(d.stderr, /--min-delay/);
    // plain http to a node that is not this machine's (as the proofgate chain commands)
    const plainArgs = [...args];
    plainArgs[plainArgs.indexOf('--rpc-url') + 1] = 'http://node.example:8545/v3/SECRETKEY';
    const p = spawnSync(process.execPath, plainArgs, { encoding: 'utf8' });
    assert.equal(p.status, 2);
    assert.equal(p.stderr, '--rpc-url: http:// is accepted only for a loopback host (127.0.0.0/8, ::1, localhost); use https:// for any other node\n');
    for (const ok of ['http://127.0.0.1:8545', 'http://[::1]:8545', 'http://localhost:1', 'https://node.example/v3/K']) {
      assert.equal(gov.rpcUrlProblem(ok), null, ok);
    }
    for (const no of ['http://128.0.0.1', 'http://[::2]:1', 'http://anvil:8545', 'http://localhost.example', 'ftp://127.0.0.1']) {
      assert.notEqual(gov.rpcUrlProblem(no), null, no);
    }
    // a key file readable by others is refused, and the key is not printed
    fs.chmodSync(key, 0o644);
    const loose = spawnSync(process.execPath, args, { encoding: 'utf8' });
    assert.equal(loose.status, 1);
    assert.match(loose.stderr, /readable by group or others/);
    assert.doesNotMatch(loose.stderr, new RegExp(devKeys[5].slice(2, 20)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
