// For `make demo` only: plays a sandbox MOHA issuer. Puts one identity credential for the holder
// into a fresh depth-20 tree (with a few other leaves) and writes what the wallet keeps: the
// attributes, expiry, the tree root and the membership path.
// Usage: node scripts/demo-credential.mjs HOLDER.json OUT.json
import fs from 'node:fs';

import { buildTree, credentialLeaf } from '../clients/wallet/src/tree.mjs';

const [holderFile, out] = process.argv.slice(2);
if (!holderFile || !out) {
  console.error('usage: node scripts/demo-credential.mjs HOLDER.json OUT.json');
  process.exit(2);
}
const holder = JSON.parse(fs.readFileSync(holderFile, 'utf8'));
const attributes = { birth_date: 20000101, country: 524 };
const expiry = 20301231;
const leaf = await credentialLeaf(1, 1, holder.commitment, [attributes.birth_date, attributes.country], expiry);
const tree = await buildTree([101n, 202n, 303n, leaf]);
const credential = { issuer: 'MOHA (sandbox)', schema: 'identity', attributes, expiry, root: tree.root.toString(), ...tree.path(3) };
credential.siblings = credential.siblings.map(String);
fs.writeFileSync(out, `${JSON.stringify(credential, null, 2)}\n`);
console.log(`credential for holder ${holder.commitment.slice(0, 12)}… in tree ${credential.root.slice(0, 12)}…`);
