#!/usr/bin/env node
// Bundles an operators' page (APP_DIR/src/main.jsx with Preact, and uPlot for the verifier's
// console) into OUT_DIR/app.js and OUT_DIR/app.css with esbuild, and copies APP_DIR/index.html
// beside them. The build (src/http/CMakeLists.txt) runs it for the verifier's console
// (clients/console, served under /console) and the issuer node's (clients/issuer-console, served
// by `proofgate issuer serve` under /issuer/console), and embeds the files in the binary.
//   node clients/console/scripts/bundle.mjs OUT_DIR [APP_DIR]   (APP_DIR: clients/console)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const consoleDir = path.join(here, '..');

export async function bundleConsole(outDir, root = consoleDir) {
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
  const [outDir, appDir] = process.argv.slice(2);
  if (!outDir) {
    console.error('usage: node clients/console/scripts/bundle.mjs OUT_DIR [APP_DIR]');
    process.exit(2);
  }
  bundleConsole(outDir, appDir ? path.resolve(appDir) : consoleDir).catch((e) => {
    console.error(`console bundle failed (${appDir ?? 'clients/console'}): ${e.message}`);
    process.exit(1);
  });
}
