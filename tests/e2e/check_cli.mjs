// Runs `proofgate verify` on every case of an end-to-end vector manifest (made by
// scripts/gen-e2e-vectors.mjs) and checks the CLI contract: exit 0 valid, 1 invalid, 2 malformed
// with exactly one stderr line naming the field; and that snarkjs agrees on valid/invalid cases.
//
// Usage: node tests/e2e/check_cli.mjs OUTDIR PROOFGATE_BINARY
// Prints one line per failure, then `N passed, N failed`; exits non-zero when any case failed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const kExitCode = { valid: 0, invalid: 1, malformed: 2 };
const kTimeoutMs = 60_000;

function run(binary, args) {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), kTimeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr, error: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/// Returns the list of problems with one case (empty when it passed).
async function checkCase(outDir, binary, tc) {
  const problems = [];
  const expectedCode = kExitCode[tc.expect];
  if (expectedCode === undefined) return [`unknown expectation "${tc.expect}"`];
  if (typeof tc.snarkjs === 'boolean' && tc.expect !== 'malformed' && tc.snarkjs !== (tc.expect === 'valid')) {
    problems.push(`snarkjs says ${tc.snarkjs} but the case expects ${tc.expect}`);
  }
  const file = (rel) => path.join(outDir, rel);
  const res = await run(binary, ['verify', '--vkey', file(tc.vkey), '--proof', file(tc.proof), '--public', file(tc.public)]);
  if (res.error) return [...problems, `could not run the binary: ${res.error}`];
  if (res.signal) return [...problems, `killed by ${res.signal}`];
  if (res.code !== expectedCode) {
    const said = res.stderr.trim().split('\n')[0] ?? '';
    problems.push(`exit ${res.code}, expected ${expectedCode} (${tc.expect})${said ? `; stderr: ${said}` : ''}`);
  }
  if (tc.expect === 'malformed' && res.code === expectedCode) {
    const text = res.stderr.endsWith('\n') ? res.stderr.slice(0, -1) : res.stderr;
    if (text.length === 0) {
      problems.push('stderr is empty, expected one line naming the field');
    } else if (text.includes('\n')) {
      problems.push(`stderr has ${text.split('\n').length} lines, expected exactly one`);
    } else if (!text.includes(tc.field)) {
      problems.push(`stderr "${text}" does not contain "${tc.field}"`);
    }
  }
  return problems;
}

async function main() {
  if (process.argv.length < 4) {
    console.error('usage: node tests/e2e/check_cli.mjs OUTDIR PROOFGATE_BINARY');
    process.exit(2);
  }
  const outDir = path.resolve(process.argv[2]);
  const binary = path.resolve(process.argv[3]);
  const cases = JSON.parse(fs.readFileSync(path.join(outDir, 'cases.json'), 'utf8'));
  if (!Array.isArray(cases) || cases.length === 0) {
    console.error(`check_cli: no cases in ${path.join(outDir, 'cases.json')}`);
    process.exit(2);
  }

  const results = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await checkCase(outDir, binary, cases[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(4, os.availableParallelism?.() ?? 2)) }, worker));

  let passed = 0;
  let failed = 0;
  cases.forEach((tc, i) => {
    if (results[i].length === 0) {
      ++passed;
    } else {
      ++failed;
      console.log(`FAIL ${tc.name}: ${results[i].join('; ')}`);
    }
  });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
