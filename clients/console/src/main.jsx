// The operators' console: sign-in with a TOTP code, enrolment from a one-time link, and the pages
// of pages.jsx. One page app under /console; the admin API does every check (a page hides
// nothing the API would allow, and shows the API's refusal when the role does not allow an action).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import 'uplot/dist/uPlot.min.css';
import './console.css';

import { api, setCsrf } from './api.js';
import { lang, setLang, t } from './i18n.js';
import { Approvals, Audit, Deliveries, Partners, Usage } from './pages.jsx';
import { ErrorBanner } from './widgets.jsx';

const kPages = [
  ['partners', Partners],
  ['usage', Usage],
  ['deliveries', Deliveries],
  ['audit', Audit],
  ['approvals', Approvals],
];

function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const s = await api('POST', '/api/admin/session', {
        email: f.get('email'),
        password: f.get('password'),
        code: f.get('code'),
      });
      onSignedIn(s);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card" id="signin" onSubmit={submit}>
      <h2>{t('signIn')}</h2>
      <label>
        {t('email')} <input name="email" type="email" autocomplete="username" required />
      </label>
      <label>
        {t('password')}
        <input name="password" type="password" autocomplete="current-password" required />
      </label>
      <label>
        {t('code')}
        <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6,8}" required />
      </label>
      <button type="submit">{t('signIn')}</button>
      <ErrorBanner error={error} />
    </form>
  );
}

function Enrol({ token }) {
  const [step, setStep] = useState({ name: 'password' });
  const [error, setError] = useState(null);
  const choose = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const r = await api('POST', '/api/admin/enrolment', { token, password: f.get('password') });
      setStep({ name: 'totp', ...r });
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  const confirm = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      await api('POST', '/api/admin/enrolment/confirm', { token, code: f.get('code') });
      setStep({ name: 'done' });
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="card" id="enrol">
      <h2>{t('enrol')}</h2>
      {step.name === 'password' && (
        <form onSubmit={choose}>
          <label>
            {t('setPassword')}
            <input name="password" type="password" minlength="12" autocomplete="new-password" required />
          </label>
          <button type="submit">{t('confirm')}</button>
        </form>
      )}
      {step.name === 'totp' && (
        <form onSubmit={confirm}>
          <p>{t('scanQr')}</p>
          {step.qr_svg && (
            <img
              id="totp-qr"
              alt="TOTP QR code"
              src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(step.qr_svg)}`}
            />
          )}
          <p>
            <code id="totp-secret">{step.totp_secret ?? step.secret}</code>
          </p>
          <label>
            {t('code')} <input name="code" inputmode="numeric" pattern="[0-9]{6,8}" required />
          </label>
          <button type="submit">{t('confirm')}</button>
        </form>
      )}
      {step.name === 'done' && (
        <p id="enrolled">
          {t('enrolled')} <a href="/console">{t('signIn')}</a>
        </p>
      )}
      <ErrorBanner error={error} />
    </div>
  );
}

function pageFromHash() {
  const name = location.hash.replace(/^#\/?/, '');
  return kPages.some(([p]) => p === name) ? name : 'partners';
}

function App() {
  const [session, setSession] = useState(undefined); // undefined: asking; null: signed out
  const [page, setPage] = useState(pageFromHash());
  const [, setLangState] = useState(lang());

  useEffect(() => {
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    // Signed in already (a reload): the cookie answers; the CSRF token is the tab's.
    api('GET', '/api/admin/session')
      .then((s) => setSession(s))
      .catch(() => {
        setCsrf(null);
        setSession(null);
      });
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const toggleLang = () => {
    const next = lang() === 'en' ? 'ne' : 'en';
    setLang(next);
    localStorage.setItem('proofgate.console.lang', next);
    setLangState(next);
  };
  const signOut = async () => {
    try {
      await api('DELETE', '/api/admin/session');
    } finally {
      setCsrf(null);
      setSession(null);
    }
  };

  const enrolToken = location.pathname === '/console/enrol'
    ? new URLSearchParams(location.hash.slice(1)).get('token')
    : null;
  const Page = kPages.find(([p]) => p === page)[1];
  return (
    <>
      <header>
        <h1>{t('title')}</h1>
        {session && (
          <nav>
            {kPages.map(([p]) => (
              <a href={`#/${p}`} id={`nav-${p}`} class={p === page ? 'current' : ''}>
                {t(p)}
              </a>
            ))}
          </nav>
        )}
        <span class="who">
          {session && (
            <>
              <span id="who">
                {session.email} ({session.role})
              </span>
              <button type="button" id="signout" onClick={signOut}>
                {t('signOut')}
              </button>
            </>
          )}
          <button type="button" id="lang" onClick={toggleLang}>
            {t('language')}
          </button>
        </span>
      </header>
      <main>
        {enrolToken ? (
          <Enrol token={enrolToken} />
        ) : session === undefined ? null : session === null ? (
          <SignIn
            onSignedIn={(s) => {
              setCsrf(s.csrf_token);
              setSession(s);
            }}
          />
        ) : (
          <Page session={session} />
        )}
      </main>
    </>
  );
}

setLang(localStorage.getItem('proofgate.console.lang') ?? 'en');
render(<App />, document.getElementById('app'));
