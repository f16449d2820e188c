// `proofgate chain deploy` and `chain status` on a real anvil, with the governance the test deploys
// (a Safe 2-of-3 proposing to a TimelockController, scripts/chain/governance.mjs): every circuit
// version of the artifacts gets a verifier registered in the CircuitRegistry, both registries end
// owned by the timelock, and bad inputs are refused before any transaction with clear errors.
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//        node --test tests/chain/deploy_test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ethers } from 'ethers';
import { startAnvil, devKeys } from './anvil.mjs';
import * as gov from '../../scripts/chain/governance.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifactsDir = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !artifactsDir) throw new Error('set PROOFGATE_BIN and PROOFGATE_ARTIFACTS');
const solcjs = path.resolve('node_modules/.bin/solcjs');

const registryAbi = [
  'function owner() view returns (address)',
  'function circuit(bytes32 claimKey, string semver) view returns (address verifier, bool enabled)',
  'function graceSeconds() view returns (uint64)',
  'function current(bytes32 issuer) view returns (uint256 root, uint64 seq, uint64 publishedAt)',
];

let anvil;
let provider;
let deployer;
let dir;
let keyFile;
let safeAddr;
let timelockAddr;
let deployment; // the parsed file of the successful deploy
let deploymentFile;
let governanceSigner; // deploys the refused governances of the F4 tests

function proofgate(args) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 240000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function deployArgs(overrides = {}) {
  const o = {
    '--rpc-url': anvil.url, '--key-file': keyFile, '--artifacts': artifactsDir, '--safe': safeAddr,
    '--timelock': timelockAddr, '--out': path.join(dir, `unused-${crypto.randomUUID()}.json`), '--solc': solcjs,
    '--node-modules': path.resolve('node_modules'), '--chain-id': '31337', '--min-delay-seconds': '60', ...overrides,
  };
  const args = ['chain', 'deploy', '--insecure-development-keys'];
  for (const [k, v] of Object.entries(o)) if (v !== null) args.push(k, v);
  return args;
}

/// The versions of the artifacts directory: [claim_type, version] for each manifest.json.
function artifactVersions() {
  const out = [];
  for (const claim of fs.readdirSync(artifactsDir).filter((n) => !n.startsWith('_')).sort()) {
    const claimDir = path.join(artifactsDir, claim);
    if (!fs.statSync(claimDir).isDirectory()) continue;
    for (const version of fs.readdirSync(claimDir).sort()) {
      if (fs.existsSync(path.join(claimDir, version, 'manifest.json'))) out.push([claim, version]);
    }
  }
  return out;
}

before(async () => {
  anvil = await startAnvil();
  provider = await gov.connect(anvil.url);
  deployer = new ethers.Wallet(devKeys[0], provider);
  const owners = devKeys.slice(1, 4).map((k) => new ethers.Wallet(k).address);
  governanceSigner = new ethers.Wallet(devKeys[4], provider);
  const g = await gov.deployGovernance(governanceSigner, { owners, threshold: 2, minDelay: 60 });
  safeAddr = await g.safe.getAddress();
  timelockAddr = await g.timelock.getAddress();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-chain-deploy-'));
  keyFile = path.join(dir, 'deployer.key');
  fs.writeFileSync(keyFile, devKeys[0] + '\n', { mode: 0o600 });
  deploymentFile = path.join(dir, 'deployment.json');
});

after(async () => {
  provider?.destroy();
  await anvil?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('deploy_registers_every_version_and_hands_both_registries_to_the_timelock', async () => {
  // Lowercase addresses on input are accepted (EIP-55 only binds mixed case).
  const r = proofgate(deployArgs({ '--out': deploymentFile, '--grace-seconds': '120', '--chain-id': '31337',
    '--timelock': timelockAddr.toLowerCase() }));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.statSync(deploymentFile).mode & 0o777, 0o644);
  deployment = JSON.parse(fs.readFileSync(deploymentFile, 'utf8'));
  assert.equal(deployment.chain_id, 31337);
  assert.equal(deployment.safe, safeAddr);
  assert.equal(deployment.timelock, timelockAddr);
  for (const a of [deployment.circuit_registry, deployment.root_registry]) assert.equal(ethers.getAddress(a), a);
  assert.ok(deployment.deployed_block > 0);

  const expected = artifactVersions();
  assert.ok(expected.length >= 1);
  assert.deepEqual(deployment.verifiers.map((v) => [v.claim_type, v.version]), expected);

  const circuits = new ethers.Contract(deployment.circuit_registry, registryAbi, provider);
  const roots = new ethers.Contract(deployment.root_registry, registryAbi, provider);
  for (const v of deployment.verifiers) {
    assert.equal(ethers.getAddress(v.address), v.address);
    assert.notEqual(await provider.getCode(v.address), '0x', `${v.claim_type} ${v.version} has no code`);
    const [verifier, enabled] = await circuits.circuit(ethers.id(v.claim_type), v.version);
    assert.equal(verifier, v.address);
    assert.equal(enabled, true);
    const vkeyBytes = fs.readFileSync(path.join(artifactsDir, v.claim_type, v.version, 'verification_key.json'));
    assert.equal(v.vkey_sha256, crypto.createHash('sha256').update(vkeyBytes).digest('hex'));
    assert.equal(v.public_inputs, JSON.parse(vkeyBytes).nPublic);
  }
  assert.equal(await circuits.owner(), timelockAddr);
  assert.equal(await roots.owner(), timelockAddr);
  assert.equal(await roots.graceSeconds(), 120n);
  // The deployer keeps no power over the registries.
  const asDeployer = new ethers.Contract(deployment.circuit_registry,
    ['function setCircuit(bytes32,address,string,bool)'], deployer);
  await assert.rejects(asDeployer.setCircuit.staticCall(ethers.id('age_over_18'), ethers.ZeroAddress, '9.9.9', false));
});

test('status_reports_the_deployment_and_exits_0', () => {
  assert.ok(deployment, 'needs the deployment of the first test');
  const text = proofgate(['chain', 'status', '--rpc-url', anvil.url, '--deployment', deploymentFile,
    '--min-delay-seconds', '60']);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.match(text.stdout, new RegExp(`circuit_registry ${deployment.circuit_registry} owner ${timelockAddr} \\(the timelock\\)`));
  assert.match(text.stdout, /grace_seconds 120/);
  assert.match(text.stdout, /governance min_delay 60 s, safe 2 of 3 owners\n/);
  for (const v of deployment.verifiers) {
    assert.ok(text.stdout.includes(`verifier ${v.claim_type} ${v.version} ${v.address} registered enabled`), text.stdout);
  }
  const j = proofgate(['chain', 'status', '--rpc-url', anvil.url, '--deployment', deploymentFile, '--json',
    '--issuer', 'moha', '--issuer', 'tu', '--min-delay-seconds', '60']);
  assert.equal(j.code, 0, j.stderr);
  const s = JSON.parse(j.stdout);
  assert.equal(s.ok, true);
  assert.deepEqual(s.problems, []);
  assert.deepEqual([s.governance.min_delay, s.governance.threshold, s.governance.owners.length, s.governance.ok], [60, 2, 3, true]);
  assert.equal(s.contracts.root_registry.owned_by_timelock, true);
  // The default floor is a day: the test's 60 s timelock is then a PROBLEM.
  const day = proofgate(['chain', 'status', '--rpc-url', anvil.url, '--deployment', deploymentFile]);
  assert.equal(day.code, 1, day.stdout + day.stderr);
  assert.match(day.stdout, /PROBLEM: timelock 0x[0-9a-fA-F]{40}: getMinDelay\(\) is 60 s, below --min-delay-seconds 86400/);
  assert.deepEqual(s.roots.map((r) => [r.issuer, r.seq, r.root]), [['moha', 0, '0'], ['tu', 0, '0']]);
  assert.equal(s.verifiers.length, deployment.verifiers.length);
  assert.ok(s.verifiers.every((v) => v.has_code && v.registered && v.enabled));
});

test('status_exits_1_when_something_in_the_file_is_not_on_chain', () => {
  assert.ok(deployment, 'needs the deployment of the first test');
  const broken = structuredClone(deployment);
  const stranger = ethers.Wallet.createRandom().address;
  broken.verifiers[0].address = stranger;
  const file = path.join(dir, 'broken.json');
  fs.writeFileSync(file, JSON.stringify(broken));
  const r = proofgate(['chain', 'status', '--rpc-url', anvil.url, '--deployment', file, '--json', '--min-delay-seconds', '60']);
  assert.equal(r.code, 1, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.ok, false);
  assert.ok(s.problems.some((p) => p.includes(stranger) && p.includes('no contract code')), s.problems.join('\n'));
  assert.ok(s.problems.some((p) => p.includes('the CircuitRegistry names')), s.problems.join('\n'));

  const otherChain = { ...deployment, chain_id: 1 };
  fs.writeFileSync(file, JSON.stringify(otherChain));
  const c = proofgate(['chain', 'status', '--rpc-url', anvil.url, '--deployment', file, '--min-delay-seconds', '60']);
  assert.equal(c.code, 1);
  assert.match(c.stdout, /the node is chain 31337, the deployment is on chain 1/);

  fs.writeFileSync(file, '{"chain_id": 31337}');
  const bad = proofgate(['chain', 'status', '--rpc-url', anvil.url, '--deployment', file]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /circuit_registry: is missing/);
});

/// Runs a deploy that must be refused before sending anything: the deployer's nonce is unchanged.
async function refusedBeforeSending(overrides, code, pattern) {
  const nonce = await provider.getTransactionCount(deployer.address);
  const r = proofgate(deployArgs(overrides));
  assert.equal(r.code, code, r.stdout + r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(await provider.getTransactionCount(deployer.address), nonce, 'a transaction was sent');
  return r;
}

test('deploy_refuses_to_overwrite_an_existing_deployment_file', async () => {
  const before = fs.readFileSync(deploymentFile, 'utf8');
  await refusedBeforeSending({ '--out': deploymentFile }, 2, /exists already; a deployment file is never overwritten/);
  assert.equal(fs.readFileSync(deploymentFile, 'utf8'), before);
  await refusedBeforeSending({ '--out': path.join(dir, 'missing-dir', 'd.json') }, 2,
    /its directory does not exist or is not writable/);
});

test('deploy_refuses_a_key_file_others_can_read_without_printing_the_key', async () => {
  const loose = path.join(dir, 'loose.key');
  fs.writeFileSync(loose, devKeys[0] + '\n', { mode: 0o644 });
  fs.chmodSync(loose, 0o644);
  const r = await refusedBeforeSending({ '--key-file': loose }, 2, /has mode 0644; it must be readable by its owner only/);
  assert.ok(!(r.stdout + r.stderr).includes(devKeys[0].slice(2, 20)), 'the key was printed');
});

test('deploy_refuses_at_once_while_another_run_holds_the_key_lock', async () => {
  // flock(1) holds "<key-file>.lock" (flock(2), as a running deploy or publish-roots does) while
  // it runs the second deploy.
  const nonce = await provider.getTransactionCount(deployer.address);
  const r = spawnSync('flock', ['-n', `${keyFile}.lock`, bin, ...deployArgs()], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(r.stderr, `chain deploy: --key-file: another run holds ${keyFile}.lock\n`);
  assert.equal(await provider.getTransactionCount(deployer.address), nonce, 'a transaction was sent');
  assert.equal((fs.statSync(`${keyFile}.lock`).mode & 0o777).toString(8), '600'); // made by the first deploy
});

test('deploy_refuses_the_wrong_chain_and_an_unreachable_node', async () => {
  await refusedBeforeSending({ '--chain-id': '1337' }, 1, /--chain-id: the node at .* is chain 31337, not 1337/);
  // plain http only to a loopback node, and the URL (a provider's key in its path) never printed
  const plain = await refusedBeforeSending({ '--rpc-url': 'http://node.example:8545/v3/SECRETKEY' }, 2,
    /^chain deploy: --rpc-url: http:\/\/ is accepted only for a loopback host \(127\.0\.0\.0\/8, ::1, localhost\); use https:\/\/ for any other node\n$/);
  assert.doesNotMatch(plain.stderr, /SECRETKEY/);
  const r = proofgate(deployArgs({ '--rpc-url': 'http://127.0.0.1:1' }));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /eth_chainId: connection refused/);
  // A timelock address with no contract on this chain (another chain's, or a typo).
  await refusedBeforeSending({ '--timelock': ethers.Wallet.createRandom().address }, 1, /--timelock: no contract at 0x[0-9a-fA-F]{40} on chain 31337/);
});

test('deploy_refuses_development_keys_unless_the_chain_id_is_a_local_dev_chain', async () => {
  // Refused before any RPC call: an unreachable node changes nothing, and no transaction is sent.
  for (const chainId of ['1', '11155111', '137', '31338']) {
    for (const rpcUrl of [anvil.url, 'http://127.0.0.1:1']) {
      const nonce = await provider.getTransactionCount(deployer.address);
      const r = proofgate(deployArgs({ '--chain-id': chainId, '--rpc-url': rpcUrl }));
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stderr, `chain deploy: --insecure-development-keys: refused on chain ${chainId}: `
        + 'only on a local development chain (--chain-id 31337 or 1337)\n');
      assert.equal(await provider.getTransactionCount(deployer.address), nonce, 'a transaction was sent');
    }
  }
});

test('deploy_with_the_data_dir_skips_versions_the_server_does_not_verify', async () => {
  const versions = artifactVersions();
  const [claim, version] = versions[0];
  const dataDir = path.join(dir, 'data');
  const disabled = proofgate(['admin', 'set-circuit', '--data-dir', dataDir, '--claim-type', claim,
    '--version', version, '--enabled', 'false']);
  assert.equal(disabled.code, 0, disabled.stderr);
  const out = path.join(dir, 'narrowed.json');
  const r = proofgate(deployArgs({ '--out': out, '--data-dir': dataDir }));
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual(d.verifiers.map((v) => [v.claim_type, v.version]), versions.slice(1));
  await refusedBeforeSending({ '--data-dir': path.join(dir, 'no-such-data-dir') }, 2, /is not a directory/);
});

test('deploy_refuses_bad_addresses_and_a_failing_compiler', async () => {
  const typo = safeAddr.slice(0, -1) + (safeAddr.at(-1) === 'a' ? 'A' : safeAddr.at(-1) === 'A' ? 'a' : 'a');
  if (typo !== safeAddr && /[a-f]/.test(typo) && /[A-F]/.test(typo)) {
    await refusedBeforeSending({ '--safe': typo }, 2, /--safe: mixed-case address with a wrong EIP-55 checksum/);
  }
  await refusedBeforeSending({ '--timelock': '0x1234' }, 2, /--timelock: an address is 0x followed by 40 hex digits/);
  await refusedBeforeSending({ '--solc': '/bin/false' }, 2, /--solc \/bin\/false: exited with status 1/);
  await refusedBeforeSending({ '--artifacts': path.join(dir, 'nothing-here') }, 2, /no circuit version to deploy/);
});

/// A Safe and a timelock as options say (scripts/chain/governance.mjs), for the refused cases.
async function governance({ owners = 3, threshold = 2, minDelay = 60, proposers, admin } = {}) {
  const ownerAddrs = devKeys.slice(1, 1 + owners).map((k) => new ethers.Wallet(k).address);
  const s = await gov.deploySafe(governanceSigner, { owners: ownerAddrs, threshold });
  const safe = await s.safe.getAddress();
  const t = await gov.deployTimelock(governanceSigner, {
    minDelay, proposers: proposers ? proposers(safe) : [safe], admin: admin ?? ethers.ZeroAddress });
  return { '--safe': safe, '--timelock': await t.getAddress() };
}

test('deploy_refuses_a_timelock_the_deployer_administers_or_proposes_to', async () => {
  const administered = await governance({ admin: deployer.address });
  await refusedBeforeSending(administered, 1, /timelock 0x[0-9a-fA-F]{40}: 0x[0-9a-fA-F]{40} holds DEFAULT_ADMIN_ROLE/);
  const extraProposer = await governance({ proposers: (safe) => [safe, deployer.address] });
  const r = await refusedBeforeSending(extraProposer, 1, /holds PROPOSER_ROLE/);
  assert.match(r.stderr, /holds CANCELLER_ROLE/);
  assert.match(r.stderr, /governance: refused; nothing was sent/);
  const notSafe = await governance({ proposers: () => [deployer.address] });
  await refusedBeforeSending(notSafe, 1, /the safe 0x[0-9a-fA-F]{40} does not hold PROPOSER_ROLE/);
});

test('deploy_refuses_a_short_delay_and_a_one_signature_safe', async () => {
  const zeroDelay = await governance({ minDelay: 0 });
  await refusedBeforeSending(zeroDelay, 1, /getMinDelay\(\) is 0 s, below --min-delay-seconds 60/);
  // The default floor is a day.
  await refusedBeforeSending({ '--min-delay-seconds': null }, 1, /getMinDelay\(\) is 60 s, below --min-delay-seconds 86400/);
  const oneOfThree = await governance({ threshold: 1 });
  await refusedBeforeSending(oneOfThree, 1, /safe 0x[0-9a-fA-F]{40}: getThreshold\(\) is 1; at least 2 signatures are required/);
});

test('deploy_requires_the_chain_id_and_caps_the_fee', async () => {
  const missing = await refusedBeforeSending({ '--chain-id': null }, 2, /--chain-id is required/);
  assert.match(missing.stderr, /usage:/);
  // anvil suggests about 1 gwei: a cap of 1000 wei is refused before signing the first transaction.
  await refusedBeforeSending({ '--max-fee-gwei': '0.000001' }, 1,
    /deploy verifier .*: the node suggests .* wei per gas, above the cap of 1000 wei \(--max-fee-gwei\); nothing signed/);
  await refusedBeforeSending({ '--max-fee-gwei': '0' }, 2, /--max-fee-gwei: a positive number of gwei/);
  await refusedBeforeSending({ '--max-fee-gwei': '1.0000000001' }, 2, /--max-fee-gwei: a positive number of gwei/);
});
