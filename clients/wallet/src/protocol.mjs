// The request binding and the partner scope (docs/protocol.md), as the holder's wallet computes
// them; proofgate's C++ side (src/core/binding.cpp) passes the same vectors
// (tests/vectors/binding.json). Runs in Node 20 and in browsers (Web Crypto for SHA-256).
import { buildPoseidon } from 'circomlibjs';

const PREFIX = 'proofgate.v1.';
const encoder = new TextEncoder();

let poseidonPromise;
/** circomlibjs's Poseidon, built once. */
function poseidon() {
  poseidonPromise ??= buildPoseidon();
  return poseidonPromise;
}

/**
 * A text as a field element, domain-separated by `label`: the first 31 bytes (big-endian) of
 * SHA-256("proofgate.v1." || label || 0x00 || text), a BigInt below 2^248.
 */
export async function fieldFromText(label, text) {
  const head = encoder.encode(`${PREFIX}${label}`);
  const body = encoder.encode(text);
  const message = new Uint8Array(head.length + 1 + body.length);
  message.set(head, 0);
  message[head.length] = 0;
  message.set(body, head.length + 1);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', message));
  let value = 0n;
  for (let i = 0; i < 31; ++i) value = (value << 8n) | BigInt(digest[i]);
  return value;
}

async function poseidonHash(inputs) {
  const p = await poseidon();
  return p.F.toObject(p(inputs));
}

const tag = (name) => fieldFromText('tag', name);

/** binding = Poseidon(tag("binding"), F(nonce), F(verifier_domain), F(claim_type), F(circuit_version)). */
export async function requestBinding({ nonce, verifier_domain, claim_type, circuit_version }) {
  return poseidonHash([
    await tag('binding'),
    await fieldFromText('nonce', nonce),
    await fieldFromText('verifier_domain', verifier_domain),
    await fieldFromText('claim_type', claim_type),
    await fieldFromText('circuit_version', circuit_version),
  ]);
}

/** scope = Poseidon(tag("scope"), F(verifier_domain)). */
export async function partnerScope(verifierDomain) {
  return poseidonHash([await tag('scope'), await fieldFromText('verifier_domain', verifierDomain)]);
}

/** nullifier = Poseidon(holder secret, scope): what the circuits output. */
export async function nullifier(holderSecret, scope) {
  return poseidonHash([BigInt(holderSecret), BigInt(scope)]);
}
