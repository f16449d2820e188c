#!/usr/bin/env node
// `make demo`, the issuers part (run by scripts/demo.sh): three sandbox authorities, three issuer
// nodes and a verifier following their signed root feeds, as real processes on loopback
// (tests/integration/issuer_stack.mjs); a partner, a MOHA enrolment with the wallet (the code read
// from the sandbox's SMS file), a proof request, a proof, `verified`; then a revocation, and after
// the grace window a proof on the old root refused with STALE_ROOT. Every command is printed as a
// user would type it and run exactly as printed. Exits 1 when a step does not give what it should;
// every process is stopped at the end, on failure and on SIGINT/SIGTERM too.
//
//   node scripts/demo-issuers.mjs [DIR]     (default: a new temporary directory; kept, for its logs)
//   env: PROOFGATE_BIN (build/release/proofgate), PROOFGATE_ARTIFACTS (build/release/artifacts),
//        DEMO_GRACE_SECONDS (3: the verifier's root_grace_seconds)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startIssuerStack, waitFor } from '../tests/integration/issuer_stack.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bin = path.resolve(process.env.PROOFGATE_BIN ?? path.join(root, 'build/release/proofgate'));
const artifacts = path.resolve(process.env.PROOFGATE_ARTIFACTS ?? path.join(root, 'build/release/artifacts'));
process.env.PROOFGATE_ARTIFACTS = artifacts; // the stack's verifier reads it
const grace = Number(process.env.DEMO_GRACE_SECONDS ?? 3);
if (!Number.isInteger(grace) || grace < 0 || grace > 60) {
  console.error(`demo-issuers: DEMO_GRACE_SECONDS ${JSON.stringify(process.env.DEMO_GRACE_SECONDS)} is not an integer 0..60`);
  process.exit(2);
}
const dir = path.resolve(process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'proofgate-demo-issuers-')));
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

/** A path as the user would type it from the repository's root. */
const shown = (p) => {
  const rel = path.relative(root, p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
};
const quote = (s) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

class StepFailed extends Error {}
const fail = (what) => {
  throw new StepFailed(what);
};

/** Prints `$ command`, runs it with bash from the repository's root, prints what it wrote. */
function sh(command) {
  console.log(`$ ${command}`);
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', command], { cwd: root, encoding: 'utf8', env: process.env });
  if (r.stdout) process.stdout.write(r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`);
  if (r.stderr) process.stdout.write(r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n`);
  return r;
}
const must = (r, what) => {
  if (r.status !== 0) fail(`${what}: exit ${r.status}`);
  return r;
};
const lastJson = (text, what) => {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  try {
    return JSON.parse(line);
  } catch {
    return fail(`${what}: no JSON answer`);
  }
};
const title = (text) => console.log(`\n# ${text}`);

/** A MOHA record of someone clearly over 18: born in BS 2063 or earlier (AD 2006 or earlier). */
function adultRecord(records) {
  const r = records.find((x) => Number(x.date_of_birth_bs.slice(0, 4)) <= 2063);
  if (!r) fail('the sandbox generated no MOHA record of an adult');
  return r;
}

let stack;
async function stop() {
  if (!stack) return;
  const s = stack;
  stack = undefined;
  await s.stop();
  console.log('\nstopped every process (SIGTERM); their logs are in', shown(dir));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stop().finally(() => process.exit(130));
  });
}

async function demo() {
  const wallet = `node clients/wallet/bin/wallet.mjs`;
  const proofgate = shown(bin);
  const walletDir = path.join(dir, 'wallet');

  title(`the issuers: a test CA (scripts/make-test-ca.sh), three sandbox authorities (MOHA, TU, NRB/IRD, mutual TLS), ` +
    `three issuer nodes, and the verifier following their signed root feeds with root_grace_seconds = ${grace}`);
  stack = await startIssuerStack({ bin, dir, records: 20, graceSeconds: grace });
  for (const kind of ['moha', 'tu', 'nrb']) {
    const a = stack.authorities[kind];
    const n = stack.nodes[kind];
    console.log(`${kind}: sandbox authority https://localhost:${a.port} (records: ${shown(path.join(a.dataDir, 'records.json'))}), ` +
      `issuer node ${n.url} (feed key ${n.publicKey})`);
  }
  console.log(`verifier: ${stack.verifier.url} (proofgate serve --issuer-feeds "moha|${stack.nodes.moha.url}|<key>,tu|…,nrb|…" ` +
    `--root-grace-seconds ${grace}); every feed's first entry accepted`);
  const tokenFile = path.join(dir, 'node-moha.admin-token');
  fs.writeFileSync(tokenFile, `${stack.nodes.moha.adminToken}\n`, { mode: 0o600 });
  console.log(`the MOHA node's admin token (printed once at its first start) is in ${shown(tokenFile)}`);
  console.log(`its operator console: ${stack.nodes.moha.url}/issuer/console (sign in with that token)`);

  title('a partner (the bank), in the verifier\'s data directory; its API key is shown once');
  const partnerFile = path.join(dir, 'partner.json');
  must(sh(`${proofgate} admin create-client --name 'Demo bank' --scopes age_over_18 --domains bank.example ` +
    `--data-dir ${quote(shown(stack.verifier.dataDir))} > ${quote(shown(partnerFile))}`), 'create-client');
  const key = `$(node -p 'require("${path.resolve(partnerFile)}").api_key')`;
  const auth = `-H "Authorization: Bearer ${key}" -H 'Content-Type: application/json'`;

  const record = adultRecord(stack.authorities.moha.records);
  const node = stack.nodes.moha;
  title(`the holder enrols at the MOHA issuer with citizenship certificate ${record.record} (born ${record.date_of_birth_bs} BS)`);
  const enroll = `${wallet} enroll --issuer-url ${node.url} --record ${record.record} --wallet ${quote(shown(walletDir))}`;
  must(sh(enroll), 'wallet enroll (code sent)');
  console.log('# the sandbox "sends" the code to the registered phone by writing it to a file:');
  const smsFile = stack.authorities.moha.smsFile(record.record);
  const code = must(sh(`cat ${quote(shown(smsFile))}`), 'reading the code').stdout.trim();
  if (!/^\d{6}$/.test(code)) fail(`the code in ${smsFile} is not six digits`);
  const enrolled = lastJson(must(sh(`${enroll} --code ${code}`), 'wallet enroll --code').stdout, 'wallet enroll --code');
  if (!enrolled.credential || !fs.existsSync(path.resolve(root, enrolled.credential))) fail('wallet enroll --code saved no credential');
  const credential = JSON.parse(fs.readFileSync(path.resolve(root, enrolled.credential), 'utf8'));

  // One request, its proof and its verification; returns the verify answer's JSON and HTTP status.
  let n = 0;
  const requestProveVerify = () => {
    ++n;
    const request = quote(shown(path.join(dir, `request-${n}.json`)));
    const body = quote(shown(path.join(dir, `verify-${n}.json`)));
    must(sh(`curl -sS --fail-with-body ${auth} -d '{"claim_type":"age_over_18"}' ${stack.verifier.url}/api/v1/requests > ${request}`),
      'POST /api/v1/requests');
    must(sh(`${wallet} prove --holder ${quote(shown(path.join(walletDir, 'holder.json')))} --credential ${quote(enrolled.credential)} ` +
      `--request ${request} --artifacts ${quote(shown(artifacts))} > ${body}`), 'wallet prove');
    const verify = () => {
      const r = sh(`curl -sS -w '\\nHTTP %{http_code}\\n' ${auth} --data @${body} ${stack.verifier.url}/api/v1/verify`);
      must(r, 'POST /api/v1/verify');
      const status = Number(/HTTP (\d{3})\s*$/.exec(r.stdout)?.[1]);
      return { status, json: lastJson(r.stdout, 'POST /api/v1/verify') };
    };
    return verify;
  };

  title('the bank asks for "over 18"; the wallet proves it on its credential; the bank verifies');
  const first = requestProveVerify()();
  if (first.status !== 200 || first.json.status !== 'verified') fail(`verify answered ${first.status}, not verified`);
  if (first.json.issuer !== 'moha' || !(first.json.root_seq >= credential.root_seq)) {
    fail(`the verify answer names issuer ${first.json.issuer} root_seq ${first.json.root_seq}; ` +
      `expected moha and at least the credential's ${credential.root_seq}`);
  }
  console.log(`=> verified: issuer ${first.json.issuer}, root_seq ${first.json.root_seq}, root_age_seconds ${first.json.root_age_seconds}`);

  title(`the MOHA issuer revokes the credential (leaf ${credential.leaf_index}) through its admin API`);
  const revokedAt = Date.now();
  const revoke = lastJson(must(sh(`curl -sS --fail-with-body -X POST -H "Authorization: Bearer $(cat ${quote(shown(tokenFile))})" ` +
    `-H 'Content-Type: application/json' -d '{"reason":"certificate withdrawn"}' ` +
    `${node.url}/issuer/v1/admin/credentials/${credential.leaf_index}/revoke`), 'revoke').stdout, 'revoke');
  if (revoke.leaf_index !== credential.leaf_index || !(revoke.root_seq > credential.root_seq)) fail('the revoke answer is not the expected one');
  await stack.verifier.waitForSeq('moha', revoke.root_seq, 10_000);
  const acceptedAt = Date.now();
  console.log(`=> the verifier accepted the revocation's feed entry (seq ${revoke.root_seq}) ` +
    `${acceptedAt - revokedAt} ms after the revoke was sent (/metrics proofgate_feed_seq{issuer="moha"})`);

  title(`a new request, proved on the credential's old root, sent to the verifier once the grace window (${grace} s) has passed`);
  const verifySecond = requestProveVerify();
  // The old root stays valid `grace` seconds after the verifier replaced it (docs/issuers.md): the
  // state this step needs is that moment, so it waits for it (usually past already: proving takes
  // seconds).
  const graceEnds = acceptedAt + grace * 1000;
  if (Date.now() < graceEnds) {
    console.log(`# waiting ${graceEnds - Date.now()} ms for the grace window to end`);
    await waitFor(() => Date.now() >= graceEnds, 'the end of the grace window', { timeoutMs: grace * 1000 + 1000, everyMs: 50 });
  }
  const second = verifySecond();
  if (second.status !== 422 || second.json.error_code !== 'STALE_ROOT') {
    fail(`verify on the old root answered ${second.status} ${second.json.error_code ?? second.json.status}, not 422 STALE_ROOT`);
  }
  console.log(`=> refused: ${second.json.error_code} (${second.json.detail ?? second.json.title})`);

  title('the wallet sees the revocation too');
  const listed = must(sh(`${wallet} credentials --wallet ${quote(shown(walletDir))}`), 'wallet credentials').stdout;
  if (!listed.split('\n').some((l) => l.includes(`"leaf_index":${credential.leaf_index}`) && l.includes('"status":"revoked"'))) {
    fail('wallet credentials does not list the credential as revoked');
  }
}

try {
  await demo();
  await stop();
  console.log('demo-issuers: every step gave what it should');
} catch (err) {
  console.error(`\ndemo-issuers: FAILED: ${err instanceof StepFailed ? err.message : err.stack}`);
  console.error(`logs of every process: ${shown(dir)}/*.log`);
  try {
    await stop();
  } catch (e) {
    console.error(`demo-issuers: stopping: ${e.message}`);
  }
  process.exit(1);
}
