// Retries: exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS
// Architecture Blog, 2015: sleep = random(0, min(cap, base * 2^attempt))), never shorter than the
// answer's Retry-After (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), bounded in attempts and
// in total time.

/**
 * @typedef {object} RetryOptions
 * @property {number} [maxAttempts] attempts in all, the first included (default 4; 1 = no retry)
 * @property {number} [baseDelayMs] the first backoff's upper bound (default 200)
 * @property {number} [maxDelayMs] the cap of one backoff (default 5000)
 * @property {number} [maxElapsedMs] no retry starts after this long since the first attempt,
 *   and none whose wait would pass it (default 30000)
 * @property {number} [maxRetryAfterMs] a Retry-After longer than this is not waited for: the
 *   error is thrown at once (default 60000)
 * @property {() => number} [random] uniform in [0, 1) (default Math.random; tests fix it)
 */

/** @type {Required<Omit<RetryOptions, 'random'>>} */
export const kRetryDefaults = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  maxElapsedMs: 30_000,
  maxRetryAfterMs: 60_000,
};

/**
 * A Retry-After header value in milliseconds from `nowMs`: delay-seconds (digits only) or an
 * HTTP-date (a date in the past gives 0). Undefined for a missing or malformed value.
 * @param {string | null | undefined} value
 * @param {number} [nowMs]
 * @returns {number | undefined}
 */
export function parseRetryAfter(value, nowMs = Date.now()) {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") and the two obsolete forms all name GMT.
  if (!/GMT$/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * The full-jitter backoff before retry number `retry` (0 for the first retry).
 * @param {number} retry
 * @param {Required<Omit<RetryOptions, 'random'>>} opts
 * @param {() => number} random
 */
export function backoffDelay(retry, opts, random) {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/**
 * The wait before the next attempt, or undefined when no retry may start: the attempts or the
 * time budget are spent, or the Retry-After asked for is longer than allowed.
 * @param {object} state
 * @param {number} state.attempt attempts made so far (1 after the first)
 * @param {number} state.elapsedMs since the first attempt started
 * @param {number | undefined} state.retryAfterMs the answer's Retry-After, if any
 * @param {RetryOptions} [options]
 * @returns {number | undefined}
 */
export function nextDelay({ attempt, elapsedMs, retryAfterMs }, options = {}) {
  const opts = { ...kRetryDefaults, ...options };
  const random = options.random ?? Math.random;
  if (attempt >= opts.maxAttempts) return undefined;
  if (retryAfterMs !== undefined && retryAfterMs > opts.maxRetryAfterMs) return undefined;
  const wait = Math.max(backoffDelay(attempt - 1, opts, random), retryAfterMs ?? 0);
  if (elapsedMs + wait > opts.maxElapsedMs) return undefined;
  return wait;
}

/**
 * Resolves after `ms`, or rejects with the signal's reason once `signal` aborts.
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
