// Typed errors of the SDK: ProofgateError from an RFC 9457 problem+json answer, and
// ProofgateNetworkError when no answer came (connection refused or reset, timeout).

/** @typedef {import('./schema.js').components['schemas']['Problem']} Problem */

/** An error answer from proofgate (any 4xx/5xx), carrying the problem body's members. */
export class ProofgateError extends Error {
  /**
   * @param {object} init
   * @param {number} init.status the HTTP status
   * @param {string} init.errorCode the problem's `error_code` (e.g. "NONCE_REPLAY"), or
   *   "HTTP_<status>" when the body was not a problem
   * @param {string} [init.title]
   * @param {string} [init.detail]
   * @param {string} [init.field] the member or header the error names, when it names one
   * @param {string} [init.type]
   * @param {string} [init.requestId] the answer's X-Request-Id (quote it to the operator)
   * @param {number | undefined} [init.retryAfterMs] the answer's Retry-After, in milliseconds
   * @param {Record<string, unknown>} [init.body] the whole problem body (extension members such
   *   as `outcome` and `proof_id` of a rejected proof included)
   */
  constructor({ status, errorCode, title, detail, field, type, requestId, retryAfterMs, body }) {
    super(`${errorCode} (${status}): ${detail ?? title ?? 'no detail'}`);
    this.name = 'ProofgateError';
    this.status = status;
    this.errorCode = errorCode;
    this.title = title;
    this.detail = detail;
    this.field = field;
    this.type = type;
    this.requestId = requestId;
    this.retryAfterMs = retryAfterMs;
    this.body = body ?? {};
  }

  /** The recorded failed proof's id when a verification was rejected (422, outcome "rejected"). */
  get proofId() {
    const id = this.body.proof_id;
    return typeof id === 'string' ? id : undefined;
  }
}

/** No answer from proofgate: the request may or may not have reached it. */
export class ProofgateNetworkError extends Error {
  /**
   * @param {string} message
   * @param {unknown} cause
   */
  constructor(message, cause) {
    super(message, { cause });
    this.name = 'ProofgateNetworkError';
  }
}

/** The OAuth2 token endpoint refused (RFC 6749 §5.2: `error`, `error_description`). */
export class TokenError extends Error {
  /**
   * @param {number} status
   * @param {string} error
   * @param {string | undefined} description
   */
  constructor(status, error, description) {
    super(`token endpoint: ${error} (${status})${description ? `: ${description}` : ''}`);
    this.name = 'TokenError';
    this.status = status;
    this.error = error;
    this.description = description;
  }
}

/**
 * The ProofgateError of an answer that is not 2xx; `text` is its body. A body that is not a
 * problem (a proxy's HTML page) still gives a ProofgateError, with errorCode "HTTP_<status>".
 * @param {Response} res
 * @param {string} text
 * @param {number | undefined} retryAfterMs
 * @returns {ProofgateError}
 */
export function errorFromResponse(res, text, retryAfterMs) {
  /** @type {Record<string, unknown>} */
  let body = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed;
  } catch { /* not JSON: keep the status alone */ }
  const str = (/** @type {unknown} */ v) => (typeof v === 'string' ? v : undefined);
  return new ProofgateError({
    status: res.status,
    errorCode: str(body.error_code) ?? `HTTP_${res.status}`,
    title: str(body.title),
    detail: str(body.detail) ?? (Object.keys(body).length === 0 && text ? text.slice(0, 200) : undefined),
    field: str(body.field),
    type: str(body.type),
    requestId: res.headers.get('x-request-id') ?? undefined,
    retryAfterMs,
    body,
  });
}
