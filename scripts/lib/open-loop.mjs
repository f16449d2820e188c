// The open-loop sender of the API benchmarks (scripts/bench-api.mjs, bench-cpu.mjs, bench-scale.mjs).
// Request i is scheduled at t0 + i / rate and sent on a keep-alive agent that opens sockets as
// needed, so a slow answer never delays the requests behind it (no coordinated omission).
import http from 'node:http';

/**
 * Sends each of `bodies` to POST /api/v1/verify on 127.0.0.1:`port` at `rate` per second, with
 * `headers(i)` as request i's headers (Content-Length is added). Resolves once every request is
 * answered (or failed, or timed out after 30 s) to { t0, lastEnd (hrtime, ns), latencies and lags
 * (ms, Float64Array: issue to the last byte of the answer, and the send's lag behind its
 * schedule), statuses (count per status code, "error" for no answer), failures (every answer
 * that is not "200 verified", as text) }.
 */
export const sendOpenLoop = ({ port, bodies, rate, headers }) => new Promise((resolve) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
  const n = bodies.length;
  const latencies = new Float64Array(n);
  const lags = new Float64Array(n);
  const statuses = {};
  const failures = [];
  let sent = 0;
  let done = 0;
  let lastEnd = 0n;
  const t0 = process.hrtime.bigint();
  const answered = (i, start, status, failure) => {
    const end = process.hrtime.bigint();
    latencies[i] = Number(end - start) / 1e6;
    if (end > lastEnd) lastEnd = end;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (failure) failures.push(failure);
    if (++done === n) {
      agent.destroy();
      resolve({ t0, lastEnd, latencies, lags, statuses, failures });
    }
  };
  const send = (i) => {
    const start = process.hrtime.bigint();
    lags[i] = Number(start - t0) / 1e6 - (i * 1000) / rate;
    const body = bodies[i];
    const req = http.request({
      host: '127.0.0.1', port, path: '/api/v1/verify', method: 'POST', agent,
      headers: { ...headers(i), 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        const ok = res.statusCode === 200 && text.includes('"status":"verified"');
        answered(i, start, res.statusCode, ok ? null : `${res.statusCode} ${text}`);
      });
    });
    req.on('error', (e) => answered(i, start, 'error', `error ${e.message}`));
    // An answer that never comes fails the phase instead of hanging the run.
    req.setTimeout(30000, () => req.destroy(new Error('no answer within 30 s')));
    req.end(body);
  };
  // Send everything due, then sleep until the next request is due (timers fire late by up to a
  // millisecond or so; the requests due meanwhile go out together, and the lag is recorded).
  const tick = () => {
    const now = Number(process.hrtime.bigint() - t0) / 1e6;
    while (sent < n && (sent * 1000) / rate <= now) send(sent++);
    if (sent < n) setTimeout(tick, Math.max(0, (sent * 1000) / rate - now));
  };
  tick();
});
