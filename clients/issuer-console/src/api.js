// The node's admin API as the page calls it: same-origin fetches with the admin token as a Bearer
// credential (docs/issuers.md). The token lives in sessionStorage only: this tab, gone when it
// closes; never in localStorage, a cookie or the URL.
const kTokenKey = 'proofgate.issuer-console.token';

export function token() {
  return sessionStorage.getItem(kTokenKey);
}
export function setToken(value) {
  if (value) sessionStorage.setItem(kTokenKey, value);
  else sessionStorage.removeItem(kTokenKey);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ? `${problem.error_code ?? status}: ${problem.detail}` : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** One call; `bearer` overrides the stored token (the sign-in check). Throws ApiError. */
export async function api(method, path, body, bearer = token()) {
  const headers = { Accept: 'application/json' };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'omit',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { detail: text || res.statusText };
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
