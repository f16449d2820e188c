// A partner's code as the SDK's types should accept it, type-checked (never run) by
// generated_test.mjs: a change to docs/openapi.json that renames or retypes what the SDK or a
// partner relies on fails `tsc` here.
import {
  ClientCredentials, Proofgate, ProofgateError, WebhookVerificationError, decodeQrPayload, verifyWebhook,
} from '../src/index.js';
import type { components } from '../src/schema.js';

type Schemas = components['schemas'];

export async function partnerFlow(proof: Schemas['VerifyBody']): Promise<string> {
  const tokens = new ClientCredentials({ baseUrl: 'https://proofgate.example', clientId: 'id', clientSecret: 'secret' });
  const pg = new Proofgate({ baseUrl: 'https://proofgate.example', tokenProvider: tokens });
  const request = await pg.createRequest({
    claim_type: 'income_gte', verifier_domain: 'bank.example', params: { threshold: 1000000, fiscal_year: 2081 }, ttl_seconds: 300,
  });
  const qrUri: string = request.qr.uri;
  const nonce: string = request.nonce;
  const expires: string = request.expires_at;
  decodeQrPayload(qrUri);
  try {
    const verified = await pg.verify(proof, { idempotencyKey: nonce });
    const status: 'verified' = verified.status;
    const nullifier: string = verified.nullifier;
    const rootSeq: number = verified.root_seq;
    const issuer: 'moha' | 'tu' | 'nrb' = verified.issuer;
    const proofStatus = await pg.status(verified.proof_id);
    const verifiedAt: string | null = proofStatus.verified_at;
    const state: 'verified' | 'failed' = proofStatus.status;
    return [status, nullifier, rootSeq, issuer, verifiedAt, state, expires].join(' ');
  } catch (e) {
    if (e instanceof ProofgateError) {
      const code: string = e.errorCode;
      const field: string | undefined = e.field;
      const rejected: string | undefined = e.proofId;
      return [code, field, rejected, e.status, e.requestId, e.detail].join(' ');
    }
    throw e;
  }
}

export function receiver(headers: Record<string, string>, raw: Buffer): string {
  try {
    const event = verifyWebhook({ secret: ['whsec_a', 'whsec_b'], headers, body: raw, toleranceSeconds: 300 });
    return String(event.event);
  } catch (e) {
    if (e instanceof WebhookVerificationError) return e.reason;
    throw e;
  }
}
