// The wallet directory in Node (clients/wallet/README.md): DIR/holder.json and
// DIR/credentials/<issuer>-<leaf_index>.json, private (files 0600, directories 0700), each file
// written whole (a temporary file renamed over it) so a crash never leaves half a credential.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ISSUERS } from './enroll.mjs';
import { R, newHolder } from './holder.mjs';
import { poseidonHasher } from './tree.mjs';

const kDecimal = /^(0|[1-9][0-9]*)$/;

/** The wallet directory: `option`, else $PROOFGATE_WALLET, else ~/.proofgate-wallet. */
export function walletDir(option, env = process.env) {
  return option ?? (env.PROOFGATE_WALLET || path.join(os.homedir(), '.proofgate-wallet'));
}

/** Reads a JSON file; the error names `what` and the file. */
export function readJson(file, what) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${what}: cannot read ${file}: ${err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what}: ${file} is not JSON: ${err.message}`);
  }
}

/** Writes `value` as JSON to `file`, mode 0600, replacing it whole (temporary file + rename). */
export function writePrivateJson(file, value) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Checks a holder read from `file`: secret and commitment canonical decimals below r, the
 * secret nonzero, and commitment = Poseidon(secret) (a holder that fails it would enrol
 * credentials it can never prove with).
 */
export async function checkHolder(holder, file) {
  if (typeof holder !== 'object' || holder === null) throw new Error(`holder: ${file} does not hold a JSON object`);
  for (const name of ['secret', 'commitment']) {
    const v = holder[name];
    if (typeof v !== 'string' || !kDecimal.test(v) || BigInt(v) >= R) {
      throw new Error(`holder: ${file}: ${name} is not a decimal field element`);
    }
  }
  if (BigInt(holder.secret) === 0n) throw new Error(`holder: ${file}: the secret is 0`);
  const hash = await poseidonHasher();
  if (hash([holder.secret]).toString() !== holder.commitment) {
    throw new Error(`holder: ${file}: the commitment is not Poseidon(secret)`);
  }
  return holder;
}

/**
 * The holder of wallet `dir`: DIR/holder.json, created (0600, never overwritten) when missing.
 * Resolves with { holder, file, created }.
 */
export async function holderOf(dir) {
  const file = path.join(dir, 'holder.json');
  if (fs.existsSync(file)) return { holder: await checkHolder(readJson(file, 'holder'), file), file, created: false };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const holder = await newHolder();
  fs.writeFileSync(file, `${JSON.stringify(holder, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { holder, file, created: true };
}

/** Saves a checked credential as DIR/credentials/<issuer>-<leaf_index>.json; returns the file. */
export function saveCredential(dir, credential) {
  if (!Object.hasOwn(ISSUERS, credential.issuer) || !Number.isSafeInteger(credential.leaf_index)) {
    throw new Error(`not a checked credential: issuer ${JSON.stringify(credential.issuer)}, leaf_index ${credential.leaf_index}`);
  }
  const credentialsDir = path.join(dir, 'credentials');
  fs.mkdirSync(credentialsDir, { recursive: true, mode: 0o700 });
  const file = path.join(credentialsDir, `${credential.issuer}-${credential.leaf_index}.json`);
  writePrivateJson(file, credential);
  return file;
}

/** The credential files of wallet `dir` (DIR/credentials/*.json), sorted; none when it has none. */
export function credentialFiles(dir) {
  const credentialsDir = path.join(dir, 'credentials');
  if (!fs.existsSync(credentialsDir)) return [];
  return fs.readdirSync(credentialsDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => path.join(credentialsDir, name));
}
