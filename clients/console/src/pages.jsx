// The console's pages: partners, usage (uPlot), deliveries with their attempts, the audit trail and
// pending approvals. Each calls the admin API (docs/admin.md) and shows its refusals.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';

import { api, apiLines, query } from './api.js';
import { t } from './i18n.js';
import { ErrorBanner, attempt, when } from './widgets.jsx';

const kClaimTypes = ['age_over_18', 'citizenship', 'education', 'income_gte'];

function Shown({ created, onClose }) {
  if (!created) return null;
  return (
    <div class="shown-once" id="shown-once">
      <p>{t('keyShownOnce')}</p>
      <code id="new-api-key">{created.api_key}</code>
      {created.client_secret && (
        <>
          <p>{t('clientSecretShownOnce')}</p>
          <code id="new-client-secret">{created.client_secret}</code>
        </>
      )}
      {created.webhook_secret && (
        <>
          <p>{t('secretShownOnce')}</p>
          <code id="new-webhook-secret">{created.webhook_secret}</code>
        </>
      )}
      {created.test_api_key && (
        <>
          <p>{t('testKeyShownOnce')}</p>
          <code id="new-test-api-key">{created.test_api_key}</code>
          <code id="new-test-client-id">{created.test_client_id}</code>
        </>
      )}
      <button type="button" onClick={onClose}>
        {t('close')}
      </button>
    </div>
  );
}

export function Partners() {
  const [rows, setRows] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);

  const load = async (after) => {
    const r = await attempt(setError, () =>
      api('GET', `/api/admin/clients${query({ limit: 50, cursor: after ?? '' })}`),
    );
    if (!r) return;
    const items = r.clients ?? r.items ?? [];
    setRows((old) => (after ? [...old, ...items] : items));
    setCursor(r.next_cursor ?? null);
  };
  useEffect(() => {
    load(null);
  }, []);

  const create = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const spec = {
      name: f.get('name'),
      scopes: kClaimTypes.filter((c) => f.get(`scope-${c}`)),
      domains: String(f.get('domains') ?? '')
        .split(',')
        .map((d) => d.trim())
        .filter((d) => d !== ''),
    };
    if (f.get('webhook_url')) spec.webhook_url = f.get('webhook_url');
    const r = await attempt(setError, () => api('POST', '/api/admin/clients', spec));
    if (r) {
      setCreated(r);
      e.target.reset();
      load(null);
    }
  };
  const [notice, setNotice] = useState(null);
  const act = async (id, path, body) => {
    const r = await attempt(setError, () =>
      api('POST', `/api/admin/clients/${encodeURIComponent(id)}/${path}`, body ?? {}),
    );
    if (r?.api_key) setCreated(r);
    // Resuming is a pending action another admin approves (two-person rule).
    setNotice(r?.kind ? `${t('approvalRequested')}: ${r.kind} (${r.id})` : null);
    if (r) load(null);
  };

  return (
    <section id="page-partners">
      <h2>{t('partners')}</h2>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <Shown created={created} onClose={() => setCreated(null)} />
      {notice && (
        <p class="notice" id="notice">
          {notice}
        </p>
      )}
      <form class="card" id="create-partner" onSubmit={create}>
        <h3>{t('createPartner')}</h3>
        <label>
          {t('name')} <input name="name" required maxlength="200" />
        </label>
        <fieldset>
          <legend>{t('scopes')}</legend>
          {kClaimTypes.map((c) => (
            <label class="inline">
              <input type="checkbox" name={`scope-${c}`} value="1" /> {c}
            </label>
          ))}
        </fieldset>
        <label>
          {t('domains')} <input name="domains" required />
        </label>
        <label>
          {t('webhookUrl')} <input name="webhook_url" type="url" />
        </label>
        <button type="submit">{t('create')}</button>
      </form>
      <table id="partners-table">
        <thead>
          <tr>
            <th>{t('name')}</th>
            <th>{t('scopes')}</th>
            <th>{t('status')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => {
            const suspended = c.suspended === true || c.status === 'suspended';
            return (
              <tr data-client-id={c.id ?? c.client_id}>
                <td>
                  {c.name}
                  {c.mode === 'test' && <span class="mode"> ({t('testMode')})</span>}
                </td>
                <td>{(c.scopes ?? []).join(', ')}</td>
                <td>{suspended ? t('suspended') : t('active')}</td>
                <td>
                  <button type="button" class="rotate" onClick={() => act(c.id ?? c.client_id, 'rotate-key')}>
                    {t('rotateKey')}
                  </button>
                  <button
                    type="button"
                    class={suspended ? 'resume' : 'suspend'}
                    onClick={() => act(c.id ?? c.client_id, suspended ? 'resume' : 'suspend')}
                  >
                    {suspended ? t('resume') : t('suspend')}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.length === 0 && <p>{t('noRows')}</p>}
      {cursor && (
        <button type="button" onClick={() => load(cursor)}>
          {t('loadMore')}
        </button>
      )}
    </section>
  );
}

/** A count as the usage report gives it: a number, or "<k" when suppressed (plotted as a gap). */
function plotted(v) {
  return typeof v === 'number' ? v : null;
}
function failedTotal(b) {
  if (typeof b.failed === 'number' || typeof b.failed === 'string') return b.failed;
  const by = b.failed_by_code ?? b.failed ?? {};
  let sum = 0;
  for (const v of Object.values(by)) {
    if (typeof v !== 'number') return v;
    sum += v;
  }
  return sum;
}

export function Usage() {
  const [error, setError] = useState(null);
  const [rows, setRows] = useState([]);
  const [granularity, setGranularity] = useState('day');
  const chartRef = useRef(null);
  const plotRef = useRef(null);

  const load = async () => {
    const to = new Date(Date.now() + 3600e3);
    const from = new Date(to.getTime() - (granularity === 'day' ? 30 * 86400e3 : 48 * 3600e3));
    const r = await attempt(setError, () =>
      api(
        'GET',
        `/api/admin/usage${query({ from: from.toISOString(), to: to.toISOString(), granularity })}`,
      ),
    );
    if (r) setRows(r.buckets ?? r.rows ?? []);
  };
  useEffect(() => {
    load();
  }, [granularity]);

  useEffect(() => {
    if (!chartRef.current) return;
    // One point per bucket: counts summed over claim types and partners (a suppressed count is
    // a gap, never a guess).
    const byTime = new Map();
    for (const b of rows) {
      const at = Math.floor(new Date(b.bucket ?? b.start ?? b.from).getTime() / 1000);
      const cur = byTime.get(at) ?? { verified: 0, failed: 0 };
      const v = plotted(b.verified);
      const f = plotted(failedTotal(b));
      cur.verified = cur.verified === null || v === null ? null : cur.verified + v;
      cur.failed = cur.failed === null || f === null ? null : cur.failed + f;
      byTime.set(at, cur);
    }
    const xs = [...byTime.keys()].sort((a, b) => a - b);
    const data = [xs, xs.map((x) => byTime.get(x).verified), xs.map((x) => byTime.get(x).failed)];
    plotRef.current?.destroy();
    plotRef.current = new uPlot(
      {
        width: Math.min(900, chartRef.current.clientWidth || 900),
        height: 260,
        series: [
          {},
          { label: t('verified'), stroke: '#1b7f3b', points: { show: true } },
          { label: t('failed'), stroke: '#b3261e', points: { show: true } },
        ],
      },
      data,
      chartRef.current,
    );
    chartRef.current.dataset.points = String(xs.length);
    chartRef.current.dataset.verified = String(
      data[1].reduce((s, v) => (typeof v === 'number' ? s + v : s), 0),
    );
  }, [rows]);

  return (
    <section id="page-usage">
      <h2>{t('usage')}</h2>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <label>
        {t('granularity')}{' '}
        <select id="granularity" value={granularity} onChange={(e) => setGranularity(e.target.value)}>
          <option value="day">{t('day')}</option>
          <option value="hour">{t('hour')}</option>
        </select>
      </label>
      <button type="button" id="usage-refresh" onClick={load}>
        {t('refresh')}
      </button>
      <div id="usage-chart" ref={chartRef} />
      <p class="note">{t('suppressed')}</p>
      <table id="usage-table">
        <thead>
          <tr>
            <th>{t('time')}</th>
            <th>{t('scopes')}</th>
            <th>{t('partner')}</th>
            <th>{t('verified')}</th>
            <th>{t('failed')}</th>
            <th>p50 / p95 ms</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((b) => (
            <tr>
              <td>{when(b.bucket ?? b.start ?? b.from)}</td>
              <td>{b.claim_type}</td>
              <td>{b.verifier_id}</td>
              <td class="verified">{String(b.verified)}</td>
              <td>{String(failedTotal(b))}</td>
              <td>
                {b.p50_ms ?? b.latency_p50_ms ?? ''} / {b.p95_ms ?? b.latency_p95_ms ?? ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Deliveries() {
  const [error, setError] = useState(null);
  const [rows, setRows] = useState([]);
  const [open, setOpen] = useState(null);

  const load = async () => {
    const r = await attempt(setError, () => api('GET', '/api/admin/deliveries?limit=100'));
    if (r) setRows(r.deliveries ?? []);
  };
  useEffect(() => {
    load();
  }, []);
  const show = async (id) => {
    const r = await attempt(setError, () =>
      api('GET', `/api/admin/deliveries/${encodeURIComponent(id)}`),
    );
    if (r) setOpen(r);
  };
  const replay = async (id) => {
    const r = await attempt(setError, () =>
      api('POST', `/api/admin/deliveries/${encodeURIComponent(id)}/replay`),
    );
    if (r) {
      load();
      show(id);
    }
  };

  return (
    <section id="page-deliveries">
      <h2>{t('deliveries')}</h2>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <button type="button" onClick={load}>
        {t('refresh')}
      </button>
      <table id="deliveries-table">
        <thead>
          <tr>
            <th>{t('time')}</th>
            <th>{t('event')}</th>
            <th>{t('partner')}</th>
            <th>{t('status')}</th>
            <th>{t('attempts')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr data-event-id={d.event_id}>
              <td>{when(d.created_at)}</td>
              <td>
                <a href="#/deliveries" class="show" onClick={() => show(d.event_id)}>
                  {d.event_type}
                </a>
              </td>
              <td>{d.client_id}</td>
              <td class="status">{d.status}</td>
              <td>{d.attempts}</td>
              <td>
                <button type="button" class="replay" onClick={() => replay(d.event_id)}>
                  {t('replay')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p>{t('noRows')}</p>}
      {open && (
        <div class="card" id="delivery-detail">
          <h3>
            {open.event_type} · {open.status}
          </h3>
          <ol>
            {(open.attempts ?? []).map((a) => (
              <li>
                {when(a.started_at)} — {a.status_code ?? a.error} ({a.latency_ms} ms)
              </li>
            ))}
          </ol>
          <button type="button" onClick={() => setOpen(null)}>
            {t('close')}
          </button>
        </div>
      )}
    </section>
  );
}

export function Audit() {
  const [error, setError] = useState(null);
  const [rows, setRows] = useState([]);
  const load = async () => {
    const r = await attempt(setError, () => api('GET', '/api/admin/audit?limit=200'));
    if (r) setRows(r.entries ?? []);
  };
  useEffect(() => {
    load();
  }, []);
  return (
    <section id="page-audit">
      <h2>{t('audit')}</h2>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <table id="audit-table">
        <thead>
          <tr>
            <th>#</th>
            <th>{t('time')}</th>
            <th>{t('actor')}</th>
            <th>{t('action')}</th>
            <th>{t('details')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr>
              <td>{e.seq}</td>
              <td>{when(e.at)}</td>
              <td>
                {e.actor_type}:{e.actor_id}
              </td>
              <td class="action">{e.action}</td>
              <td>
                <code>{JSON.stringify(e.details ?? {})}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Approvals({ session }) {
  const [error, setError] = useState(null);
  const [rows, setRows] = useState([]);
  const load = async () => {
    const r = await attempt(setError, () => api('GET', '/api/admin/approvals'));
    if (r) setRows(r.approvals ?? r.items ?? []);
  };
  useEffect(() => {
    load();
  }, []);
  const approve = async (id) => {
    const r = await attempt(setError, () =>
      api('POST', `/api/admin/approvals/${encodeURIComponent(id)}/approve`),
    );
    if (r) load();
  };
  return (
    <section id="page-approvals">
      <h2>{t('approvals')}</h2>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <table id="approvals-table">
        <thead>
          <tr>
            <th>{t('kind')}</th>
            <th>{t('details')}</th>
            <th>{t('requestedBy')}</th>
            <th>{t('expires')}</th>
            <th>{t('status')}</th>
            <th>{t('approvalsGiven')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => {
            const by = a.requested_by ?? {};
            const votes = a.approvals ?? [];
            // Neither the requester nor an admin who approved already may approve (the server
            // refuses both); enabling a circuit needs two approvals, the rest one.
            const mine = by.id === session.admin_id || votes.some((v) => v.id === session.admin_id);
            return (
              <tr data-approval-id={a.id}>
                <td>{a.kind}</td>
                <td>
                  <code>{JSON.stringify(a.parameters ?? a.params ?? {})}</code>
                </td>
                <td>{by.email ?? `${by.type ?? ''}:${by.id ?? ''}`}</td>
                <td>{when(a.expires_at)}</td>
                <td class="state">{a.state}</td>
                <td class="votes" title={votes.map((v) => `${v.type}:${v.id}`).join(', ')}>
                  {t('approvalsOf')
                    .replace('{n}', String(votes.length))
                    .replace('{m}', String(a.approvals_required ?? 1))}
                </td>
                <td>
                  {a.state === 'pending' && !mine && (
                    <button type="button" class="approve" onClick={() => approve(a.id)}>
                      {t('approve')}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.length === 0 && <p>{t('noRows')}</p>}
    </section>
  );
}
