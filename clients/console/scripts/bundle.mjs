#!/usr/bin/env node
// Bundles the operators' console (src/main.jsx, Preact and uPlot) into OUT_DIR/app.js and
// OUT_DIR/app.css with esbuild, and copies index.html beside them. The build (src/http/CMakeLists.txt)
// runs it and embeds the three files in the binary, served under /console.
//   node clients/console/scripts/bundle.mjs OUT_DIR
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');

export async function bundleConsole(outDir) {
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
    console.error('usage: node clients/console/scripts/bundle.mjs OUT_DIR');
    process.exit(2);
  }
  bundleConsole(outDir).catch((e) => {
    console.error(`console bundle failed: ${e.message}`);
    process.exit(1);
  });
}
