// @proofgate/sdk: the partner API client, OAuth2 client credentials, webhook verification.
export { Proofgate, decodeQrPayload } from './client.js';
export { ProofgateError, ProofgateNetworkError, TokenError } from './errors.js';
export { ClientCredentials } from './oauth.js';
export { parseRetryAfter } from './retry.js';
export { WebhookVerificationError, decodeSecret, signSha256, signStandard, verifyWebhook } from './webhooks.js';
