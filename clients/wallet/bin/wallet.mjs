#!/usr/bin/env node
// The holder wallet's command line (clients/wallet/README.md):
//   init  --out HOLDER.json                      a new holder (secret and commitment), mode 0600
//   prove --holder H --credential C --request R [--artifacts DIR] [--release-key K[,K...]]
//         prints exactly the JSON body of POST /api/v1/verify for the request R (what the
//         partner's QR code carries: nonce, verifier_domain, claim_type, circuit_version, params);
//         with release keys (or $PROOFGATE_RELEASE_KEYS), only after checking manifest.sig and
//         the digests of the artifacts (docs/ceremony.md, "Release signatures")
//   enroll (--issuer-url U --record R | --offer LINK) [--code C] [--wallet DIR]
//         without --code: the issuer has the authority send a code to the record's phone;
//         with --code: the credential, checked, saved as DIR/credentials/<issuer>-<leaf_index>.json
//   refresh [--wallet DIR] [--credential FILE]   a current path for one or every credential
//   credentials [--wallet DIR] [--offline]       one JSON line per credential, with its status
//   account sign-in --server URL --phone P [--code C] [--language ne|en] [--wallet DIR]
//         without --code: the server sends a code by SMS; with --code: DIR/account.json (0600)
//   account show|proofs|delete [--wallet DIR]     the account, the proofs partners verified, delete
//   prove ... --link-account [--wallet DIR]       adds account_link (docs/citizens.md) to the body
// The wallet directory DIR defaults to $PROOFGATE_WALLET, else ~/.proofgate-wallet; it holds
// holder.json (created at the first enrolment when missing) and credentials/.
// Errors go to stderr with exit code 2.
import fs from 'node:fs';
import path from 'node:path';

// The wallet's modules are loaded by the command that needs them: snarkjs and circomlibjs take
// seconds to load, and most commands need only one of them, or neither.
const enrolment = () => import('../src/enroll.mjs');
const walletFiles = () => import('../src/wallet-dir.mjs');

const usage = `usage: wallet.mjs init --out HOLDER.json
       wallet.mjs prove --holder H --credential C --request R [--artifacts DIR] [--release-key K[,K...]]
       wallet.mjs enroll (--issuer-url U --record R | --offer LINK) [--code C] [--wallet DIR]
       wallet.mjs refresh [--wallet DIR] [--credential FILE]
       wallet.mjs credentials [--wallet DIR] [--offline]
       wallet.mjs account sign-in --server URL --phone P [--code C] [--language ne|en] [--wallet DIR]
       wallet.mjs account (show | proofs | delete) [--wallet DIR]`;

/**
 * The options of `command` from `args` per `spec` ({'--name': 'value' | 'flag'}): an unknown
 * option, one given twice or a value missing is an error naming it.
 */
function options(command, args, spec) {
  const out = {};
  for (let i = 0; i < args.length; ++i) {
    const name = args[i];
    if (!Object.hasOwn(spec, name)) throw new Error(`${command}: unknown argument ${JSON.stringify(name)}\n${usage}`);
    if (Object.hasOwn(out, name)) throw new Error(`${command}: ${name} is given twice`);
    if (spec[name] === 'flag') {
      out[name] = true;
      continue;
    }
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${command}: ${name} needs a value`);
    out[name] = value;
    ++i;
  }
  return out;
}

const print = (value) => console.log(JSON.stringify(value));

async function init(args) {
  const o = options('init', args, { '--out': 'value' });
  const out = o['--out'];
  if (!out) throw new Error(`init: --out is required\n${usage}`);
  if (fs.existsSync(out)) throw new Error(`init: ${out} exists; refusing to overwrite a holder secret`);
  const { newHolder } = await import('../src/holder.mjs');
  const holder = await newHolder();
  // `init --out DIR/holder.json` makes a wallet directory (README), private like the holder.
  fs.mkdirSync(path.dirname(out), { recursive: true, mode: 0o700 });
  fs.writeFileSync(out, `${JSON.stringify(holder, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  print({ holder: out, commitment: holder.commitment });
  return 0;
}

async function proveCommand(args) {
  const o = options('prove', args, {
    '--holder': 'value', '--credential': 'value', '--request': 'value', '--artifacts': 'value', '--release-key': 'value',
    '--link-account': 'flag', '--wallet': 'value',
  });
  if (!o['--holder'] || !o['--credential'] || !o['--request']) throw new Error(`prove: --holder, --credential and --request are required\n${usage}`);
  const { prove } = await import('../src/prove.mjs');
  const { readJson } = await walletFiles();
  const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
  const artifacts = o['--artifacts'] ?? path.join(repo, 'artifacts');
  const releaseKeys = (o['--release-key'] ?? process.env.PROOFGATE_RELEASE_KEYS ?? '').split(',').filter((k) => k.trim() !== '');
  const request = readJson(o['--request'], 'request');
  const body = await prove(artifacts, readJson(o['--holder'], 'holder'),
    readJson(o['--credential'], 'credential'), request, { releaseKeys });
  if (o['--link-account']) {
    const { linkToken } = await import('../src/account.mjs');
    body.account_link = await linkToken(await accountSession(o['--wallet']), request.nonce);
  }
  print(body);
  await globalThis.curve_bn128?.terminate();
  return 0;
}

async function enroll(args) {
  const o = options('enroll', args, {
    '--issuer-url': 'value', '--record': 'value', '--offer': 'value', '--code': 'value', '--wallet': 'value',
  });
  const { completeEnrolment, parseOffer, startEnrolment } = await enrolment();
  const { holderOf, saveCredential, walletDir } = await walletFiles();
  let issuerUrl;
  let record;
  if (o['--offer'] !== undefined) {
    if (o['--issuer-url'] !== undefined || o['--record'] !== undefined) {
      throw new Error('enroll: --offer carries the issuer URL and the record; give it without --issuer-url and --record');
    }
    ({ issuerUrl, record } = parseOffer(o['--offer']));
  } else {
    if (!o['--issuer-url'] || !o['--record']) throw new Error(`enroll: --issuer-url and --record (or --offer) are required\n${usage}`);
    issuerUrl = o['--issuer-url'];
    record = o['--record'];
  }
  if (o['--code'] === undefined) {
    const sent = await startEnrolment(issuerUrl, record);
    print(sent);
    console.error(`A code was sent to ${sent.sent_to}; it is valid ${sent.expires_in} s. ` +
      'Run the same command again with --code CODE.');
    return 0;
  }
  const dir = walletDir(o['--wallet']);
  const { holder, file: holderFile, created } = await holderOf(dir);
  const credential = await completeEnrolment(issuerUrl, record, o['--code'], holder);
  const file = saveCredential(dir, credential);
  print({
    credential: file, issuer: credential.issuer, schema: credential.schema, leaf_index: credential.leaf_index,
    root_seq: credential.root_seq, holder: holderFile, holder_created: created,
  });
  return 0;
}

async function refresh(args) {
  const o = options('refresh', args, { '--wallet': 'value', '--credential': 'value' });
  const { refreshCredential } = await enrolment();
  const { credentialFiles, readJson, walletDir, writePrivateJson } = await walletFiles();
  const files = o['--credential'] !== undefined ? [o['--credential']] : credentialFiles(walletDir(o['--wallet']));
  let failed = 0;
  for (const file of files) {
    try {
      const credential = readJson(file, 'credential');
      const fresh = await refreshCredential(credential);
      const updated = fresh.root !== credential.root;
      if (updated) writePrivateJson(file, fresh);
      print({ file, issuer: fresh.issuer, leaf_index: fresh.leaf_index, root_seq: fresh.root_seq, updated });
    } catch (err) {
      ++failed;
      print({ file, error: err.message });
    }
  }
  if (failed > 0) throw new Error(`refresh: ${failed} of ${files.length} credentials could not be refreshed (left as they were)`);
  return 0;
}

async function credentials(args) {
  const o = options('credentials', args, { '--wallet': 'value', '--offline': 'flag' });
  const { credentialStatus } = await enrolment();
  const { credentialFiles, readJson, walletDir } = await walletFiles();
  const files = credentialFiles(walletDir(o['--wallet']));
  const lines = await Promise.all(files.map(async (file) => {
    let credential;
    try {
      credential = readJson(file, 'credential');
    } catch (err) {
      return { file, status: `invalid: ${err.message}` };
    }
    let status = 'unknown';
    try {
      if (!o['--offline']) status = await credentialStatus(credential);
    } catch (err) {
      status = `invalid: ${err.message}`;
    }
    return {
      file, issuer: credential.issuer, schema: credential.schema, leaf_index: credential.leaf_index,
      root_seq: credential.root_seq, status,
    };
  }));
  lines.forEach(print);
  return 0;
}

/** The saved account session of the wallet, rotated (and saved) when its access token is old. */
async function accountSession(walletOption) {
  const { freshSession } = await import('../src/account.mjs');
  const { readJson, walletDir, writePrivateJson } = await walletFiles();
  const file = path.join(walletDir(walletOption), 'account.json');
  if (!fs.existsSync(file)) throw new Error('account: no account in this wallet; run `account sign-in` first');
  const current = readJson(file, 'account');
  const fresh = await freshSession(current);
  if (fresh !== current) writePrivateJson(file, fresh);  // the old refresh token is spent
  return fresh;
}

async function account(args) {
  const [sub, ...rest] = args;
  const accounts = await import('../src/account.mjs');
  const { walletDir, writePrivateJson } = await walletFiles();
  if (sub === 'sign-in') {
    const o = options('account sign-in', rest, {
      '--server': 'value', '--phone': 'value', '--code': 'value', '--language': 'value', '--wallet': 'value',
    });
    if (!o['--server'] || !o['--phone']) throw new Error(`account sign-in: --server and --phone are required\n${usage}`);
    if (o['--code'] === undefined) {
      print(await accounts.startSignIn(o['--server'], o['--phone'], o['--language']));
      console.error('Run the same command again with --code CODE.');
      return 0;
    }
    const dir = walletDir(o['--wallet']);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'account.json');
    writePrivateJson(file, await accounts.finishSignIn(o['--server'], o['--phone'], o['--code'], o['--language']));
    print({ account: file });
    return 0;
  }
  if (!['show', 'proofs', 'delete'].includes(sub)) throw new Error(usage);
  const o = options(`account ${sub}`, rest, { '--wallet': 'value' });
  const s = await accountSession(o['--wallet']);
  if (sub === 'show') {
    print(await accounts.accountInfo(s));
  } else if (sub === 'proofs') {
    (await accounts.accountProofs(s)).proofs.forEach(print);
  } else {
    await accounts.deleteAccount(s);
    fs.rmSync(path.join(walletDir(o['--wallet']), 'account.json'), { force: true });
    print({ deleted: true });
  }
  return 0;
}

const commands = { init, prove: proveCommand, enroll, refresh, credentials, account };

async function main(argv) {
  const [command, ...rest] = argv;
  if (!Object.hasOwn(commands, command ?? '')) throw new Error(usage);
  return commands[command](rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err.message);
    process.exit(2);
  },
);
