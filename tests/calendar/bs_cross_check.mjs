// Our Bikram Sambat table (printed by the bs_dump tool, path in BS_DUMP_BIN) against two
// independent npm converters, bikram-sambat 1.8.1 and nepali-date-converter 3.4.0, on every day
// of BS 2000..2090 in both directions. Days where the converters disagree with each other are
// reported; days where we disagree with both must be exactly the documented errata of
// docs/issuers.md ("Dates"). Run: BS_DUMP_BIN=build/release/tests/bs_dump node --test tests/calendar/bs_cross_check.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const bikramSambat = require('bikram-sambat');
const NepaliDate = require('nepali-date-converter').default;

const dumpBin = process.env.BS_DUMP_BIN;
assert.ok(dumpBin, 'BS_DUMP_BIN must name the bs_dump tool');
const lines = execFileSync(dumpBin, { maxBuffer: 64 << 20, encoding: 'utf8' }).trim().split('\n');

const pad = (n) => String(n).padStart(2, '0');
const iso = (y, m, d) => `${y}-${pad(m)}-${pad(d)}`;
const fields = (text) => text.split('-').map(Number);
// Each converter's answer as YYYY-MM-DD, or "none" when it refuses.
const attempt = (f) => {
  try {
    return f();
  } catch {
    return 'none';
  }
};
const converters = {
  'bikram-sambat': {
    bsToAd: (y, m, d) => attempt(() => bikramSambat.toGreg_text(y, m, d)),
    adToBs: (y, m, d) => attempt(() => bikramSambat.toBik_euro(iso(y, m, d))),
    monthLength: (y, m) => attempt(() => bikramSambat.daysInMonth(y, m)),
  },
  'nepali-date-converter': {
    // Its constructor rolls an impossible day over into the next month: a BS date it does not
    // hold would come back as another date, so the round trip tells.
    bsToAd: (y, m, d) =>
      attempt(() => {
        const n = new NepaliDate(y, m - 1, d);
        const bs = n.getBS();
        if (bs.year !== y || bs.month !== m - 1 || bs.date !== d) return 'none';
        const ad = n.getAD();
        return iso(ad.year, ad.month + 1, ad.date);
      }),
    adToBs: (y, m, d) =>
      attempt(() => {
        const bs = NepaliDate.fromAD(new Date(y, m - 1, d, 12)).getBS();
        return iso(bs.year, bs.month + 1, bs.date);
      }),
    monthLength: (y, m) =>
      attempt(() => {
        const { dateConfigMap } = require('nepali-date-converter');
        return Object.values(dateConfigMap[String(y)])[m - 1];
      }),
  },
};
const [A, B] = Object.keys(converters);

// Our own readings that both converters contradict, with the reason in docs/issuers.md
// ("Dates"): BS 2062 Baisakh and Jestha have 31 days each (the published 2062 calendar; both
// npm packages carry 30 and 32).
const ERRATA_YEARS = new Set([2062]);
const ERRATA_AD = { from: '2005-05-14', to: '2005-06-14' };
const isErratum = (kind, key) => {
  if (kind === 'ad2bs') return key >= ERRATA_AD.from && key <= ERRATA_AD.to;
  const [y, m] = key.split(/[- ]/).map(Number);
  return ERRATA_YEARS.has(y) && (m === 1 || m === 2);
};

function compare() {
  const theirsDiffer = [];  // the two converters disagree with each other
  const oursAlone = [];  // we disagree with both
  const counts = { len: 0, bs2ad: 0, ad2bs: 0 };
  for (const line of lines) {
    const [kind, a, b, c] = line.split(' ');
    let key, ours, answers;
    if (kind === 'len') {
      key = `${a}-${pad(Number(b))}`;
      ours = c;
      answers = Object.values(converters).map((cv) => String(cv.monthLength(Number(a), Number(b))));
    } else if (kind === 'bs2ad' || kind === 'ad2bs') {
      key = a;
      ours = b;
      const [y, m, d] = fields(a);
      answers = Object.values(converters).map((cv) =>
        kind === 'bs2ad' ? cv.bsToAd(y, m, d) : cv.adToBs(y, m, d));
    } else {
      throw new Error(`bs_dump printed an unknown line: ${line}`);
    }
    counts[kind] += 1;
    if (answers[0] !== answers[1]) theirsDiffer.push({ kind, key, [A]: answers[0], [B]: answers[1], ours });
    if (ours !== answers[0] && ours !== answers[1]) oursAlone.push({ kind, key, ours, [A]: answers[0], [B]: answers[1] });
  }
  return { theirsDiffer, oursAlone, counts };
}

const { theirsDiffer, oursAlone, counts } = compare();

test('bs_dump covers every day of BS 2000..2090 in both directions', () => {
  assert.equal(counts.len, 91 * 12);
  assert.equal(counts.bs2ad, 33238);
  assert.equal(counts.ad2bs, 33238);
  assert.ok(lines.includes('bs2ad 2000-01-01 1943-04-14'), 'anchor BS 2000-01-01 = AD 1943-04-14');
  assert.ok(lines.includes('ad2bs 1943-04-14 2000-01-01'));
});

test('where the two converters disagree with each other (reported, by year)', (t) => {
  const byYear = new Map();
  for (const d of theirsDiffer) {
    const year = d.kind === 'ad2bs' ? Number((d[A] !== 'none' ? d[A] : d[B]).slice(0, 4)) : Number(d.key.slice(0, 4));
    byYear.set(year, (byYear.get(year) ?? 0) + 1);
  }
  for (const [year, n] of [...byYear].sort((x, y) => x[0] - y[0])) {
    t.diagnostic(`BS ${year}: ${n} answers differ between ${A} and ${B}`);
  }
  // The BS days each converter maps to another AD day, as ranges.
  const ranges = [];
  for (const d of theirsDiffer.filter((x) => x.kind === 'bs2ad')) {
    const last = ranges.at(-1);
    if (last && last.next === d.key) last.to = d.key;
    else ranges.push({ from: d.key, to: d.key });
    const [y, m, day] = fields(d.key);
    ranges.at(-1).next = day < 32 ? iso(y, m, day + 1) : '';
  }
  for (const r of ranges) t.diagnostic(`BS ${r.from} .. ${r.to}: converted differently`);
  for (const d of theirsDiffer.filter((x) => x.kind === 'len')) {
    t.diagnostic(`month length BS ${d.key}: ${A} ${d[A]}, ${B} ${d[B]}, ours ${d.ours}`);
  }
  // docs/issuers.md ("Dates") explains each of these years; a change here means a converter
  // changed its table and the doc must be looked at again.
  assert.deepEqual([...byYear.keys()].sort(), [2084, 2085, 2086]);
});

test('we never disagree with both converters except on the documented errata', (t) => {
  const unexplained = oursAlone.filter((d) => !isErratum(d.kind, d.key));
  for (const d of unexplained.slice(0, 20)) t.diagnostic(JSON.stringify(d));
  assert.deepEqual(unexplained, [], `${unexplained.length} days where we disagree with both converters`);
  // The errata are really there (the test would not notice a table that lost them otherwise).
  const errata = oursAlone.filter((d) => isErratum(d.kind, d.key));
  assert.ok(errata.some((d) => d.kind === 'len' && d.key === '2062-01' && d.ours === '31'));
  assert.ok(errata.some((d) => d.kind === 'bs2ad' && d.key === '2062-01-31' && d.ours === '2005-05-14'));
  assert.ok(errata.some((d) => d.kind === 'ad2bs' && d.key === '2005-06-14' && d.ours === '2062-02-31'));
});
