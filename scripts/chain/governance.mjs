// Governance of the on-chain registries: a Safe 2-of-3 (the npm package's Safe 1.4.1 singleton and
// SafeProxyFactory artifacts, used as they are) proposing to an OpenZeppelin TimelockController
// whose executor role is open. Library for tests and tools, and a small CLI:
//   node scripts/chain/governance.mjs deploy --rpc-url URL --key-file FILE --owners A,B,C
//        [--threshold 2] --min-delay SECONDS [--out FILE]
// deploys both and prints (or writes) {"chain_id", "safe", "timelock", "safe_singleton",
// "safe_proxy_factory", "owners", "threshold", "min_delay"}.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { ethers } from 'ethers';
import { compile } from './solc.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const safeArtifacts = path.join(root, 'node_modules/@safe-global/safe-contracts/build/artifacts/contracts');

export const ZERO_HASH = ethers.ZeroHash;

/// The Safe 1.4.1 artifacts from npm: {abi, bytecode} of the singleton, the proxy factory and the
/// compatibility fallback handler (EIP-1271 and token callbacks for the Safe).
export function safeArtifact(name) {
  const file = {
    Safe: 'Safe.sol/Safe.json',
    SafeProxyFactory: 'proxies/SafeProxyFactory.sol/SafeProxyFactory.json',
    CompatibilityFallbackHandler: 'handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json',
  }[name];
  if (!file) throw new Error(`unknown Safe artifact ${name}`);
  const a = require(path.join(safeArtifacts, file));
  return { abi: a.abi, bytecode: a.bytecode };
}

let timelockCache = null;
/// OpenZeppelin's TimelockController compiled from node_modules with scripts/chain/solc.mjs.
export function timelockArtifact() {
  if (!timelockCache) {
    const out = compile({
      'Timelock.sol':
        '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n' +
        'import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";\n',
    });
    timelockCache = out['@openzeppelin/contracts/governance/TimelockController.sol:TimelockController'];
  }
  return timelockCache;
}

/// A provider that polls quickly (anvil mines at once) and never re-detects the network.
export async function connect(rpcUrl) {
  const probe = new ethers.JsonRpcProvider(rpcUrl);
  const network = await probe.getNetwork();
  probe.destroy();
  const provider = new ethers.JsonRpcProvider(rpcUrl, network, { staticNetwork: network, cacheTimeout: -1 });
  provider.pollingInterval = 50;
  return provider;
}

/// Sends a transaction and waits for its receipt; a reverted one throws with its hash.
export async function sendAndWait(txPromise) {
  const tx = await txPromise;
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`transaction ${tx.hash} reverted`);
  return receipt;
}

async function deployContract(signer, artifact, args = []) {
  const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, signer);
  const c = await factory.deploy(...args);
  await c.waitForDeployment();
  return c;
}

/// Deploys the Safe singleton, factory and fallback handler, then a Safe proxy with these owners
/// and threshold. Returns {safe (Contract bound to signer), singleton, factory, fallbackHandler}.
export async function deploySafe(signer, { owners, threshold = 2, saltNonce = 0n, infrastructure } = {}) {
  if (!owners || owners.length < threshold || threshold < 1) throw new Error('owners must number at least the threshold');
  const infra = infrastructure ?? {
    singleton: await deployContract(signer, safeArtifact('Safe')),
    factory: await deployContract(signer, safeArtifact('SafeProxyFactory')),
    fallbackHandler: await deployContract(signer, safeArtifact('CompatibilityFallbackHandler')),
  };
  const safeIface = new ethers.Interface(safeArtifact('Safe').abi);
  const initializer = safeIface.encodeFunctionData('setup', [
    owners, threshold, ethers.ZeroAddress, '0x', await infra.fallbackHandler.getAddress(),
    ethers.ZeroAddress, 0, ethers.ZeroAddress,
  ]);
  const receipt = await sendAndWait(
    infra.factory.createProxyWithNonce(await infra.singleton.getAddress(), initializer, saltNonce));
  let proxy = null;
  for (const log of receipt.logs) {
    try {
      const parsed = infra.factory.interface.parseLog(log);
      if (parsed?.name === 'ProxyCreation') proxy = parsed.args.proxy;
    } catch {
      // a log of the Safe's own setup (SafeSetup), not the factory's
    }
  }
  if (!proxy) throw new Error('SafeProxyFactory emitted no ProxyCreation');
  return { safe: new ethers.Contract(proxy, safeIface, signer), ...infra };
}

/// Deploys a TimelockController: minDelay seconds, the proposers (who are also cancellers, as
/// OpenZeppelin's constructor makes them), executors ([ZeroAddress] = anyone), admin ZeroAddress
/// (no one can grant roles afterwards; role changes go through the timelock itself).
export async function deployTimelock(signer, { minDelay, proposers, executors = [ethers.ZeroAddress], admin = ethers.ZeroAddress }) {
  return deployContract(signer, timelockArtifact(), [minDelay, proposers, executors, admin]);
}

/// The whole governance: a Safe (threshold of owners) proposing and cancelling on a timelock with
/// minDelay, anyone executing. Returns {safe, timelock, singleton, factory, fallbackHandler}.
export async function deployGovernance(signer, { owners, threshold = 2, minDelay }) {
  const s = await deploySafe(signer, { owners, threshold });
  const timelock = await deployTimelock(signer, { minDelay, proposers: [await s.safe.getAddress()] });
  return { ...s, timelock };
}

// ---- Safe transactions -------------------------------------------------------------------------

/// A Safe transaction with the refund fields zero (no gas refunds: the executor pays its own gas).
/// With safeTxGas 0 and gasPrice 0 the Safe reverts the whole execTransaction when the inner
/// call fails (GS013), so a failed proposal leaves no trace and does not use the nonce.
export function safeTx({ to, data = '0x', value = 0n, operation = 0, nonce }) {
  return {
    to: ethers.getAddress(to), value: BigInt(value), data, operation,
    safeTxGas: 0n, baseGas: 0n, gasPrice: 0n, gasToken: ethers.ZeroAddress, refundReceiver: ethers.ZeroAddress,
    nonce: BigInt(nonce),
  };
}

const SAFE_TX_TYPES = {
  SafeTx: [
    { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'data', type: 'bytes' },
    { name: 'operation', type: 'uint8' }, { name: 'safeTxGas', type: 'uint256' }, { name: 'baseGas', type: 'uint256' },
    { name: 'gasPrice', type: 'uint256' }, { name: 'gasToken', type: 'address' }, { name: 'refundReceiver', type: 'address' },
    { name: 'nonce', type: 'uint256' },
  ],
};

/// The Safe 1.4.1 EIP-712 domain: chainId and the Safe's address only (no name, no version).
export function safeDomain(chainId, safeAddress) {
  return { chainId: BigInt(chainId), verifyingContract: ethers.getAddress(safeAddress) };
}

/// safeTxHash computed here (EIP-712); equal to the Safe's own getTransactionHash.
export function safeTxHash(chainId, safeAddress, tx) {
  return ethers.TypedDataEncoder.hash(safeDomain(chainId, safeAddress), SAFE_TX_TYPES, tx);
}

/// An owner's EIP-712 signature of the Safe transaction: {signer, data} (65 bytes r‖s‖v, v 27/28).
export async function signSafeTx(wallet, chainId, safeAddress, tx) {
  const sig = await wallet.signTypedData(safeDomain(chainId, safeAddress), SAFE_TX_TYPES, tx);
  return { signer: ethers.getAddress(await wallet.getAddress()), data: sig };
}

/// The "pre-approved" signature of an owner (v = 1, r = the owner): valid when that owner called
/// approveHash(safeTxHash) on the Safe, or is the account sending execTransaction.
export function approvalSignature(owner) {
  return {
    signer: ethers.getAddress(owner),
    data: ethers.concat([ethers.zeroPadValue(owner, 32), ZERO_HASH, '0x01']),
  };
}

/// An owner approves the Safe transaction on chain (Safe.approveHash); waits for the receipt.
export async function approveSafeTx(ownerSigner, safeAddress, hash) {
  const safe = new ethers.Contract(safeAddress, safeArtifact('Safe').abi, ownerSigner);
  return sendAndWait(safe.approveHash(hash));
}

/// The signatures field of execTransaction: each owner's 65 bytes, sorted by owner address
/// ascending as the Safe requires.
export function packSignatures(signatures) {
  const sorted = [...signatures].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  return ethers.concat(sorted.map((s) => s.data));
}

/// Executes the Safe transaction with the signatures collected; waits for the receipt.
export async function execSafeTx(sender, safeAddress, tx, signatures) {
  const safe = new ethers.Contract(safeAddress, safeArtifact('Safe').abi, sender);
  return sendAndWait(safe.execTransaction(
    tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas, tx.baseGas, tx.gasPrice, tx.gasToken,
    tx.refundReceiver, packSignatures(signatures)));
}

/// Builds the Safe transaction for a call at the Safe's current nonce, has each of `owners`
/// (ethers signers) sign it (EIP-712) and the first one execute it. Returns the receipt.
export async function runThroughSafe(safeAddress, owners, { to, data, value = 0n }) {
  const provider = owners[0].provider;
  const safe = new ethers.Contract(safeAddress, safeArtifact('Safe').abi, provider);
  const { chainId } = await provider.getNetwork();
  const tx = safeTx({ to, data, value, nonce: await safe.nonce() });
  const sigs = [];
  for (const o of owners) sigs.push(await signSafeTx(o, chainId, safeAddress, tx));
  return execSafeTx(owners[0], safeAddress, tx, sigs);
}

// ---- Timelock operations -----------------------------------------------------------------------

const timelockIface = () => new ethers.Interface(timelockArtifact().abi);

/// One timelock operation: a call to target with data; predecessor none unless given; salt
/// distinguishes otherwise equal operations.
export function operation({ target, data, value = 0n, predecessor = ZERO_HASH, salt = ZERO_HASH }) {
  return { target: ethers.getAddress(target), value: BigInt(value), data, predecessor, salt };
}

/// The operation's id, as TimelockController.hashOperation computes it.
export function operationId(op) {
  return ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(
    ['address', 'uint256', 'bytes', 'bytes32', 'bytes32'], [op.target, op.value, op.data, op.predecessor, op.salt]));
}

/// Calldata for the timelock: schedule (with delay), execute, cancel.
export const timelockCalldata = {
  schedule: (op, delay) => timelockIface().encodeFunctionData('schedule',
    [op.target, op.value, op.data, op.predecessor, op.salt, delay]),
  execute: (op) => timelockIface().encodeFunctionData('execute',
    [op.target, op.value, op.data, op.predecessor, op.salt]),
  cancel: (op) => timelockIface().encodeFunctionData('cancel', [operationId(op)]),
};

/// The Safe (signed by `owners`) schedules the operation on the timelock with `delay` seconds
/// (at least the timelock's minDelay). Returns the operation id.
export async function scheduleThroughSafe(safeAddress, owners, timelockAddress, op, delay) {
  await runThroughSafe(safeAddress, owners, { to: timelockAddress, data: timelockCalldata.schedule(op, delay) });
  return operationId(op);
}

/// The Safe (signed by `owners`) cancels a pending operation.
export async function cancelThroughSafe(safeAddress, owners, timelockAddress, op) {
  return runThroughSafe(safeAddress, owners, { to: timelockAddress, data: timelockCalldata.cancel(op) });
}

/// Anyone executes a ready operation (the executor role is open). Reverts before the delay.
export async function executeOperation(sender, timelockAddress, op) {
  const tl = new ethers.Contract(timelockAddress, timelockArtifact().abi, sender);
  return sendAndWait(tl.execute(op.target, op.value, op.data, op.predecessor, op.salt));
}

/// OpenZeppelin's OperationState: 0 Unset, 1 Waiting, 2 Ready, 3 Done.
export const OperationState = { Unset: 0n, Waiting: 1n, Ready: 2n, Done: 3n };

export async function operationState(provider, timelockAddress, op) {
  const tl = new ethers.Contract(timelockAddress, timelockArtifact().abi, provider);
  return tl.getOperationState(operationId(op));
}

// ---- CLI ---------------------------------------------------------------------------------------

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
    args[a.slice(2)] = v;
    i++;
  }
  return args;
}

/// The key file holds one hex private key (0x optional); it must not be readable by others.
export function readKeyFile(file) {
  const st = fs.statSync(file);
  if ((st.mode & 0o077) !== 0) throw new Error(`--key-file ${file} is readable by group or others (chmod 600)`);
  const text = fs.readFileSync(file, 'utf8').trim();
  const hex = text.startsWith('0x') ? text : `0x${text}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`--key-file ${file}: not a 32-byte hex private key`);
  return hex;
}

/// The proofgate chain commands' rule (src/chain/rpc_url.hpp): https anywhere, plain http only to
/// a loopback host (127.0.0.0/8, ::1, localhost). Returns the problem, or null.
export function rpcUrlProblem(text) {
  let u;
  try {
    u = new URL(text);
  } catch {
    return 'not a URL';
  }
  if (u.protocol === 'https:') return null;
  if (u.protocol !== 'http:') return 'http or https only';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (host === 'localhost' || host === '::1' || (v4 && v4.slice(1).every((o) => Number(o) <= 255))) return null;
  return 'http:// is accepted only for a loopback host (127.0.0.0/8, ::1, localhost); use https:// for any other node';
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd !== 'deploy') {
    console.error('usage: node scripts/chain/governance.mjs deploy --rpc-url URL --key-file FILE ' +
      '--owners A,B,C [--threshold 2] --min-delay SECONDS [--out FILE]');
    return 2;
  }
  let args;
  let owners;
  let threshold;
  let minDelay;
  try {
    args = parseArgs(rest);
    for (const k of ['rpc-url', 'key-file', 'owners', 'min-delay']) if (!args[k]) throw new Error(`--${k} is required`);
    const urlProblem = rpcUrlProblem(args['rpc-url']);
    if (urlProblem) throw new Error(`--rpc-url: ${urlProblem}`);
    owners = args.owners.split(',').map((o, i) => {
      try {
        return ethers.getAddress(o.trim());
      } catch {
        throw new Error(`--owners: item ${i + 1} is not an address`);
      }
    });
    if (new Set(owners).size !== owners.length) throw new Error('--owners: an owner is named twice');
    threshold = Number(args.threshold ?? 2);
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > owners.length) {
      throw new Error(`--threshold: a whole number from 1 to ${owners.length} (the owners)`);
    }
    minDelay = Number(args['min-delay']);
    if (!Number.isInteger(minDelay) || minDelay < 0) throw new Error('--min-delay: a whole number of seconds');
  } catch (e) {
    console.error(e.message);
    return 2;
  }
  const provider = await connect(args['rpc-url']);
  const signer = new ethers.NonceManager(new ethers.Wallet(readKeyFile(args['key-file']), provider));
  const g = await deployGovernance(signer, { owners, threshold, minDelay });
  const { chainId } = await provider.getNetwork();
  const out = {
    chain_id: Number(chainId), safe: await g.safe.getAddress(), timelock: await g.timelock.getAddress(),
    safe_singleton: await g.singleton.getAddress(), safe_proxy_factory: await g.factory.getAddress(),
    owners, threshold, min_delay: minDelay,
  };
  const text = JSON.stringify(out, null, 1) + '\n';
  if (args.out) fs.writeFileSync(args.out, text, { mode: 0o644 });
  else process.stdout.write(text);
  provider.destroy();
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    console.error(e.message ?? String(e));
    process.exit(1);
  });
}
