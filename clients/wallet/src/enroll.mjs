// Enrolment with an issuer node (docs/issuers.md, "The issuer node's API"), in Node and in
// browsers (global fetch only): ask for a code, complete it with the holder's commitment (never
// the secret), refresh a credential's Merkle path, tell whether a credential is current, and
// read credential offer links. Every answer of the issuer is checked (fields, canonical
// decimals, the leaf recomputed, the path leading to the root) before the caller may keep it.
import { R } from './holder.mjs';
import { poseidonHasher } from './tree.mjs';

/** The depth of every issuer's tree (docs/protocol.md). */
export const TREE_DEPTH = 20;

/**
 * The issuers and their schemas (docs/protocol.md): ids and the credential attributes in the
 * order the circuits hash them into the leaf (circuits/lib/credential.circom).
 */
export const ISSUERS = Object.freeze({
  moha: Object.freeze({ issuer_id: 1, schema: 'identity', schema_id: 1, attributes: ['birth_date', 'country'] }),
  tu: Object.freeze({
    issuer_id: 2, schema: 'education', schema_id: 2,
    attributes: ['degree_level', 'graduation_year', 'institution_id'],
  }),
  nrb: Object.freeze({ issuer_id: 3, schema: 'income', schema_id: 3, attributes: ['annual_income_npr', 'fiscal_year'] }),
});

// The members of the credential (POST /issuer/v1/enrolments/complete) and of a current path
// (GET /issuer/v1/credentials/{leaf_index}), in the order docs/issuers.md lists them.
const kCredentialFields = ['issuer', 'issuer_id', 'issuer_url', 'schema', 'schema_id', 'attributes', 'expiry',
  'leaf_index', 'leaf', 'root', 'root_seq', 'siblings', 'path_indices'];
const kPathFields = ['leaf_index', 'leaf', 'root', 'root_seq', 'siblings', 'path_indices'];
const kStartFields = ['sent_to', 'expires_in'];

const kDecimal = /^(0|[1-9][0-9]*)$/;
// Record numbers (docs/issuers.md): digits and hyphens today; letters allowed for other
// authorities, nothing that could be taken for a path, a query or whitespace.
const kRecord = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const kCode = /^[0-9]{6}$/;
// The masked phone of POST /issuer/v1/enrolments ("98******12").
const kMaskedPhone = /^[0-9*]{4,20}$/;
const kOfferPrefix = 'proofgate-wallet://enroll?';
const kDefaultTimeoutMs = 30000;

/**
 * Why enrolment, a refresh or an offer failed. `code` is the issuer's `error_code`
 * (WRONG_CODE, CODE_EXPIRED, LOCKED_OUT, RATE_LIMITED, AUTHORITY_UNAVAILABLE,
 * AUTHORITY_BAD_ANSWER, UNKNOWN_RECORD, REVOKED, NOT_FOUND, INVALID_REQUEST, …) or the wallet's
 * own: 'BAD_ARGUMENT' (the caller's input), 'UNREACHABLE' (no HTTP answer), 'HTTP_STATUS' (an
 * error without the protocol's body), 'BAD_ANSWER' (the issuer's answer failed a check; nothing
 * of it may be kept). `status` is the HTTP status where there was one; `retryAfter` the seconds
 * to wait (LOCKED_OUT, RATE_LIMITED) where the issuer said.
 */
export class EnrolmentError extends Error {
  constructor(code, message, { status, retryAfter } = {}) {
    super(message);
    this.name = 'EnrolmentError';
    this.code = code;
    if (status !== undefined) this.status = status;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }
}

const badArgument = (message) => new EnrolmentError('BAD_ARGUMENT', message);
const badAnswer = (message) => new EnrolmentError('BAD_ANSWER', `the issuer's answer is refused: ${message}`);
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The issuer node's base URL from `url` (http or https, no credentials, query or fragment), as
 * a string without a trailing slash. Throws a BAD_ARGUMENT EnrolmentError naming what is wrong.
 */
export function issuerBase(url, what = 'issuer URL') {
  if (typeof url !== 'string') throw badArgument(`${what}: not a URL: ${JSON.stringify(url)}`);
  let u;
  try {
    u = new URL(url);
  } catch {
    throw badArgument(`${what}: not a URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw badArgument(`${what}: ${JSON.stringify(url)} is not http(s)`);
  }
  if (u.username || u.password) throw badArgument(`${what}: ${JSON.stringify(url)} carries credentials`);
  if (u.search || u.hash || url.includes('#') || url.includes('?')) {
    throw badArgument(`${what}: ${JSON.stringify(url)} has a query or fragment`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

function checkRecord(record, what = 'record') {
  if (typeof record !== 'string' || !kRecord.test(record)) {
    throw badArgument(`${what}: ${JSON.stringify(record)} is not a record number (letters, digits and hyphens, at most 64)`);
  }
}

function checkDecimal(value, what, errorOf) {
  if (typeof value !== 'string' || !kDecimal.test(value)) {
    throw errorOf(`${what} is not a decimal string: ${JSON.stringify(value)}`);
  }
  if (BigInt(value) >= R) throw errorOf(`${what} is not below the field order r: ${value}`);
  return BigInt(value);
}

/** The seconds of a Retry-After header (delta-seconds or an HTTP date), else undefined. */
function retryAfterOf(res) {
  const header = res.headers?.get?.('retry-after');
  if (header && /^[0-9]+$/.test(header.trim())) return Number(header.trim());
  if (header && !Number.isNaN(Date.parse(header))) return Math.max(0, Math.ceil((Date.parse(header) - Date.now()) / 1000));
  const body = res.json;
  if (isObject(body) && Number.isSafeInteger(body.retry_after) && body.retry_after >= 0) return body.retry_after;
  return undefined;
}

const later = (seconds) => (seconds === undefined ? 'later' : `in ${seconds} s`);

/**
 * The issuer's answer `res`, whose status was not the `expected` one, as an EnrolmentError with
 * a message saying what to do: the protocol's errors by their error_code; another success status
 * is a BAD_ANSWER.
 */
function issuerError(res, action, expected) {
  if (res.status < 400) {
    return new EnrolmentError('BAD_ANSWER', `${action}: the issuer's answer is refused: HTTP ${res.status}, not ${expected}`,
      { status: res.status });
  }
  const body = res.json;
  const code = isObject(body) && typeof body.error_code === 'string' ? body.error_code : undefined;
  const detail = isObject(body) && typeof body.detail === 'string' && body.detail ? ` (${body.detail})` : '';
  const retryAfter = retryAfterOf(res);
  let message;
  switch (code) {
    case 'WRONG_CODE':
      message = `the code is wrong${detail}: check it and run again, or ask for a new code`;
      break;
    case 'CODE_EXPIRED':
      message = `the code has expired or was used already${detail}: ask for a new code`;
      break;
    case 'LOCKED_OUT':
      message = `locked out after too many codes or wrong codes for this record${detail}: try again ${later(retryAfter)}`;
      break;
    case 'RATE_LIMITED':
      message = `too many requests to the issuer${detail}: try again ${later(retryAfter)}`;
      break;
    case 'AUTHORITY_UNAVAILABLE':
      message = `the authority behind the issuer is unavailable${detail}: try again later`;
      break;
    case 'AUTHORITY_BAD_ANSWER':
      message = `the authority gave the issuer an answer it could not read${detail}: try again later`;
      break;
    case 'UNKNOWN_RECORD':
      message = `the authority has no such record${detail}`;
      break;
    case 'REVOKED':
      message = `the credential was revoked by the issuer${detail}`;
      break;
    case undefined:
      message = `the issuer answered HTTP ${res.status} without the protocol's error body`;
      break;
    default:
      message = `the issuer answered HTTP ${res.status} ${code}${detail}`;
  }
  return new EnrolmentError(code ?? 'HTTP_STATUS', `${action}: ${message}`, { status: res.status, retryAfter });
}

function describeFailure(err, timeoutMs) {
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = err?.cause?.code ?? err?.cause?.message;
  return cause ? `${err.message} (${cause})` : String(err?.message ?? err);
}

/** One HTTP exchange with the issuer: { status, headers, json (undefined when not JSON) }. */
async function exchange(base, method, route, body, action, options) {
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? kDefaultTimeoutMs;
  const url = `${base}${route}`;
  const init = { method, headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    const res = await fetchFn(url, init);
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json };
  } catch (err) {
    throw new EnrolmentError('UNREACHABLE', `${action}: cannot reach the issuer at ${base}: ${describeFailure(err, timeoutMs)}`);
  }
}

/** Refuses an answer object that lacks one of `fields` or has any other member. */
function checkMembers(answer, fields, what) {
  if (!isObject(answer)) throw badAnswer(`${what} is not a JSON object`);
  for (const name of fields) {
    if (!Object.hasOwn(answer, name)) throw badAnswer(`${what} lacks "${name}"`);
  }
  for (const name of Object.keys(answer)) {
    if (!fields.includes(name)) throw badAnswer(`${what} has an unknown member "${name}"`);
  }
}

/** The root that `leaf` at the path (siblings, direction bits; 0: a left child) leads to. */
export async function rootFromPath(leaf, siblings, pathIndices) {
  const hash = await poseidonHasher();
  let node = BigInt(leaf);
  for (let level = 0; level < siblings.length; ++level) {
    const sibling = BigInt(siblings[level]);
    node = pathIndices[level] === 0 ? hash([node, sibling]) : hash([sibling, node]);
  }
  return node;
}

/**
 * Checks the path members of `answer` (leaf_index, leaf, root, root_seq, siblings,
 * path_indices): canonical decimals below r, 20 siblings, bits 0/1 that spell leaf_index, and
 * the path leading from leaf to root. Returns them, normalised to the documented types.
 */
async function checkPath(answer, what) {
  const { leaf_index: index, root_seq: seq, siblings, path_indices: bits } = answer;
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** TREE_DEPTH) {
    throw badAnswer(`${what}: leaf_index is not an integer in [0, 2^${TREE_DEPTH}): ${JSON.stringify(index)}`);
  }
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw badAnswer(`${what}: root_seq is not a positive integer: ${JSON.stringify(seq)}`);
  }
  const leaf = checkDecimal(answer.leaf, `${what}: leaf`, badAnswer);
  const root = checkDecimal(answer.root, `${what}: root`, badAnswer);
  const count = (v) => (Array.isArray(v) ? v.length : typeof v);
  if (!Array.isArray(siblings) || siblings.length !== TREE_DEPTH) {
    throw badAnswer(`${what}: siblings must be ${TREE_DEPTH} decimal strings, not ${count(siblings)}`);
  }
  siblings.forEach((s, i) => checkDecimal(s, `${what}: siblings[${i}]`, badAnswer));
  if (!Array.isArray(bits) || bits.length !== TREE_DEPTH) {
    throw badAnswer(`${what}: path_indices must be ${TREE_DEPTH} bits, not ${count(bits)}`);
  }
  bits.forEach((b, i) => {
    if (b !== 0 && b !== 1) throw badAnswer(`${what}: path_indices[${i}] is not 0 or 1: ${JSON.stringify(b)}`);
    // The direction bits are the index's binary digits, lowest first (docs/protocol.md).
    if (b !== Math.floor(index / 2 ** i) % 2) throw badAnswer(`${what}: path_indices[${i}] does not match leaf_index ${index}`);
  });
  if ((await rootFromPath(leaf, siblings, bits)) !== root) {
    throw badAnswer(`${what}: the path from the leaf does not lead to the root`);
  }
  return {
    leaf_index: index, leaf: answer.leaf, root: answer.root, root_seq: seq,
    siblings: [...siblings], path_indices: [...bits],
  };
}

/**
 * Checks the credential `answer` of POST /issuer/v1/enrolments/complete for the holder whose
 * commitment is `commitment` (a decimal string): the members of docs/issuers.md and nothing
 * else, a known issuer with its ids and schema, the schema's attributes as non-negative
 * integers, the leaf recomputed from them, the path leading to the root. Returns the credential
 * (a fresh object with the documented members only); throws a BAD_ANSWER EnrolmentError.
 */
export async function checkCredential(answer, commitment) {
  const what = 'credential';
  checkMembers(answer, kCredentialFields, what);
  const spec = Object.hasOwn(ISSUERS, answer.issuer) ? ISSUERS[answer.issuer] : undefined;
  if (!spec) throw badAnswer(`${what}: unknown issuer ${JSON.stringify(answer.issuer)} (moha, tu, nrb)`);
  for (const field of ['issuer_id', 'schema', 'schema_id']) {
    if (answer[field] !== spec[field]) {
      const [got, want] = [JSON.stringify(answer[field]), JSON.stringify(spec[field])];
      throw badAnswer(`${what}: ${field} ${got} is not ${answer.issuer}'s (${want})`);
    }
  }
  try {
    issuerBase(answer.issuer_url);
  } catch (err) {
    throw badAnswer(`${what}: issuer_url: ${err.message}`);
  }
  checkMembers(answer.attributes, spec.attributes, `${what}: attributes`);
  const values = spec.attributes.map((name) => {
    const v = answer.attributes[name];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw badAnswer(`${what}: attributes.${name} is not a non-negative integer: ${JSON.stringify(v)}`);
    }
    return v;
  });
  const { expiry } = answer;
  if (!Number.isSafeInteger(expiry) || expiry < 10000101 || expiry > 99991231 ||
      Math.floor(expiry / 100) % 100 < 1 || Math.floor(expiry / 100) % 100 > 12 || expiry % 100 < 1 || expiry % 100 > 31) {
    throw badAnswer(`${what}: expiry is not a yyyymmdd date: ${JSON.stringify(expiry)}`);
  }
  const path = await checkPath(answer, what);
  const holderCommitment = checkDecimal(commitment, 'holder commitment', badArgument);
  const hash = await poseidonHasher();
  const leaf = hash([spec.issuer_id, spec.schema_id, holderCommitment, ...values, expiry]);
  if (leaf.toString() !== path.leaf) {
    throw badAnswer(`${what}: the leaf is not Poseidon(issuer_id, schema_id, this holder's commitment, attributes, expiry)`);
  }
  return {
    issuer: answer.issuer, issuer_id: spec.issuer_id, issuer_url: answer.issuer_url,
    schema: spec.schema, schema_id: spec.schema_id,
    attributes: Object.fromEntries(spec.attributes.map((name, i) => [name, values[i]])),
    expiry, ...path,
  };
}

/**
 * Asks the issuer at `issuerUrl` to have the authority send a one-time code to the phone
 * registered for `record`: POST /issuer/v1/enrolments. Resolves with { sent_to, expires_in }
 * (the masked phone, the code's lifetime in seconds); throws an EnrolmentError.
 * options: fetch (default globalThis.fetch), timeoutMs (default 30 s).
 */
export async function startEnrolment(issuerUrl, record, options = {}) {
  const base = issuerBase(issuerUrl);
  checkRecord(record);
  const action = `asking ${base} for a code for record ${record}`;
  const res = await exchange(base, 'POST', '/issuer/v1/enrolments', { record }, action, options);
  if (res.status !== 202) throw issuerError(res, action, '202');
  checkMembers(res.json, kStartFields, 'enrolment answer');
  const { sent_to: sentTo, expires_in: expiresIn } = res.json;
  if (typeof sentTo !== 'string' || !kMaskedPhone.test(sentTo)) {
    throw badAnswer(`enrolment answer: sent_to is not a masked phone number: ${JSON.stringify(sentTo)}`);
  }
  if (!Number.isSafeInteger(expiresIn) || expiresIn < 1) {
    throw badAnswer(`enrolment answer: expires_in is not a positive integer: ${JSON.stringify(expiresIn)}`);
  }
  return { sent_to: sentTo, expires_in: expiresIn };
}

/**
 * Completes enrolment: POST /issuer/v1/enrolments/complete with `record`, the six-digit `code`
 * and holder.commitment. The holder's secret is never read here, let alone sent. Resolves with
 * the checked credential (see checkCredential), the same one again when the issuer had issued
 * it already (200); throws an EnrolmentError. options as for startEnrolment.
 */
export async function completeEnrolment(issuerUrl, record, code, holder, options = {}) {
  const base = issuerBase(issuerUrl);
  checkRecord(record);
  if (typeof code !== 'string' || !kCode.test(code)) throw badArgument(`code: ${JSON.stringify(code)} is not six digits`);
  const commitment = holder?.commitment;
  checkDecimal(commitment, 'holder.commitment', badArgument);
  const action = `enrolling record ${record} at ${base}`;
  const body = { record, code, holder_commitment: commitment };
  const res = await exchange(base, 'POST', '/issuer/v1/enrolments/complete', body, action, options);
  if (res.status !== 201 && res.status !== 200) throw issuerError(res, action, '201 or 200');
  return checkCredential(res.json, commitment);
}

/** The members of a stored credential that refresh needs, checked. */
function storedPathOf(credential) {
  if (!isObject(credential)) throw badArgument('the credential is not an object');
  const base = issuerBase(credential.issuer_url, 'credential.issuer_url');
  const index = credential.leaf_index;
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** TREE_DEPTH) {
    throw badArgument(`credential.leaf_index is not an integer in [0, 2^${TREE_DEPTH}): ${JSON.stringify(index)}`);
  }
  checkDecimal(credential.leaf, 'credential.leaf', badArgument);
  checkDecimal(credential.root, 'credential.root', badArgument);
  if (!Number.isSafeInteger(credential.root_seq) || credential.root_seq < 1) {
    throw badArgument(`credential.root_seq is not a positive integer: ${JSON.stringify(credential.root_seq)}`);
  }
  return base;
}

/**
 * A current path for `credential` (as completeEnrolment returned it) from its issuer:
 * GET {issuer_url}/issuer/v1/credentials/{leaf_index}. Resolves with the credential carrying the
 * new root, root_seq, siblings and path_indices (the same values when the root has not moved).
 * The answer must be for this credential's index and leaf, lead to its root, and not go back
 * in root_seq nor repeat an older root. A revoked credential is an EnrolmentError with code
 * REVOKED; anything else that fails is an EnrolmentError too, and the caller keeps the
 * credential it had.
 */
export async function refreshCredential(credential, options = {}) {
  const base = storedPathOf(credential);
  const index = credential.leaf_index;
  const name = `credential ${credential.issuer ?? base} #${index}`;
  const action = `refreshing ${name}`;
  const res = await exchange(base, 'GET', `/issuer/v1/credentials/${index}`, undefined, action, options);
  if (res.status === 410 && isObject(res.json) && res.json.error_code === 'REVOKED') {
    throw new EnrolmentError('REVOKED', `${action}: the credential was revoked by the issuer`, { status: 410 });
  }
  if (res.status !== 200) throw issuerError(res, action, '200');
  checkMembers(res.json, kPathFields, 'path');
  const path = await checkPath(res.json, 'path');
  if (path.leaf_index !== index) throw badAnswer(`path: leaf_index ${path.leaf_index} was not asked for (${index})`);
  if (path.leaf !== credential.leaf) throw badAnswer(`path: the leaf at index ${index} is not this credential's`);
  if (path.root_seq < credential.root_seq) {
    throw badAnswer(`path: root_seq ${path.root_seq} is older than the credential's ${credential.root_seq}`);
  }
  if (path.root_seq === credential.root_seq && path.root !== credential.root) {
    throw badAnswer(`path: root_seq ${path.root_seq} names another root than the credential's`);
  }
  // Every change of the tree gives a fresh root (docs/issuers.md, "Roots never repeat").
  if (path.root_seq > credential.root_seq && path.root === credential.root) {
    throw badAnswer(`path: root_seq ${path.root_seq} repeats the root of root_seq ${credential.root_seq}`);
  }
  return { ...credential, root: path.root, root_seq: path.root_seq, siblings: path.siblings, path_indices: path.path_indices };
}

/**
 * Where `credential` stands at its issuer: 'current' (its root is the issuer's), 'stale' (the
 * issuer's root moved: refresh before proving), 'revoked', or 'unreachable: <why>' (no answer,
 * or one that failed the checks). A credential that is not one (no issuer_url, leaf, …) is not a
 * status: it throws the BAD_ARGUMENT EnrolmentError naming what is wrong.
 */
export async function credentialStatus(credential, options = {}) {
  try {
    const fresh = await refreshCredential(credential, options);
    return fresh.root === credential.root ? 'current' : 'stale';
  } catch (err) {
    if (err.code === 'BAD_ARGUMENT') throw err;
    if (err.code === 'REVOKED') return 'revoked';
    return `unreachable: ${err.message}`;
  }
}

/**
 * A credential offer link, `proofgate-wallet://enroll?issuer=<url-encoded issuer URL>&record=<record>`,
 * read strictly: that scheme and host, exactly the two parameters once each, an http(s) issuer
 * URL and a record number. Resolves to { issuerUrl, record }; throws a BAD_ARGUMENT
 * EnrolmentError naming what is wrong.
 */
export function parseOffer(link) {
  if (typeof link !== 'string') throw badArgument('offer: the link is not a string');
  if (!link.startsWith(kOfferPrefix)) {
    throw badArgument(`offer: ${JSON.stringify(link)} does not start with ${kOfferPrefix}`);
  }
  const query = link.slice(kOfferPrefix.length);
  if (query.includes('#')) throw badArgument('offer: the link has a fragment');
  const params = new Map();
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw badArgument(`offer: ${JSON.stringify(pair)} is not a name=value parameter`);
    const name = pair.slice(0, eq);
    if (name !== 'issuer' && name !== 'record') throw badArgument(`offer: unknown parameter ${JSON.stringify(name)}`);
    if (params.has(name)) throw badArgument(`offer: parameter ${name} is given twice`);
    let value;
    try {
      value = decodeURIComponent(pair.slice(eq + 1));
    } catch {
      throw badArgument(`offer: parameter ${name} is not valid percent-encoding`);
    }
    params.set(name, value);
  }
  for (const name of ['issuer', 'record']) {
    if (!params.has(name)) throw badArgument(`offer: parameter ${name} is missing`);
  }
  const issuerUrl = issuerBase(params.get('issuer'), 'offer: issuer');
  checkRecord(params.get('record'), 'offer: record');
  return { issuerUrl, record: params.get('record') };
}
