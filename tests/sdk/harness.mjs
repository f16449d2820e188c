// The real server for the SDKs' tests in other languages (sdk/python, sdk/go): starts
// `proofgate serve --demo` (tests/integration/server.mjs) with a low partner rate limit and
// loopback webhooks, creates a partner whose webhook goes to --webhook-url, and speaks JSON lines:
//
//   stdout, first line:  {"base_url", "demo_api_key", "api_key", "client_id", "client_secret",
//                         "webhook_secret", "rate_limit", "rate_burst"}
//   stdin  {"op":"prove","request":<the POST /api/v1/requests answer>}
//   stdout {"body":<the POST /api/v1/verify body the wallet made for it>}  (or {"error": "..."})
//
// It runs until its stdin closes, then stops the server and removes its data directory.
//
// Usage: PROOFGATE_BIN=... PROOFGATE_ARTIFACTS=... node tests/sdk/harness.mjs --webhook-url URL
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { prove } from '../../clients/wallet/src/prove.mjs';
import { Server, admin, removeDir, tempDir } from '../integration/server.mjs';

// Each partner's bucket: RATE_BURST calls at once, then RATE_LIMIT per second (Retry-After: 1).
const kRateLimit = '2';
const kRateBurst = '4';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !artifacts) {
  process.stderr.write('harness: PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set\n');
  process.exit(2);
}
const at = process.argv.indexOf('--webhook-url');
const webhookUrl = at > 0 ? process.argv[at + 1] : undefined;
if (!webhookUrl) {
  process.stderr.write('harness: --webhook-url URL is required\n');
  process.exit(2);
}

const dataDir = tempDir('sdk');
let server;
const stop = async (code) => {
  if (server?.running) await server.stop();
  await globalThis.curve_bn128?.terminate();
  removeDir(dataDir);
  process.exit(code);
};

try {
  server = await Server.start({
    bin, artifacts, dataDir,
    args: ['--demo', '--rate-limit', kRateLimit, '--rate-burst', kRateBurst, '--webhook-allow-loopback'],
  });
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  const demo = read('partner.json');
  const holder = read('holder.json');
  const identity = read('identity.json');
  const hooked = admin(bin, dataDir, ['create-client', '--name', 'SDK Bank', '--scopes', 'age_over_18',
    '--domains', 'sdk.example', '--webhook-url', webhookUrl, '--allow-loopback-webhook', '--test']);
  process.stdout.write(`${JSON.stringify({
    base_url: server.url, demo_api_key: demo.api_key, api_key: hooked.api_key, client_id: hooked.client_id,
    client_secret: hooked.client_secret,
    webhook_secret: hooked.webhook_secret, rate_limit: Number(kRateLimit), rate_burst: Number(kRateBurst),
  })}\n`);

  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let answer;
    try {
      const msg = JSON.parse(line);
      if (msg.op !== 'prove') throw new Error(`unknown op ${JSON.stringify(msg.op)}`);
      answer = { body: await prove(artifacts, holder, identity, msg.request) };
    } catch (err) {
      answer = { error: String(err?.stack ?? err) };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  }
  await stop(0);
} catch (err) {
  process.stderr.write(`harness: ${err?.stack ?? err}\n`);
  await stop(1);
}
