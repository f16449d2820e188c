// Helpers shared by the verifier contract's tests and its gas benchmark: our verifier from
// `proofgate chain verifier`, snarkjs's from its own template, deployment on anvil, a wallet proof
// for a claim type, proofs as verifyProof calldata, and the EVM gas floor of a verify transaction.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ejs from 'ejs';
import { ethers } from 'ethers';
import * as snarkjs from 'snarkjs';

import { compile } from './solc.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/// Our contract's source for a verification_key.json path (the binary's stdout). `manifest`: the
/// circuit's manifest.json, whose small public inputs get tables; `smallInputs`: ['I:BITS', ...].
export function ourVerifierSource(bin, vkeyPath, name, { manifest, smallInputs = [] } = {}) {
  const args = ['chain', 'verifier', '--vkey', vkeyPath, '--name', name];
  if (manifest) args.push('--manifest', manifest);
  for (const s of smallInputs) args.push('--small-input', s);
  return execFileSync(bin, args, { encoding: 'utf8' });
}

/// snarkjs's Groth16 verifier for a parsed verification key: its template from node_modules
/// rendered as snarkjs.zKey.exportSolidityVerifier does (that function takes a zkey; the e2e
/// circuits have only the key), contract renamed to `name`.
export function snarkjsVerifierSource(vkey, name) {
  const template = fs.readFileSync(path.join(root, 'node_modules/snarkjs/templates/verifier_groth16.sol.ejs'), 'utf8');
  return ejs.render(template, vkey).replace('contract Groth16Verifier', `contract ${name}`);
}

/// Compiles `source` and deploys contract `name` with `signer`; returns the ethers Contract.
export async function deploy(signer, source, name, options = {}) {
  const out = compile({ [`${name}.sol`]: source }, options);
  const c = out[`${name}.sol:${name}`];
  const factory = new ethers.ContractFactory(c.abi, c.bytecode, signer);
  const contract = await factory.deploy();
  await contract.waitForDeployment();
  return contract;
}

const kVerifyAbi = (n) => [`function verifyProof(uint256[2] a, uint256[2][2] b, uint256[2] c, uint256[${n}] pubSignals) view returns (bool)`];

/// verifyProof calldata for numbers as given (bigints, any value below 2^256): a, b (snarkjs's
/// [[x.c1, x.c0], [y.c1, y.c0]]), c, publics.
export function calldata({ a, b, c, publics }) {
  return new ethers.Interface(kVerifyAbi(publics.length)).encodeFunctionData('verifyProof', [a, b, c, publics]);
}

/// A snarkjs proof.json + public.json as calldata arguments (bigints); a point whose z is 0 (the
/// point at infinity in snarkjs's JSON) becomes EIP-196's encoding, zeros.
export function callArgs(proof, publics) {
  const g1 = (p) => (BigInt(p[2]) === 0n ? [0n, 0n] : [BigInt(p[0]), BigInt(p[1])]);
  const g2 = (p) => (BigInt(p[2][0]) === 0n && BigInt(p[2][1]) === 0n
    ? [[0n, 0n], [0n, 0n]]
    : [[BigInt(p[0][1]), BigInt(p[0][0])], [BigInt(p[1][1]), BigInt(p[1][0])]]);
  return { a: g1(proof.pi_a), b: g2(proof.pi_b), c: g1(proof.pi_c), publics: publics.map(BigInt) };
}

/// eth_call of raw calldata: true/false as the contract answers, or 'revert'.
export async function callVerifier(provider, address, data) {
  try {
    const out = await provider.call({ to: address, data });
    if (out === '0x' + '0'.repeat(63) + '1') return true;
    if (out === '0x' + '0'.repeat(64)) return false;
    return `unexpected return ${out}`;
  } catch {
    return 'revert';
  }
}

/// Calldata gas as the yellow paper prices it (EIP-2028): 16 per non-zero byte, 4 per zero byte.
export function calldataGas(data) {
  const bytes = ethers.getBytes(data);
  let gas = 0;
  for (const x of bytes) gas += x === 0 ? 4 : 16;
  return gas;
}

/// The EVM floor of a verify transaction: 21000 (transaction) + 45000 + 4·34000 (EIP-1108 pairing,
/// four pairs) + 6150 per public input (EIP-1108 ecMul 6000 + ecAdd 150) + calldata gas.
export function gasFloor(publicCount, data) {
  return 21000 + 45000 + 4 * 34000 + 6150 * publicCount + calldataGas(data);
}

// Demo credentials, one per claim type (the wallet's test, clients/wallet/test/prove.test.mjs).
export const kDemoClaims = {
  age_over_18: { issuer: 1, schema: 1, attributes: { birth_date: 20000101, country: 524 }, params: { today: 20261126 } },
  citizenship: { issuer: 1, schema: 1, attributes: { birth_date: 19900615, country: 524 }, params: { today: 20261126 } },
  education: { issuer: 2, schema: 2, attributes: { degree_level: 6, graduation_year: 2020, institution_id: 17 }, params: { today: 20261126, min_level: 6 } },
  income_gte: { issuer: 3, schema: 3, attributes: { annual_income_npr: 1200000, fiscal_year: 2081 }, params: { today: 20261126, threshold: 1200000, fiscal_year: 2081 } },
};

/// A wallet proof for `claim` (artifacts in `artifacts/<claim>/<version>`), as the wallet makes it:
/// a fresh holder, a demo credential in a four-leaf tree, a request from bank.example.
/// Returns {proof, publicSignals, manifest}.
export async function walletProof(artifacts, claim, version = '1.0.0') {
  const { newHolder } = await import('../../clients/wallet/src/holder.mjs');
  const { prove } = await import('../../clients/wallet/src/prove.mjs');
  const { buildTree, credentialLeaf } = await import('../../clients/wallet/src/tree.mjs');
  const c = kDemoClaims[claim];
  if (!c) throw new Error(`no demo credential for claim type ${claim}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(artifacts, claim, version, 'manifest.json'), 'utf8'));
  const holder = await newHolder();
  const expiry = 20301231;
  const leaf = await credentialLeaf(c.issuer, c.schema, holder.commitment, manifest.schema.attributes.map((a) => c.attributes[a]), expiry);
  const tree = await buildTree([11n, 22n, leaf, 33n]);
  const credential = { attributes: c.attributes, expiry, root: tree.root.toString(), ...tree.path(2) };
  const request = { nonce: 'q2Xn7y8mB0xK4pE1sT9wZa', verifier_domain: 'bank.example', claim_type: claim,
    circuit_version: version, params: c.params };
  const body = await prove(artifacts, holder, credential, request);
  return { proof: body.proof, publicSignals: body.public_signals, manifest };
}

/// walletProof in a child process, which exits once it has printed the proof: snarkjs's and the
/// wallet's worker threads would otherwise keep a test's process alive after its last test.
export function walletProofInChild(artifacts, claim, version = '1.0.0') {
  const script = `import { walletProof } from ${JSON.stringify(fileURLToPath(import.meta.url))};
const r = await walletProof(${JSON.stringify(artifacts)}, ${JSON.stringify(claim)}, ${JSON.stringify(version)});
process.stdout.write(JSON.stringify(r), () => process.exit(0));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 }));
}

/// snarkjs's contract for a claim circuit, from its zkey with snarkjs's own export.
export async function snarkjsVerifierFromZkey(zkeyPath, name) {
  const templates = { groth16: fs.readFileSync(path.join(root, 'node_modules/snarkjs/templates/verifier_groth16.sol.ejs'), 'utf8') };
  const source = await snarkjs.zKey.exportSolidityVerifier(zkeyPath, templates);
  return source.replace('contract Groth16Verifier', `contract ${name}`);
}
