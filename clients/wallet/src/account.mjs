// A citizen's optional proofgate account from the wallet (docs/citizens.md): sign-in by phone with
// a one-time code, the token pair kept in the wallet directory (account.json, 0600) and rotated
// when the access token is near its end, the proofs partners verified, link tokens for a proof
// request, deletion. Uses only fetch: Node and browsers.

/** How long before its expiry an access token is rotated instead of used. */
const refreshMarginMs = 30_000;

async function call(server, method, pathname, { bearer, body } = {}) {
  const headers = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(pathname, server), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = new Error(`${method} ${pathname}: ${res.status} ${json?.error_code ?? ''} ${json?.detail ?? text}`.trim());
    err.status = res.status;
    err.errorCode = json?.error_code;
    throw err;
  }
  return json;
}

/** The saved form of a token pair answered at `now`. */
function session(server, tokens, now = Date.now()) {
  return {
    server,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    access_expires_at: now + tokens.expires_in * 1000,
  };
}

/** Asks the server to send a sign-in code to `phone` (E.164): {status, expires_in}. */
export function startSignIn(server, phone, language) {
  return call(server, 'POST', '/api/v1/account/sign-in', { body: language ? { phone, language } : { phone } });
}

/** Signs in with the code: the session to save ({server, access_token, refresh_token, access_expires_at}). */
export async function finishSignIn(server, phone, code, language) {
  const body = language ? { phone, code, language } : { phone, code };
  return session(server, await call(server, 'POST', '/api/v1/account/sign-in/verify', { body }));
}

/**
 * A usable session: `current` itself, or the next pair when its access token is near its end
 * (the refresh token is single use: the caller must save what this returns before anything else).
 */
export async function freshSession(current, now = Date.now()) {
  if (current.access_expires_at - refreshMarginMs > now) return current;
  const tokens = await call(current.server, 'POST', '/api/v1/account/token', { body: { refresh_token: current.refresh_token } });
  return session(current.server, tokens, now);
}

export const accountProofs = (s) => call(s.server, 'GET', '/api/v1/account/proofs', { bearer: s.access_token });
export const accountInfo = (s) => call(s.server, 'GET', '/api/v1/account', { bearer: s.access_token });
export const deleteAccount = (s) => call(s.server, 'DELETE', '/api/v1/account', { bearer: s.access_token });

/** A link token for the proof request with `nonce`: its text, for the verify body's account_link. */
export async function linkToken(s, nonce) {
  return (await call(s.server, 'POST', '/api/v1/account/link-token', { bearer: s.access_token, body: { nonce } })).link_token;
}
