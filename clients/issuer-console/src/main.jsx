// The issuer node's operator console: sign-in with the node's admin token, and the pages of
// pages.jsx. One page app under /issuer/console; every action is a call of the node's audited
// admin API (docs/issuers.md), which does every check: the page adds no power of its own.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import './issuer-console.css';

import { api, setToken, token } from './api.js';
import { lang, setLang, t } from './i18n.js';
import { Audit, Credentials, Keys, Offers, Stats } from './pages.jsx';
import { ErrorBanner } from './widgets.jsx';

const kPages = [
  ['stats', Stats],
  ['credentials', Credentials],
  ['offers', Offers],
  ['keys', Keys],
  ['audit', Audit],
];

function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const candidate = new FormData(e.target).get('token').trim();
    try {
      // The node answers 401 to a wrong token (audited, and throttled per address).
      await api('GET', '/issuer/v1/admin/stats', undefined, candidate);
      setToken(candidate);
      onSignedIn();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card" id="signin" onSubmit={submit}>
      <h2>{t('signIn')}</h2>
      <label>
        {t('adminToken')}
        <input name="token" type="password" autocomplete="off" spellcheck={false} required />
      </label>
      <p class="note">{t('tokenNote')}</p>
      <button type="submit">{t('signIn')}</button>
      <ErrorBanner error={error} />
    </form>
  );
}

function pageFromHash() {
  const name = location.hash.replace(/^#\/?/, '');
  return kPages.some(([p]) => p === name) ? name : 'stats';
}

function App() {
  const [signedIn, setSignedIn] = useState(Boolean(token()));
  const [page, setPage] = useState(pageFromHash());
  const [, setLangState] = useState(lang());

  useEffect(() => {
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const toggleLang = () => {
    const next = lang() === 'en' ? 'ne' : 'en';
    setLang(next);
    localStorage.setItem('proofgate.issuer-console.lang', next);
    setLangState(next);
  };
  const signOut = () => {
    setToken(null);
    setSignedIn(false);
  };
  // A token the node stops taking (rotated by the operator) signs the tab out.
  const onUnauthorized = () => signOut();

  const Page = kPages.find(([p]) => p === page)[1];
  return (
    <>
      <header>
        <h1>{t('title')}</h1>
        {signedIn && (
          <nav>
            {kPages.map(([p]) => (
              <a href={`#/${p}`} id={`nav-${p}`} class={p === page ? 'current' : ''}>
                {t(p)}
              </a>
            ))}
          </nav>
        )}
        <span class="who">
          {signedIn && (
            <>
              <span id="who">{t('signedIn')}</span>
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
        {signedIn ? (
          <Page key={page} onUnauthorized={onUnauthorized} />
        ) : (
          <SignIn onSignedIn={() => setSignedIn(true)} />
        )}
      </main>
    </>
  );
}

setLang(localStorage.getItem('proofgate.issuer-console.lang') ?? 'en');
render(<App />, document.getElementById('app'));
