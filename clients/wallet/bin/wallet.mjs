#!/usr/bin/env node
// The holder wallet's command line:
//   init  --out HOLDER.json                      a new holder (secret and commitment), mode 0600
//   prove --holder H --credential C --request R [--artifacts DIR]
//         prints exactly the JSON body of POST /api/v1/verify for the request R (what the
//         partner's QR code carries: nonce, verifier_domain, claim_type, circuit_version, params)
import fs from 'node:fs';

import path from 'node:path';

import { newHolder } from '../src/holder.mjs';
import { prove } from '../src/prove.mjs';

const usage = 'usage: wallet.mjs init --out HOLDER.json | prove --holder H --credential C --request R [--artifacts DIR]';

function option(args, name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function readJson(file, what) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${what}: cannot read ${file}: ${err.message}`);
  }
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === 'init') {
    const i = rest.indexOf('--out');
    if (i < 0 || !rest[i + 1]) throw new Error(`init: --out is required (${usage})`);
    const out = rest[i + 1];
    if (fs.existsSync(out)) throw new Error(`init: ${out} exists; refusing to overwrite a holder secret`);
    const holder = await newHolder();
    fs.writeFileSync(out, `${JSON.stringify(holder, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    console.log(JSON.stringify({ holder: out, commitment: holder.commitment }));
    return 0;
  }
  if (command === 'prove') {
    const holderFile = option(rest, '--holder');
    const credentialFile = option(rest, '--credential');
    const requestFile = option(rest, '--request');
    if (!holderFile || !credentialFile || !requestFile) throw new Error(`prove: ${usage}`);
    const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
    const artifacts = option(rest, '--artifacts') ?? path.join(repo, 'artifacts');
    const body = await prove(artifacts, readJson(holderFile, 'holder'),
      readJson(credentialFile, 'credential'), readJson(requestFile, 'request'));
    console.log(JSON.stringify(body));
    await globalThis.curve_bn128?.terminate();
    return 0;
  }
  throw new Error(usage);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err.message);
    process.exit(2);
  },
);
