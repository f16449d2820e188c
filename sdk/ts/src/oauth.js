// OAuth2 client credentials (RFC 6749 §4.4) as a token provider for the client: POST /oauth/token
// with client_secret_basic (§2.3.1), the access token cached until shortly before expires_in, one
// fetch shared by concurrent callers, a refused token dropped so the next call fetches anew.
import { TokenError } from './errors.js';
import { kRetryDefaults, nextDelay, parseRetryAfter, sleep } from './retry.js';

/**
 * @typedef {object} ClientCredentialsOptions
 * @property {string} clientId
 * @property {string} clientSecret
 * @property {string} [tokenUrl] default `${baseUrl}/oauth/token`
 * @property {string} [baseUrl] the server, when tokenUrl is not given
 * @property {string | string[]} [scope] scopes to ask for (default: the client's own)
 * @property {number} [refreshBeforeMs] refresh this long before expiry (default 30000, at most
 *   half the token's lifetime)
 * @property {import('./retry.js').RetryOptions} [retry] for 429/503 and network errors
 * @property {number} [timeoutMs] per attempt (default 10000)
 * @property {typeof fetch} [fetch]
 * @property {() => number} [now] ms since the epoch (default Date.now; tests move it)
 */

/** The form-urlencoding of RFC 6749 §2.3.1 / Appendix B (space as "+"). */
const formEncode = (/** @type {string} */ s) => encodeURIComponent(s).replace(/%20/g, '+');

/** A client-credentials token provider (TokenProvider of client.js). */
export class ClientCredentials {
  /** @type {{token: string, refreshAt: number} | undefined} */
  #cached;
  /** @type {Promise<string> | undefined} */
  #inflight;

  /** @param {ClientCredentialsOptions} options */
  constructor(options) {
    if (!options?.clientId || !options.clientSecret) throw new TypeError('ClientCredentials: clientId and clientSecret are required');
    if (!options.tokenUrl && !options.baseUrl) throw new TypeError('ClientCredentials: tokenUrl or baseUrl is required');
    this.clientId = options.clientId;
    this.tokenUrl = options.tokenUrl ?? `${/** @type {string} */ (options.baseUrl).replace(/\/+$/, '')}/oauth/token`;
    this.scope = Array.isArray(options.scope) ? options.scope.join(' ') : options.scope;
    this.refreshBeforeMs = options.refreshBeforeMs ?? 30_000;
    this.retry = { ...kRetryDefaults, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.#authorization = `Basic ${Buffer.from(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`).toString('base64')}`;
  }

  /** @type {string} */
  #authorization;

  /**
   * A valid access token: the cached one until its refresh time, else a new one (one request
   * however many callers wait).
   * @param {AbortSignal} [signal]
   * @returns {Promise<string>}
   */
  async getToken(signal) {
    if (this.#cached && this.now() < this.#cached.refreshAt) return this.#cached.token;
    if (!this.#inflight) {
      this.#inflight = this.#fetchToken(signal).finally(() => {
        this.#inflight = undefined;
      });
    }
    return this.#inflight;
  }

  /**
   * Drops `token` from the cache (the server refused it: revoked, or its key rotated away).
   * @param {string} token
   */
  invalidate(token) {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  /**
   * @param {AbortSignal} [signal]
   * @returns {Promise<string>}
   */
  async #fetchToken(signal) {
    const params = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.scope) params.set('scope', this.scope);
    const started = this.now();
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      /** @type {Response} */
      let res;
      try {
        res = await this.fetch(this.tokenUrl, {
          method: 'POST',
          headers: {
            authorization: this.#authorization,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: params.toString(),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        // A token request changes nothing on the server: safe to repeat.
        const wait = nextDelay({ attempt, elapsedMs: this.now() - started, retryAfterMs: undefined }, this.retry);
        if (wait === undefined) throw new TokenError(0, 'network_error', e instanceof Error ? e.message : String(e));
        await sleep(wait, signal);
        continue;
      }
      const text = await res.text();
      /** @type {Record<string, unknown>} */
      let body = {};
      try {
        const parsed = JSON.parse(text);
        if (parsed && typeof parsed === 'object') body = parsed;
      } catch { /* reported below */ }
      if (res.status === 429 || res.status === 503) {
        const wait = nextDelay({ attempt, elapsedMs: this.now() - started, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) }, this.retry);
        if (wait !== undefined) {
          await sleep(wait, signal);
          continue;
        }
      }
      if (!res.ok) {
        // RFC 6749 §5.2: {"error": "invalid_client" | "invalid_scope" | ..., "error_description"}.
        throw new TokenError(res.status, typeof body.error === 'string' ? body.error : `http_${res.status}`,
          typeof body.error_description === 'string' ? body.error_description : undefined);
      }
      return this.#accept(body);
    }
  }

  /**
   * The token of a §5.1 answer, cached. A token_type other than Bearer, a missing token or a
   * malformed lifetime is refused rather than guessed at.
   * @param {Record<string, unknown>} body
   */
  #accept(body) {
    const token = body.access_token;
    if (typeof token !== 'string' || token.length === 0) throw new TokenError(200, 'invalid_response', 'access_token missing');
    if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
      throw new TokenError(200, 'invalid_response', `token_type ${JSON.stringify(body.token_type)} is not Bearer`);
    }
    const expiresIn = body.expires_in;
    // expires_in is only RECOMMENDED (§5.1): without it the token is used once, not cached.
    if (expiresIn === undefined) return token;
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new TokenError(200, 'invalid_response', 'expires_in missing or not a positive number');
    }
    const lifetimeMs = expiresIn * 1000;
    const refreshAt = this.now() + lifetimeMs - Math.min(this.refreshBeforeMs, lifetimeMs / 2);
    this.#cached = { token, refreshAt };
    return token;
  }
}
