// Small pieces the pages share: the error banner, times, and a runner that reports an action's
// refusal.
import { ApiError } from './api.js';
import { t } from './i18n.js';

export function ErrorBanner({ error, onClose }) {
  if (!error) return null;
  return (
    <div class="error" id="error" role="alert">
      <span>{error.message}</span>
      {onClose && (
        <button type="button" onClick={onClose}>
          {t('close')}
        </button>
      )}
    </div>
  );
}

/** Unix ms as local date and time ('' for 0 or null). */
export function when(ms) {
  if (!ms) return '';
  const d = new Date(Number(ms));
  return Number.isNaN(d.getTime()) ? String(ms) : d.toLocaleString();
}

/** Runs `action`; a refusal goes to `setError` (null on success), a 401 to `onUnauthorized`. */
export async function attempt(setError, onUnauthorized, action) {
  try {
    const r = await action();
    setError(null);
    return r;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && onUnauthorized) onUnauthorized();
    setError(err);
    return undefined;
  }
}
