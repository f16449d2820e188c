#!/usr/bin/env node
// Bundles the wallet's browser entry (src/browser.mjs) into one ES module for browsers, with
// esbuild: snarkjs from its browser build, and of circomlibjs only Poseidon (its package entry
// pulls in ethers, blake-hash and Node's buffer/stream, none of which the wallet uses).
// Build output, not committed: the browser test (tests/browser/) makes it at test time.
//   node clients/wallet/scripts/bundle.mjs OUT.mjs
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, '..', 'src', 'browser.mjs');

// The wallet imports only buildPoseidon from circomlibjs; resolve it to the module defining it.
const circomlibjsPoseidon = {
  name: 'circomlibjs-poseidon',
  setup(build) {
    build.onResolve({ filter: /^circomlibjs$/ }, () => {
      const main = createRequire(entry).resolve('circomlibjs'); // <pkg>/build/main.cjs
      return { path: path.join(path.dirname(main), '..', 'src', 'poseidon_wasm.js') };
    });
  },
};

/**
 * Writes the browser bundle to `outfile` (an ES module exporting what src/browser.mjs exports)
 * and resolves with its size in bytes. Throws with esbuild's messages when bundling fails.
 */
export async function bundleWallet(outfile) {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    plugins: [circomlibjsPoseidon],
  });
  return Object.values(result.metafile.outputs)[0].bytes;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: bundle.mjs OUT.mjs');
    process.exit(2);
  }
  bundleWallet(path.resolve(out)).then(
    (bytes) => console.log(JSON.stringify({ bundle: path.resolve(out), bytes })),
    (err) => {
      console.error(err.message);
      process.exit(2);
    },
  );
}
