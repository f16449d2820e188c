// Small pieces the pages share: the error banner, times, and a click handler that shows an
// action's refusal.
import { ApiError } from './api.js';
import { t } from './i18n.js';

export function ErrorBanner({ error, onClose }) {
  if (!error) return null;
  const text =
    error instanceof ApiError && error.status === 403 && !error.problem?.error_code?.startsWith('CLIENT')
      ? `${t('notAllowed')}: ${error.message}`
      : error.message;
  return (
    <div class="error" id="error" role="alert">
      <span>{text}</span>
      {onClose && (
        <button type="button" onClick={onClose}>
          {t('close')}
        </button>
      )}
    </div>
  );
}

/** An RFC 3339 time or Unix ms as local date and time. */
export function when(v) {
  if (v === null || v === undefined || v === '') return '';
  const d = typeof v === 'number' ? new Date(v) : new Date(String(v));
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
}

/** Runs `action`, reporting a refusal to `setError` (null on success). */
export async function attempt(setError, action) {
  try {
    const r = await action();
    setError(null);
    return r;
  } catch (err) {
    setError(err);
    return undefined;
  }
}
