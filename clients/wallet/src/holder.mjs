// The holder's secret: a uniformly random element of the BN254 scalar field, and its public
// commitment Poseidon(s) that issuers put into credentials (docs/protocol.md).
import { buildPoseidon } from 'circomlibjs';

/** The BN254 scalar field order r. */
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** A uniform random field element from Web Crypto: rejection sampling of 254-bit integers. */
export function randomFieldElement() {
  const bytes = new Uint8Array(32);
  for (;;) {
    globalThis.crypto.getRandomValues(bytes);
    bytes[0] &= 0x3f; // 254 bits: r > 2^253, so fewer than half the draws are refused
    let v = 0n;
    for (const b of bytes) v = (v << 8n) | BigInt(b);
    if (v !== 0n && v < R) return v;
  }
}

let poseidonPromise;
/** A new holder: { secret, commitment } as decimal strings. The secret never leaves the wallet. */
export async function newHolder() {
  poseidonPromise ??= buildPoseidon(); // built once: building takes about a second
  const poseidon = await poseidonPromise;
  const secret = randomFieldElement();
  const commitment = poseidon.F.toObject(poseidon([secret]));
  return { version: 1, secret: secret.toString(), commitment: commitment.toString() };
}
