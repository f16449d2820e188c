// The partner API client: create a proof request, verify a proof, read a proof's status; API key
// or OAuth2 bearer tokens; retries on 429/503 (and, for idempotent calls, on network errors).
import { randomUUID } from 'node:crypto';

import { ProofgateError, ProofgateNetworkError, errorFromResponse } from './errors.js';
import { kRetryDefaults, nextDelay, parseRetryAfter, sleep } from './retry.js';

/** @typedef {import('./schema.js').components['schemas']} Schemas */
/** @typedef {Schemas['CreateRequestBody']} CreateRequestBody */
/** @typedef {Schemas['ProofRequest']} ProofRequest */
/** @typedef {Schemas['VerifyBody']} VerifyBody */
/** @typedef {Schemas['Verified']} Verified */
/** @typedef {Schemas['ProofStatus']} ProofStatus */
/** @typedef {import('./retry.js').RetryOptions} RetryOptions */

/**
 * Gives bearer tokens (an OAuth2 client-credentials provider: see oauth.js). `invalidate` drops a
 * token the server refused, so the next `getToken` fetches a fresh one.
 * @typedef {object} TokenProvider
 * @property {(signal?: AbortSignal) => Promise<string>} getToken
 * @property {(token: string) => void} invalidate
 */

/**
 * @typedef {object} ClientOptions
 * @property {string} baseUrl e.g. "https://proofgate.example" (no trailing /api/v1)
 * @property {string} [apiKey] "pg_live_<prefix>_<secret>" or "pg_test_<prefix>_<secret>" (a legacy "pgk_..." key works as a live key), sent as `Authorization: Bearer`
 * @property {TokenProvider} [tokenProvider] instead of apiKey: OAuth2 access tokens
 * @property {RetryOptions} [retry]
 * @property {number} [timeoutMs] per attempt (default 10000)
 * @property {typeof fetch} [fetch] (default globalThis.fetch)
 * @property {(notice: DeprecationNotice) => void} [onDeprecation] called when an answer says its
 *   circuit version is deprecated (a verify of a deprecated version: move before the sunset)
 */

/**
 * What a `Deprecation` answer (RFC 9745, with RFC 8594 `Sunset` and a `successor-version` Link)
 * tells: the version stops verifying at `sunset`; `successor` is the successor's manifest path.
 * @typedef {object} DeprecationNotice
 * @property {string} method
 * @property {string} path
 * @property {Date | undefined} deprecatedAt
 * @property {Date | undefined} sunset
 * @property {string | undefined} successor
 * @property {string | undefined} requestId
 */

/**
 * @typedef {object} CallOptions
 * @property {AbortSignal} [signal] aborts the call, its retries and waits included
 */

const kDefaultTimeoutMs = 10_000;

/** A proofgate partner API client. */
export class Proofgate {
  /** @param {ClientOptions} options */
  constructor(options) {
    if (!options || typeof options.baseUrl !== 'string') throw new TypeError('Proofgate: baseUrl is required');
    if (!options.apiKey === !options.tokenProvider) {
      throw new TypeError('Proofgate: give exactly one of apiKey and tokenProvider');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.tokenProvider = options.tokenProvider;
    this.retry = { ...kRetryDefaults, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? kDefaultTimeoutMs;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.onDeprecation = options.onDeprecation;
  }

  /**
   * POST /api/v1/requests: a new single-use proof request. The answer is what the wallet takes
   * as it is; `qr.uri` is the QR payload ("proofgate:request?d=<base64url JSON>"), `qr.svg` the
   * code drawn. Retried on 429/503 only (the server recorded nothing then); a network error is
   * not retried, since a lost answer may have created a request (harmless, but not ours to hide).
   * @param {CreateRequestBody} body
   * @param {CallOptions} [options]
   * @returns {Promise<ProofRequest>}
   */
  async createRequest(body, options = {}) {
    return /** @type {Promise<ProofRequest>} */ (this.#call('POST', '/api/v1/requests', body, { ...options, idempotent: false }));
  }

  /**
   * POST /api/v1/verify: verifies the wallet's answer (the body `wallet prove` prints). Sends an
   * Idempotency-Key (a new UUID unless given) that every retry of this call reuses, so a retry
   * after a lost answer gets the first answer back instead of NONCE_REPLAY. A rejected proof
   * throws a ProofgateError (422, errorCode BINDING_MISMATCH / STALE_ROOT / INVALID_PROOF, with
   * `proofId` of the recorded failure).
   * @param {VerifyBody} body
   * @param {CallOptions & {idempotencyKey?: string}} [options]
   * @returns {Promise<Verified>}
   */
  async verify(body, options = {}) {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    return /** @type {Promise<Verified>} */ (this.#call('POST', '/api/v1/verify', body, { ...options, idempotent: true, idempotencyKey }));
  }

  /**
   * GET /api/v1/status/{proof_id}: a proof's metadata (this partner's proofs only).
   * @param {string} proofId
   * @param {CallOptions} [options]
   * @returns {Promise<ProofStatus>}
   */
  async status(proofId, options = {}) {
    if (typeof proofId !== 'string' || proofId.length === 0) throw new TypeError('status: proofId must be a non-empty string');
    return /** @type {Promise<ProofStatus>} */ (this.#call('GET', `/api/v1/status/${encodeURIComponent(proofId)}`, undefined, { ...options, idempotent: true }));
  }

  /**
   * One call with its retries. 429 and 503 are retried for every call (the server answers them
   * before recording anything); network errors and timeouts only when `idempotent`, and then an
   * IDEMPOTENCY_CONFLICT (the lost attempt still in progress) too. A 401 with a token provider
   * drops the token and tries once more with a fresh one.
   * @param {string} method
   * @param {string} path
   * @param {unknown} body
   * @param {CallOptions & {idempotent: boolean, idempotencyKey?: string}} options
   * @returns {Promise<unknown>}
   */
  async #call(method, path, body, options) {
    const started = Date.now();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let refreshed = false;
    let lostAnswer = false; // an earlier attempt got no answer: it may have reached the server
    for (let attempt = 1; ; attempt++) {
      const token = this.apiKey ?? (await /** @type {TokenProvider} */ (this.tokenProvider).getToken(options.signal));
      /** @type {Record<string, string>} */
      const headers = { accept: 'application/json', authorization: `Bearer ${token}` };
      if (payload !== undefined) headers['content-type'] = 'application/json';
      if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      /** @type {Response} */
      let res;
      try {
        res = await this.fetch(this.baseUrl + path, { method, headers, body: payload, signal });
      } catch (e) {
        if (options.signal?.aborted) throw options.signal.reason;
        const error = new ProofgateNetworkError(`${method} ${path}: ${describe(e)}`, e);
        const wait = options.idempotent
          ? nextDelay({ attempt, elapsedMs: Date.now() - started, retryAfterMs: undefined }, this.retry)
          : undefined;
        if (wait === undefined) throw error;
        lostAnswer = true;
        await sleep(wait, options.signal);
        continue;
      }
      const text = await res.text();
      if (res.ok) {
        if (this.onDeprecation && res.headers.has('deprecation')) this.onDeprecation(deprecationNotice(method, path, res.headers));
        try {
          return JSON.parse(text);
        } catch {
          throw new ProofgateError({ status: res.status, errorCode: 'INVALID_RESPONSE', detail: 'a 2xx answer whose body is not JSON',
            requestId: res.headers.get('x-request-id') ?? undefined });
        }
      }
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      const error = errorFromResponse(res, text, retryAfterMs);
      if (res.status === 401 && this.tokenProvider && !refreshed) {
        this.tokenProvider.invalidate(token);
        refreshed = true;
        attempt--; // the refresh is not a retry
        continue;
      }
      // Our own retry after a lost answer may find the first attempt still running on the server:
      // the body is ours and unchanged, so the conflict can only mean "in flight" — wait for it.
      const inFlight = res.status === 409 && error.errorCode === 'IDEMPOTENCY_CONFLICT' && lostAnswer;
      if (res.status !== 429 && res.status !== 503 && !inFlight) throw error;
      const wait = nextDelay({ attempt, elapsedMs: Date.now() - started, retryAfterMs }, this.retry);
      if (wait === undefined) throw error;
      await sleep(wait, options.signal);
    }
  }
}

/**
 * The request JSON a QR payload carries ("proofgate:request?d=<base64url JSON>"): what a wallet
 * reads from the code. Throws a TypeError for anything else.
 * @param {string} uri
 * @returns {Record<string, unknown>}
 */
export function decodeQrPayload(uri) {
  const prefix = 'proofgate:request?d=';
  if (typeof uri !== 'string' || !uri.startsWith(prefix)) throw new TypeError(`QR payload: expected "${prefix}…"`);
  const data = uri.slice(prefix.length);
  if (!/^[A-Za-z0-9_-]+$/.test(data)) throw new TypeError('QR payload: d is not base64url');
  const parsed = JSON.parse(Buffer.from(data, 'base64url').toString('utf8'));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('QR payload: d is not a JSON object');
  return parsed;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {Headers} headers
 * @returns {DeprecationNotice}
 */
function deprecationNotice(method, path, headers) {
  const at = /^@(\d+)$/.exec(headers.get('deprecation')?.trim() ?? '');
  const sunsetMs = Date.parse(headers.get('sunset') ?? '');
  const link = /<([^>]*)>\s*;\s*rel="?successor-version"?/.exec(headers.get('link') ?? '');
  return {
    method,
    path,
    deprecatedAt: at ? new Date(Number(at[1]) * 1000) : undefined,
    sunset: Number.isNaN(sunsetMs) ? undefined : new Date(sunsetMs),
    successor: link ? link[1] : undefined,
    requestId: headers.get('x-request-id') ?? undefined,
  };
}

/** @param {unknown} e */
function describe(e) {
  if (e instanceof Error) {
    const cause = /** @type {{cause?: {code?: string, message?: string}}} */ (e).cause;
    if (e.name === 'TimeoutError') return 'timed out';
    return cause?.code ?? cause?.message ?? e.message;
  }
  return String(e);
}
