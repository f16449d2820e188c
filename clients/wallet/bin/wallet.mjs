#!/usr/bin/env node
// The holder wallet's command line. `init` creates a holder (secret and commitment) in a JSON
// file readable only by its owner; `prove` arrives with the claim circuits.
import fs from 'node:fs';

import { newHolder } from '../src/holder.mjs';

const usage = 'usage: wallet.mjs init --out HOLDER.json';

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
  throw new Error(usage);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err.message);
    process.exit(2);
  },
);
