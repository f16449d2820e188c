#!/usr/bin/env node
// Bundles the issuer node's operator console (src/main.jsx with Preact) into OUT_DIR/app.js and
// OUT_DIR/app.css with esbuild, and copies index.html beside them. The build
// (src/http/CMakeLists.txt) runs it and embeds the three files in the binary, served by
// `proofgate issuer serve` under /issuer/console.
//   node clients/issuer-console/scripts/bundle.mjs OUT_DIR
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');

export async function bundleIssuerConsole(outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: { app: path.join(root, 'src', 'main.jsx') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'error',
  });
  fs.copyFileSync(path.join(root, 'index.html'), path.join(outDir, 'index.html'));
  for (const f of ['app.js', 'app.css', 'index.html']) {
    if (!fs.existsSync(path.join(outDir, f))) throw new Error(`bundle: ${f} was not written`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: node clients/issuer-console/scripts/bundle.mjs OUT_DIR');
    process.exit(2);
  }
  bundleIssuerConsole(outDir).catch((e) => {
    console.error(`issuer console bundle failed: ${e.message}`);
    process.exit(1);
  });
}
