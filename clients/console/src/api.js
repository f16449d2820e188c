// The admin API as the console calls it: same-origin fetches with the session cookie, and the
// session's CSRF token on every state-changing request (docs/admin.md). The server keeps only the
// token's hash, so the tab keeps the token (sessionStorage: this tab only, gone when it closes).
const kCsrfKey = 'proofgate.console.csrf';
let csrfToken = sessionStorage.getItem(kCsrfKey);

export function setCsrf(token) {
  csrfToken = token ?? null;
  if (csrfToken) sessionStorage.setItem(kCsrfKey, csrfToken);
  else sessionStorage.removeItem(kCsrfKey);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function send(method, path, body, accept) {
  const headers = { Accept: accept };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    let problem = null;
    try {
      problem = JSON.parse(text);
    } catch {
      problem = { detail: text || res.statusText };
    }
    throw new ApiError(res.status, problem);
  }
  return text;
}

export async function api(method, path, body) {
  const text = await send(method, path, body, 'application/json');
  return text ? JSON.parse(text) : null;
}

/** JSON lines (the audit export): one object per non-empty line. */
export async function apiLines(path) {
  const text = await send('GET', path, undefined, 'application/x-ndjson');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
