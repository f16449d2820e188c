// The issuer console's pages: the node's state, its credentials (revocation with a reason and a
// confirm step), credential offers, signing-key rotation and the audit trail. Each calls the
// node's admin API (docs/issuers.md) and shows its refusals.
import { useEffect, useState } from 'preact/hooks';

import { api, query } from './api.js';
import { t } from './i18n.js';
import { ErrorBanner, attempt, when } from './widgets.jsx';

const kPageSize = 50;

function KeyTable({ keys }) {
  return (
    <table id="keys">
      <thead>
        <tr>
          <th>{t('keyId')}</th>
          <th>{t('createdAt')}</th>
          <th>{t('validUntil')}</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr data-key={k.key_id}>
            <td>
              <code>{k.key_id}</code>
            </td>
            <td>{when(k.created_at)}</td>
            <td class="valid-until">{k.retired_after === null ? t('current') : when(k.retired_after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Stats({ onUnauthorized }) {
  const [stats, setStats] = useState(null);
  const [keys, setKeys] = useState([]);
  const [error, setError] = useState(null);
  const load = async () => {
    const s = await attempt(setError, onUnauthorized, () => api('GET', '/issuer/v1/admin/stats'));
    if (s) setStats(s);
    const k = await attempt(setError, onUnauthorized, () => api('GET', '/issuer/v1/keys'));
    if (k) setKeys(k.keys);
  };
  useEffect(() => {
    load();
  }, []);
  const a = stats?.authority ?? {};
  return (
    <>
      <ErrorBanner error={error} />
      <button type="button" id="refresh" onClick={load}>
        {t('refresh')}
      </button>
      {stats && (
        <div class="card" id="stats">
          <dl>
            <dt>{t('leafCount')}</dt>
            <dd id="stat-leaf-count">{stats.leaf_count}</dd>
            <dt>{t('revoked')}</dt>
            <dd id="stat-revoked">{stats.revoked}</dd>
            <dt>{t('rootSeq')}</dt>
            <dd id="stat-root-seq">{stats.root_seq}</dd>
            <dt>{t('root')}</dt>
            <dd>
              <code id="stat-root">{stats.root}</code>
            </dd>
          </dl>
          <h3>{t('authority')}</h3>
          <dl id="authority">
            <dt>{t('breaker')}</dt>
            <dd id="stat-breaker" class={a.breaker === 'closed' ? '' : 'breaker-open'}>
              {a.breaker}
            </dd>
            <dt>{t('calls')}</dt>
            <dd id="stat-calls">{a.calls}</dd>
            <dt>{t('attempts')}</dt>
            <dd id="stat-attempts">{a.attempts}</dd>
            <dt>{t('retries')}</dt>
            <dd id="stat-retries">{a.retries}</dd>
            <dt>{t('fastFails')}</dt>
            <dd id="stat-fast-fails">{a.fast_fails}</dd>
            <dt>{t('failures')}</dt>
            <dd id="stat-failures">{a.failures}</dd>
          </dl>
          <h3>{t('keys')}</h3>
          <KeyTable keys={keys} />
        </div>
      )}
    </>
  );
}

/** Revoking one credential: a required reason, then a confirm step, then the API's answer. */
function RevokeForm({ leafIndex, onDone, onCancel, onUnauthorized }) {
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  const ask = (e) => {
    e.preventDefault();
    if (reason.trim() !== '') setConfirming(true);
  };
  const revoke = async () => {
    const r = await attempt(setError, onUnauthorized, () =>
      api('POST', `/issuer/v1/admin/credentials/${leafIndex}/revoke`, { reason: reason.trim() }),
    );
    setConfirming(false);
    if (r) onDone(r);
  };
  return (
    <form class="card" id="revoke-form" onSubmit={ask}>
      <label>
        {t('reason')}
        <textarea
          name="reason"
          required
          maxlength="500"
          rows="2"
          value={reason}
          onInput={(e) => setReason(e.target.value)}
          disabled={confirming}
        />
      </label>
      {!confirming && (
        <>
          <button type="submit" id="revoke-ask" class="danger">
            {t('revoke')}
          </button>
          <button type="button" onClick={onCancel}>
            {t('cancel')}
          </button>
        </>
      )}
      {confirming && (
        <div class="confirm" id="revoke-confirmation">
          <p>{t('confirmRevoke', { i: leafIndex })}</p>
          <button type="button" id="revoke-confirm" class="danger" onClick={revoke}>
            {t('confirm')}
          </button>
          <button type="button" id="revoke-cancel" onClick={() => setConfirming(false)}>
            {t('cancel')}
          </button>
        </div>
      )}
      <ErrorBanner error={error} />
    </form>
  );
}

export function Credentials({ onUnauthorized }) {
  const [rows, setRows] = useState([]);
  const [more, setMore] = useState(false);
  const [revoking, setRevoking] = useState(null);
  const [done, setDone] = useState(null);
  const [error, setError] = useState(null);
  const load = async (after) => {
    const r = await attempt(setError, onUnauthorized, () =>
      api('GET', `/issuer/v1/admin/credentials${query({ after, limit: kPageSize })}`),
    );
    if (!r) return;
    setRows((old) => (after === undefined ? r.credentials : [...old, ...r.credentials]));
    setMore(r.credentials.length === kPageSize);
  };
  useEffect(() => {
    load(undefined);
  }, []);
  const revoked = (answer) => {
    setDone(answer);
    setRevoking(null);
    setRows((old) =>
      old.map((c) => (c.leaf_index === answer.leaf_index ? { ...c, status: 'revoked', revoked_at: Date.now() } : c)),
    );
  };
  return (
    <>
      <ErrorBanner error={error} />
      {done && (
        <p class="notice" id="revoked-result">
          {t('revokedDone', { i: done.leaf_index, seq: done.root_seq })}
        </p>
      )}
      {revoking !== null && (
        <RevokeForm
          leafIndex={revoking}
          onDone={revoked}
          onCancel={() => setRevoking(null)}
          onUnauthorized={onUnauthorized}
        />
      )}
      <table id="credentials">
        <thead>
          <tr>
            <th>{t('leafIndex')}</th>
            <th>{t('status')}</th>
            <th>{t('issuedAt')}</th>
            <th>{t('revokedAt')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colspan="5">{t('noRows')}</td>
            </tr>
          )}
          {rows.map((c) => (
            <tr id={`cred-${c.leaf_index}`}>
              <td>{c.leaf_index}</td>
              <td class="status" data-status={c.status}>
                {c.status === 'revoked' ? t('revokedStatus') : t('active')}
              </td>
              <td>{when(c.issued_at)}</td>
              <td>{when(c.revoked_at)}</td>
              <td>
                {c.status === 'active' && (
                  <button
                    type="button"
                    class="revoke"
                    onClick={() => {
                      setDone(null);
                      setRevoking(c.leaf_index);
                    }}
                  >
                    {t('revoke')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more && (
        <button type="button" id="load-more" onClick={() => load(rows[rows.length - 1].leaf_index)}>
          {t('loadMore')}
        </button>
      )}
    </>
  );
}

export function Offers({ onUnauthorized }) {
  const [offer, setOffer] = useState(null);
  const [error, setError] = useState(null);
  const make = async (e) => {
    e.preventDefault();
    const record = new FormData(e.target).get('record').trim();
    const r = await attempt(setError, onUnauthorized, () => api('POST', '/issuer/v1/admin/offers', { record }));
    setOffer(r ?? null);
  };
  return (
    <>
      <form class="card" id="offer-form" onSubmit={make}>
        <label>
          {t('record')} <input name="record" autocomplete="off" required />
        </label>
        <p class="note">{t('offerNote')}</p>
        <button type="submit">{t('makeOffer')}</button>
        <ErrorBanner error={error} />
      </form>
      {offer && (
        <div class="card" id="offer">
          <p>
            {t('offerLink')}: <code id="offer-link">{offer.link}</code>
          </p>
          <img
            id="offer-qr"
            alt="QR code of the offer link"
            src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(offer.qr_svg)}`}
          />
        </div>
      )}
    </>
  );
}

export function Keys({ onUnauthorized }) {
  const [keys, setKeys] = useState([]);
  const [overlap, setOverlap] = useState('86400');
  const [confirming, setConfirming] = useState(false);
  const [rotated, setRotated] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    const k = await attempt(setError, onUnauthorized, () => api('GET', '/issuer/v1/keys'));
    if (k) setKeys(k.keys);
  };
  useEffect(() => {
    load();
  }, []);
  const rotate = async () => {
    setConfirming(false);
    // The number as typed: the node refuses anything outside 0..2592000 and names the field.
    const r = await attempt(setError, onUnauthorized, () =>
      api('POST', '/issuer/v1/admin/keys/rotate', { overlap_seconds: Number(overlap) }),
    );
    if (r) {
      setRotated(r);
      load();
    }
  };
  return (
    <>
      <form
        class="card"
        id="rotate-form"
        onSubmit={(e) => {
          e.preventDefault();
          setRotated(null);
          setConfirming(true);
        }}
      >
        <label>
          {t('overlapSeconds')}
          <input
            name="overlap"
            type="number"
            min="0"
            max="2592000"
            step="1"
            required
            value={overlap}
            onInput={(e) => setOverlap(e.target.value)}
            disabled={confirming}
          />
        </label>
        {!confirming && <button type="submit">{t('rotate')}</button>}
        {confirming && (
          <div class="confirm" id="rotate-confirmation">
            <p>{t('confirmRotate', { s: overlap })}</p>
            <button type="button" id="rotate-confirm" class="danger" onClick={rotate}>
              {t('confirm')}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              {t('cancel')}
            </button>
          </div>
        )}
        <ErrorBanner error={error} />
      </form>
      {rotated && (
        <p class="notice" id="rotated">
          {t('rotated', { k: rotated.key_id })}
        </p>
      )}
      <KeyTable keys={keys} />
    </>
  );
}

export function Audit({ onUnauthorized }) {
  const [rows, setRows] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const load = async (before) => {
    const r = await attempt(setError, onUnauthorized, () =>
      api('GET', `/issuer/v1/admin/audit${query({ before, limit: kPageSize })}`),
    );
    if (!r) return;
    setRows((old) => (before === undefined ? r.entries : [...old, ...r.entries]));
    setNext(r.next_before);
  };
  useEffect(() => {
    load(undefined);
  }, []);
  return (
    <>
      <ErrorBanner error={error} />
      <table id="audit">
        <thead>
          <tr>
            <th>{t('at')}</th>
            <th>{t('actor')}</th>
            <th>{t('action')}</th>
            <th>{t('target')}</th>
            <th>{t('detail')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr data-action={a.action}>
              <td>{when(a.at)}</td>
              <td>{a.actor}</td>
              <td class="action">{a.action}</td>
              <td>
                <code>{a.target}</code>
              </td>
              <td class="detail">{a.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next !== null && (
        <button type="button" id="load-more" onClick={() => load(next)}>
          {t('loadMore')}
        </button>
      )}
    </>
  );
}
