// The details panel: one thread span as /api/traces/{id}/span describes it
// (state, reason, object, holder, waker, flows). Names of other threads are
// buttons that select the span of that thread at the related moment, so a
// reader can walk from a blocked thread to the holder that made it wait.

import { escapeHtml, formatDuration, formatTime } from './format.js';
import { stateColor } from './states.js';

function threadName(ov, utid) {
  const t = ov.threads.find((x) => x.utid === utid);
  if (!t) return `utid ${utid}`;
  const p = ov.processes.find((x) => x.upid === t.upid);
  return `${t.name ?? '?'} (tid ${t.tid}${p ? `, ${p.name} ${p.pid}` : ''})`;
}

function jumpButton(label, utid, ts, onJump) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'linklike';
  b.textContent = label;
  b.setAttribute('aria-label', `Select ${label} at that moment`);
  b.addEventListener('click', () => onJump(utid, ts));
  return b;
}

/**
 * Fills `el` with the span `s`. ctx: {overview, onJump(utid, ts)}.
 * Times are shown relative to the trace start.
 */
export function renderDetails(el, s, ctx) {
  const ov = ctx.overview;
  const rel = (ns) => formatTime(ns - ov.start_ts, 1000);
  el.replaceChildren();
  const wrap = document.createElement('div');
  wrap.className = 'details';
  wrap.dataset.utid = String(s.utid);
  wrap.dataset.ts = String(s.ts);

  const left = document.createElement('div');
  left.innerHTML = `<h2>Span</h2>`;
  const dl = document.createElement('dl');
  dl.className = 'kv';
  const row = (k, v, cls) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    if (cls) dd.className = cls;
    if (v instanceof Node) dd.append(v);
    else dd.innerHTML = v;
    dl.append(dt, dd);
  };
  row('Thread', escapeHtml(threadName(ov, s.utid)));
  row('State', `<span class="swatch" style="background:${stateColor(s.state)}"></span><b>${escapeHtml(s.state)}</b>`, 'd-state');
  row('Reason', escapeHtml(s.reason ?? '—'), 'd-reason');
  row('Object', s.object ? escapeHtml(`${s.object.label ?? ''} (${s.object.kind}, id ${s.object.object_id})`) : '—', 'd-object');
  row('Start', rel(s.ts));
  row('Duration', formatDuration(s.dur));
  if (s.holder) {
    row('Holder', jumpButton(threadName(ov, s.holder.utid), s.holder.utid, s.ts, ctx.onJump), 'd-holder');
  } else {
    row('Holder', s.state === 'Blocked' ? 'unknown' : '—', 'd-holder');
  }
  if (s.waker) {
    row('Woken by', jumpButton(threadName(ov, s.waker.utid), s.waker.utid, s.ts + Math.max(0, s.dur - 1), ctx.onJump), 'd-waker');
  } else {
    row('Woken by', '—', 'd-waker');
  }
  left.append(dl);

  const right = document.createElement('div');
  right.innerHTML = `<h2>Flows to and from this span (${(s.flows || []).length})</h2>`;
  if (!s.flows || s.flows.length === 0) {
    right.insertAdjacentHTML('beforeend', '<p class="hint">No flow starts or ends in this span.</p>');
  } else {
    const table = document.createElement('table');
    table.className = 'grid';
    table.innerHTML = '<thead><tr><th>kind</th><th>from</th><th>at</th><th>to</th><th>at</th><th>bytes</th></tr></thead>';
    const body = document.createElement('tbody');
    for (const f of s.flows) {
      const tr = document.createElement('tr');
      const td = (x, cls) => {
        const c = document.createElement('td');
        if (cls) c.className = cls;
        if (x instanceof Node) c.append(x);
        else c.textContent = x;
        tr.append(c);
      };
      td(f.kind);
      td(f.utid_out === s.utid ? threadName(ov, f.utid_out) : jumpButton(threadName(ov, f.utid_out), f.utid_out, f.ts_out, ctx.onJump));
      td(rel(f.ts_out), 'num');
      td(f.utid_in === s.utid ? threadName(ov, f.utid_in) : jumpButton(threadName(ov, f.utid_in), f.utid_in, f.ts_in, ctx.onJump));
      td(rel(f.ts_in), 'num');
      td(f.bytes ?? '', 'num');
      body.append(tr);
    }
    table.append(body);
    right.append(table);
  }
  wrap.append(left, right);
  el.append(wrap);
}

/**
 * Fills `el` with process `upid` from the overview and the process-state
 * span `span` ({ts, dur, state, n}) that was clicked.
 */
export function renderProcessDetails(el, upid, span, ctx) {
  const ov = ctx.overview;
  const p = ov.processes.find((x) => x.upid === upid);
  el.replaceChildren();
  if (!p) return;
  const rel = (ns) => (ns === null || ns === undefined ? '—' : formatTime(ns - ov.start_ts, 1000));
  const parent = ov.processes.find((x) => x.upid === p.parent_upid);
  const threads = ov.threads.filter((t) => t.upid === upid);
  let end = '—';
  if (p.exit_signal !== null && p.exit_signal !== undefined) end = `killed by signal ${p.exit_signal}`;
  else if (p.exit_code !== null && p.exit_code !== undefined) end = `exit code ${p.exit_code}`;
  const wrap = document.createElement('div');
  wrap.className = 'details';
  wrap.dataset.upid = String(upid);
  wrap.innerHTML = `<div><h2>Process</h2><dl class="kv">
    <dt>Process</dt><dd>${escapeHtml(`${p.name ?? '?'} (pid ${p.pid})`)}</dd>
    <dt>Command</dt><dd>${escapeHtml(p.cmdline ?? '—')}</dd>
    <dt>Parent</dt><dd>${escapeHtml(parent ? `${parent.name} (pid ${parent.pid})` : `pid ${p.ppid ?? '?'}`)}</dd>
    <dt>Lifetime</dt><dd>${rel(p.start_ts)} → ${rel(p.end_ts)}${p.end_ts && p.start_ts ? ` (${formatDuration(p.end_ts - p.start_ts)})` : ''}</dd>
    <dt>Ended</dt><dd class="d-exit">${escapeHtml(end)}</dd>
    <dt>Threads</dt><dd>${threads.length}</dd>
    <dt>Traced</dt><dd>${p.traced === 0 ? 'no: only its life cycle is known' : 'yes'}</dd>
  </dl></div>
  <div><h2>State here</h2><dl class="kv">
    <dt>State</dt><dd class="d-state"><span class="swatch" style="background:${stateColor(span.state)}"></span><b>${escapeHtml(span.state)}</b>${span.n > 1 ? ` (most of ${span.n} merged spans: zoom in)` : ''}</dd>
    <dt>Start</dt><dd>${rel(span.ts)}</dd>
    <dt>Duration</dt><dd>${formatDuration(span.dur)}</dd>
  </dl></div>`;
  el.append(wrap);
}
