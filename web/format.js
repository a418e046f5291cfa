// Time formatting for the dashboard. Every timestamp in weft is int64 ns of
// CLOCK_MONOTONIC; the dashboard shows times relative to the trace start and
// durations in the largest unit that keeps them readable (ns, µs, ms, s).

const UNITS = [
  { ns: 1e9, name: 's' },
  { ns: 1e6, name: 'ms' },
  { ns: 1e3, name: 'µs' },
  { ns: 1, name: 'ns' },
];

/** The unit whose size is at most `ns` (ns for anything below 1 µs). */
export function unitFor(ns) {
  const a = Math.abs(ns);
  return UNITS.find((u) => a >= u.ns) || UNITS[UNITS.length - 1];
}

/** A duration such as "1.25 ms" or "830 ns", with 3 significant digits. */
export function formatDuration(ns) {
  if (ns === null || ns === undefined || Number.isNaN(ns)) return '—';
  if (ns === 0) return '0 ns';
  const u = unitFor(ns);
  const v = ns / u.ns;
  const digits = Math.abs(v) >= 100 || u.ns === 1 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${u.name}`;
}

/**
 * A time offset written with the unit of `step` (the axis tick spacing) and
 * just enough decimals to tell neighbouring ticks apart.
 */
export function formatOffset(ns, step) {
  const u = unitFor(step * 10);
  const v = ns / u.ns;
  const stepInUnit = step / u.ns;
  const decimals = Math.max(0, Math.min(9, Math.ceil(-Math.log10(stepInUnit) - 1e-9)));
  return `${v.toFixed(decimals)} ${u.name}`;
}

/** The 1-2-5 step closest above `raw` ns (axis tick spacing). */
export function niceStep(raw) {
  if (!(raw > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.max(1, m * p);
  return 10 * p;
}

/** "12.5%"-style share of `part` in `whole`. */
export function formatPercent(part, whole) {
  if (!whole) return '0%';
  const v = (100 * part) / whole;
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)}%`;
}

// Characters that change how the text around them reads without being
// seen: C0/C1 controls, bidi embeddings, overrides, isolates and marks,
// zero-width joiners, line/paragraph separators, the BOM.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/**
 * `s` as text a person can trust: every invisible or reordering character
 * written visibly as \uXXXX ("evil\u202Etxt.exe"), null/undefined as ''.
 * Trace data (names, command lines, labels, SQL values, errors) goes
 * through this before it reaches the page or a canvas.
 */
export function visible(s) {
  return String(s ?? '').replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/** "1 process", "2 processes": `n` and the right form of the noun. */
export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A moment `ns` after the trace start, in the unit of its magnitude, with
 * decimals down to `resolution` ns ("29.000 ms", "830 µs", "1.250000 s").
 */
export function formatTime(ns, resolution = 1000) {
  const u = unitFor(Math.max(Math.abs(ns), resolution));
  const decimals = Math.max(0, Math.min(9, Math.ceil(Math.log10(u.ns / Math.max(1, resolution)) - 1e-9)));
  return `${(ns / u.ns).toFixed(decimals)} ${u.name}`;
}
