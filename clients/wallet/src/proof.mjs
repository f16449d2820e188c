// Answering a proof request, in Node and in browsers: the circuit's input from the holder, one
// credential and the request, a Groth16 proof with snarkjs from artifacts already in hand (bytes,
// or whatever snarkjs reads: a path in Node, a URL in a browser), and the exact JSON body of
// POST /api/v1/verify. No file system or network here: prove.mjs (Node, a directory) and
// artifacts.mjs (the server's /artifacts route, SHA-256 checked) bring the artifacts.
import * as snarkjs from 'snarkjs';

import { partnerScope, requestBinding } from './protocol.mjs';

// Inputs every claim circuit has, filled from the holder, the credential and the protocol.
const kFrame = new Set(['root', 'binding', 'scope', 'secret', 'expiry', 'siblings', 'path_indices']);

const baseName = (signal) => signal.replace(/\[\d+\]$/, '');

/**
 * The circuit input for `request` (nonce, verifier_domain, claim_type, circuit_version, params)
 * from `holder` ({secret}) and `credential` ({attributes, expiry, root, siblings, path_indices}),
 * following the circuit's manifest: public signals after nullifier/root/binding/scope come from
 * request.params, private inputs other than the frame come from credential.attributes.
 */
export async function circuitInput(manifest, holder, credential, request) {
  const input = {
    root: String(credential.root),
    binding: (await requestBinding(request)).toString(),
    scope: (await partnerScope(request.verifier_domain)).toString(),
    secret: String(holder.secret),
    expiry: String(credential.expiry),
    siblings: credential.siblings.map(String),
    path_indices: credential.path_indices.map(String),
  };
  for (const name of manifest.public_signals.map(baseName)) {
    if (name === 'nullifier' || kFrame.has(name)) continue;
    const v = request.params?.[name];
    if (v === undefined) throw new Error(`request.params.${name} is missing (${manifest.claim_type} needs it)`);
    input[name] = String(v);
  }
  for (const name of manifest.private_inputs.map(baseName)) {
    if (kFrame.has(name)) continue;
    const v = credential.attributes?.[name];
    if (v === undefined) throw new Error(`credential.attributes.${name} is missing (${manifest.claim_type} needs it)`);
    input[name] = String(v);
  }
  return input;
}

/**
 * The POST /api/v1/verify body answering `request`, proved with `artifacts`:
 * { manifest (parsed manifest.json), wasm, zkey } where wasm and zkey are Uint8Arrays (or a path
 * in Node, a URL in a browser: what snarkjs reads). The manifest must be the request's circuit.
 * `options.singleThread` makes snarkjs prove on the calling thread only.
 */
export async function proveWithArtifacts({ manifest, wasm, zkey }, holder, credential, request, options = {}) {
  if (manifest.claim_type !== request.claim_type || manifest.version !== request.circuit_version) {
    throw new Error(`the artifacts are ${manifest.claim_type} ${manifest.version}, ` +
      `the request asks for ${request.claim_type} ${request.circuit_version}`);
  }
  const input = await circuitInput(manifest, holder, credential, request);
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasm, zkey, undefined, undefined,
    { singleThread: Boolean(options.singleThread) });
  return {
    claim_type: request.claim_type,
    circuit_version: request.circuit_version,
    proof: { pi_a: proof.pi_a, pi_b: proof.pi_b, pi_c: proof.pi_c, protocol: 'groth16', curve: 'bn128' },
    public_signals: publicSignals,
    request: { nonce: request.nonce, verifier_domain: request.verifier_domain },
  };
}
