// The wallet's browser entry: everything that needs no file system, for a bundler
// (clients/wallet/scripts/bundle.mjs makes one ES module with snarkjs and circomlibjs inside).
// The same modules run in Node 20; only prove.mjs (artifacts from a directory) is Node's alone.
import { fetchArtifacts } from './artifacts.mjs';
import { proveWithArtifacts } from './proof.mjs';

export { ArtifactError, fetchArtifacts, sha256Hex } from './artifacts.mjs';
export {
  EnrolmentError, completeEnrolment, credentialStatus, parseOffer, refreshCredential, startEnrolment,
} from './enroll.mjs';
export { R, newHolder, randomFieldElement } from './holder.mjs';
export { circuitInput, proveWithArtifacts } from './proof.mjs';
export { fieldFromText, nullifier, partnerScope, requestBinding } from './protocol.mjs';
export { SignatureError, importReleaseKeys, verifyManifestSignature } from './release.mjs';

/**
 * The POST /api/v1/verify body answering `request` (as POST /api/v1/requests returned it), with
 * the artifacts fetched from the proofgate at `baseUrl` and checked against their manifest.
 * `options` goes to fetchArtifacts (releaseKeys, fetch, manifestSha256) and proveWithArtifacts (singleThread).
 */
export async function answerRequest(baseUrl, holder, credential, request, options = {}) {
  const artifacts = await fetchArtifacts(baseUrl, request.claim_type, request.circuit_version, options);
  return proveWithArtifacts(artifacts, holder, credential, request, options);
}
