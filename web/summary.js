// The window summary: /api/traces/{id}/summary for a selected range (or the
// visible window), led by the deadlocks found and the trace's lock-order
// inversions (lockorder.js), then time in each state per thread and per
// process, the most contended objects, message traffic per channel. Built
// from text nodes only (dom.js).

import { formatDuration, formatPercent, formatTime } from './format.js';
import { h, hint, swatch, table } from './dom.js';
import { STATE_ORDER, stateColor } from './states.js';
import { renderCycles } from './lockorder.js';

function bar(ns) {
  const total = Object.values(ns).reduce((a, b) => a + b, 0);
  const parts = STATE_ORDER.filter((s) => ns[s] > 0).map((s) => {
    const part = h('span', { color: stateColor(s), title: `${s} ${formatPercent(ns[s], total)}` });
    part.style.width = `${(100 * ns[s]) / total}%`;
    return part;
  });
  return h('div', { className: 'bar', attrs: { 'aria-hidden': 'true' } }, parts);
}

function stateTable(title, rows, nameOf) {
  const used = STATE_ORDER.filter((s) => rows.some((r) => r.ns && r.ns[s] > 0));
  const head = ['name', 'share', ...used.map((s) => h('span', {}, swatch(stateColor(s)), s))];
  const body = rows.map((r) => [nameOf(r), bar(r.ns || {}),
    ...used.map((s) => ({ num: r.ns[s] ? formatDuration(r.ns[s]) : '' }))]);
  return [h('h2', {}, title), table(head, body)];
}

/** Fills `el` with summary `s` of window `range`; ctx: {overview, label, api, onJump(utid, ts)}. */
export function renderSummary(el, s, range, ctx) {
  const ov = ctx.overview;
  const threadLabel = (utid) => {
    const t = ov.threads.find((x) => x.utid === utid);
    return t ? `${t.name} ${t.tid}` : `utid ${utid}`;
  };
  const names = (list) => (list || []).map(threadLabel).join(', ');
  const rel = (ns) => formatTime(ns - ov.start_ts, Math.max(1, (range.end - range.start) / 1000));
  const left = h('div', {},
    stateTable('Time in each state per thread', s.threads || [], (r) => `${r.name ?? '?'} (utid ${r.utid})`),
    stateTable('Per process', s.processes || [], (r) => `${r.name ?? '?'} (upid ${r.upid})`));
  const right = h('div');
  const cont = s.contention || [];
  right.append(h('h2', {}, 'Top contended objects'));
  right.append(cont.length === 0 ? hint('Nobody waited on a lock in this window.')
    : table(['object', 'waits', 'total wait', 'max wait', 'waiters', 'holders'], cont.map((c) => [
      c.label ?? String(c.object_id), { num: c.waits }, { num: formatDuration(c.total_wait) },
      { num: formatDuration(c.max_wait) }, names(c.waiters), names(c.holders)])));
  const tr = s.traffic || [];
  right.append(h('h2', {}, 'Message traffic'));
  right.append(tr.length === 0 ? hint('No message passed through a pipe or socket in this window.')
    : table(['channel', 'messages', 'bytes', 'writers', 'readers'], tr.map((c) => [
      c.label ?? String(c.object_id), { num: c.messages }, { num: c.bytes ?? '' }, names(c.writers), names(c.readers)])));
  const lead = h('div', { className: 'summary-lead', id: 'summary-lead' });
  renderCycles(lead, s, ctx).catch((e) => lead.append(hint(e.message || String(e))));
  el.replaceChildren(
    hint(`${ctx.label}: ${rel(range.start)} → ${rel(range.end)} (${formatDuration(range.end - range.start)})`),
    lead, h('div', { className: 'summary' }, left, right));
}

/** Fills `el` with a summary error. */
export function renderSummaryError(el, err) {
  el.replaceChildren(h('p', { className: 'sql-error' }, err.message || String(err)));
}
