// The window summary: /api/traces/{id}/summary for a selected range (or the
// visible window): time in each state per thread and per process, the most
// contended objects, message traffic per channel, deadlocks found.

import { escapeHtml, formatDuration, formatPercent, formatTime } from './format.js';
import { STATE_ORDER, stateColor } from './states.js';

function bar(ns) {
  const total = Object.values(ns).reduce((a, b) => a + b, 0);
  const parts = STATE_ORDER.filter((s) => ns[s] > 0)
    .map((s) => `<span style="width:${(100 * ns[s]) / total}%;background:${stateColor(s)}" title="${s} ${formatPercent(ns[s], total)}"></span>`);
  return `<div class="bar" aria-hidden="true">${parts.join('')}</div>`;
}

function stateTable(title, rows, nameOf) {
  const used = STATE_ORDER.filter((s) => rows.some((r) => r.ns && r.ns[s] > 0));
  const head = used.map((s) => `<th><span class="swatch" style="background:${stateColor(s)}"></span>${s}</th>`).join('');
  const body = rows.map((r) => {
    const cells = used.map((s) => `<td class="num">${r.ns[s] ? formatDuration(r.ns[s]) : ''}</td>`).join('');
    return `<tr><td>${escapeHtml(nameOf(r))}</td><td>${bar(r.ns || {})}</td>${cells}</tr>`;
  }).join('');
  return `<h2>${title}</h2><table class="grid"><thead><tr><th>name</th><th>share</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Fills `el` with summary `s` of window `range`; ctx: {overview, label}. */
export function renderSummary(el, s, range, ctx) {
  const ov = ctx.overview;
  const threadLabel = (utid) => {
    const t = ov.threads.find((x) => x.utid === utid);
    return t ? `${t.name} ${t.tid}` : `utid ${utid}`;
  };
  const rel = (ns) => formatTime(ns - ov.start_ts, Math.max(1, (range.end - range.start) / 1000));
  let html = `<p class="hint">${escapeHtml(ctx.label)}: ${rel(range.start)} → ${rel(range.end)} (${formatDuration(range.end - range.start)})</p>`;
  html += '<div class="summary"><div>';
  html += stateTable('Time in each state per thread', s.threads || [], (r) => `${r.name ?? '?'} (utid ${r.utid})`);
  html += stateTable('Per process', s.processes || [], (r) => `${r.name ?? '?'} (upid ${r.upid})`);
  html += '</div><div>';
  const cont = s.contention || [];
  html += '<h2>Top contended objects</h2>';
  html += cont.length === 0 ? '<p class="hint">Nobody waited on a lock in this window.</p>'
    : `<table class="grid"><thead><tr><th>object</th><th>waits</th><th>total wait</th><th>max wait</th><th>waiters</th><th>holders</th></tr></thead><tbody>${
      cont.map((c) => `<tr><td>${escapeHtml(c.label ?? c.object_id)}</td><td class="num">${c.waits}</td><td class="num">${formatDuration(c.total_wait)}</td><td class="num">${formatDuration(c.max_wait)}</td><td>${escapeHtml((c.waiters || []).map(threadLabel).join(', '))}</td><td>${escapeHtml((c.holders || []).map(threadLabel).join(', '))}</td></tr>`).join('')}</tbody></table>`;
  const tr = s.traffic || [];
  html += '<h2>Message traffic</h2>';
  html += tr.length === 0 ? '<p class="hint">No message passed through a pipe or socket in this window.</p>'
    : `<table class="grid"><thead><tr><th>channel</th><th>messages</th><th>bytes</th><th>writers</th><th>readers</th></tr></thead><tbody>${
      tr.map((c) => `<tr><td>${escapeHtml(c.label ?? c.object_id)}</td><td class="num">${c.messages}</td><td class="num">${c.bytes ?? ''}</td><td>${escapeHtml((c.writers || []).map(threadLabel).join(', '))}</td><td>${escapeHtml((c.readers || []).map(threadLabel).join(', '))}</td></tr>`).join('')}</tbody></table>`;
  const dl = s.deadlocks || [];
  html += '<h2>Deadlocks</h2>';
  html += dl.length === 0 ? '<p class="hint">None found.</p>'
    : `<ul>${dl.map((d) => `<li>at ${rel(d.ts)}${d.end_ts != null ? ` until ${rel(d.end_ts)}` : ' (still stuck)'}: ${
      d.cycle ? escapeHtml(d.cycle.replaceAll(' -> ', ' → '))
        : `threads ${escapeHtml(d.threads.map(threadLabel).join(' → '))} on ${escapeHtml((d.object_labels || d.objects).join(', '))}`}</li>`).join('')}</ul>`;
  html += '</div></div>';
  el.innerHTML = html;
}
