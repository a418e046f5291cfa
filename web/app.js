// The dashboard's entry point: wires the trace picker, the timeline, the
// details/summary/SQL panels and live updates, and keeps the URL in step
// with the view so a link reproduces it:
//   ?trace=ID&start=NS&end=NS[&sel=UTID:TS][&rs=NS&re=NS][&tab=details|summary|sql]
// (absolute ns of the trace's clock). Selecting a span or a range, reset,
// zoom to range and the first pan/zoom after a pause push a history entry;
// continuous pan/zoom replace it, so back/forward step through views.
// Applying a URL (load, popstate) never writes one.

import { TraceApi, listTraces } from './api.js';
import { formatDuration } from './format.js';
import { renderLegend } from './states.js';
import { Timeline } from './timeline.js';
import { renderDetails, renderProcessDetails } from './details.js';
import { renderSummary } from './summary.js';
import { SqlConsole } from './sql.js';

const $ = (id) => document.getElementById(id);

const app = {
  api: null,
  overview: null,
  traces: [],
  sel: null, // {utid, ts}
  tab: 'details',
  live: null,
  lastViewChange: -Infinity,
  urlTimer: 0,
  spanAbort: null,
  summaryAbort: null,
  summaryTimer: 0,
};

function showError(err) {
  const b = $('error-banner');
  b.textContent = err.message || String(err);
  b.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { b.hidden = true; }, 6000);
}

const timeline = new Timeline({
  axis: $('axis'), tracks: $('tracks'), labels: $('track-labels'),
  scroll: $('tracks-scroll'), tooltip: $('tooltip'),
}, {
  onView: (view) => {
    const now = performance.now();
    const push = now - app.lastViewChange > 1000;
    app.lastViewChange = now;
    updateWindowLabel();
    scheduleUrl(push);
    if (app.tab === 'summary' && !timeline.range) scheduleSummary();
  },
  onSelect: (s) => (s ? selectSpan(s.utid, s.ts, { keepOnMiss: !!s.step }) : clearSelection()),
  onSelectProcess: (upid, span) => {
    clearSelection();
    renderProcessDetails($('panel-details'), upid, span, { overview: app.overview });
    showTab('details', { url: false });
  },
  onRange: (range) => {
    $('btn-zoom-range').disabled = !range;
    writeUrl(true);
    if (range) showTab('summary');
    scheduleSummary();
  },
  onStatus: (text) => { $('load-status').textContent = text; },
  onError: showError,
});

const sql = new SqlConsole({
  input: $('sql-input'), run: $('sql-run'), result: $('sql-result'), meta: $('sql-meta'),
  error: $('sql-error'), schema: $('sql-schema'), examples: $('sql-examples'),
});

// ---- URL ------------------------------------------------------------------

function readUrl() {
  const q = new URLSearchParams(location.search);
  const num = (k) => (q.has(k) && q.get(k) !== '' && Number.isFinite(Number(q.get(k))) ? Number(q.get(k)) : null);
  let sel = null;
  const m = /^(\d+):(-?\d+)$/.exec(q.get('sel') || '');
  if (m) sel = { utid: Number(m[1]), ts: Number(m[2]) };
  const rs = num('rs');
  const re = num('re');
  return {
    trace: q.get('trace'), start: num('start'), end: num('end'), sel,
    range: rs !== null && re !== null ? { start: rs, end: re } : null,
    tab: q.get('tab'),
  };
}

function urlFor() {
  const q = new URLSearchParams();
  if (!app.api) return location.search;
  q.set('trace', app.api.id);
  q.set('start', String(timeline.view.start));
  q.set('end', String(timeline.view.end));
  if (app.sel) q.set('sel', `${app.sel.utid}:${app.sel.ts}`);
  if (timeline.range) {
    q.set('rs', String(timeline.range.start));
    q.set('re', String(timeline.range.end));
  }
  if (app.tab !== 'details') q.set('tab', app.tab);
  return `?${q}`;
}

function writeUrl(push) {
  clearTimeout(app.urlTimer);
  const next = urlFor();
  if (next === location.search) return;
  if (push) history.pushState(null, '', next);
  else history.replaceState(null, '', next);
}

function scheduleUrl(push) {
  if (push) {
    writeUrl(true);
    return;
  }
  clearTimeout(app.urlTimer);
  app.urlTimer = setTimeout(() => writeUrl(false), 200);
}

async function applyUrl() {
  const u = readUrl();
  const id = u.trace && app.traces.some((t) => t.id === u.trace) ? u.trace : app.traces[0]?.id;
  if (!id) return;
  if (!app.api || app.api.id !== id) await loadTrace(id);
  $('trace-picker').value = id;
  if (u.start !== null && u.end !== null && u.end > u.start) timeline.setView(u.start, u.end, { notify: false });
  else timeline.setView(timeline.traceStart, timeline.traceEnd, { notify: false });
  timeline.setRange(u.range, { notify: false });
  $('btn-zoom-range').disabled = !timeline.range;
  updateWindowLabel();
  if (u.tab === 'summary' || u.tab === 'sql') showTab(u.tab, { url: false });
  else showTab('details', { url: false });
  if (u.sel) await selectSpan(u.sel.utid, u.sel.ts, { url: false, reveal: false });
  else clearSelection({ url: false });
  if (app.tab === 'summary') scheduleSummary();
}

// ---- traces -----------------------------------------------------------------

async function loadTraceList() {
  const { traces } = await listTraces();
  app.traces = traces;
  const picker = $('trace-picker');
  picker.replaceChildren();
  for (const t of traces) {
    const o = document.createElement('option');
    o.value = t.id;
    o.textContent = `${t.id}${t.status && t.status !== 'complete' ? ` (${t.status})` : ''}`;
    o.title = t.command || t.file;
    picker.append(o);
  }
}

async function loadTrace(id) {
  stopLive();
  const api = new TraceApi(id);
  const [overview, objects] = await Promise.all([
    api.overview(),
    api.objects().catch(() => ({ objects: [] })), // labels for tooltips only
  ]);
  app.api = api;
  app.overview = overview;
  app.sel = null;
  timeline.setTrace(api, overview);
  timeline.setObjects(objects.objects || []);
  sql.setApi(api);
  $('panel-details').innerHTML = '<p class="hint">Click a span on the timeline to see its state, reason, object, holder, waker and flows.</p>';
  updateTraceStatus();
  if (traceStatus(overview) === 'recording') startLive();
}

/** 'recording', 'complete' or 'interrupted' (meta.status). */
function traceStatus(ov) {
  return ov.status || (ov.meta && ov.meta.status) || 'unknown';
}

function updateTraceStatus() {
  const ov = app.overview;
  const el = $('trace-status');
  const status = traceStatus(ov);
  const recording = status === 'recording';
  el.className = `trace-status${recording ? ' recording' : ''}`;
  el.textContent = `${recording ? '● recording · ' : status === 'interrupted' ? 'interrupted · ' : ''}` +
    `${ov.processes.length} processes · ${ov.threads.length} threads · ${formatDuration(ov.end_ts - ov.start_ts)}`;
  el.title = ov.meta?.command || '';
}

function updateWindowLabel() {
  const v = timeline.view;
  $('window-label').textContent = `window ${formatDuration(v.end - v.start)}`;
}

// ---- live -------------------------------------------------------------------

function startLive() {
  const es = new EventSource(app.api.liveUrl());
  const api = app.api;
  let lastOverview = 0;
  app.live = es;
  es.addEventListener('update', async (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch { return; }
    if (app.api !== api) return;
    const oldEnd = timeline.traceEnd;
    const v = timeline.view;
    const following = v.end >= oldEnd - (v.end - v.start) * 0.02;
    if (typeof d.end_ts === 'number' && d.end_ts > app.overview.end_ts) app.overview.end_ts = d.end_ts;
    if (d.status) {
      app.overview.status = d.status;
      if (app.overview.meta) app.overview.meta.status = d.status;
    }
    const now = performance.now();
    if (now - lastOverview > 1000 || d.status !== 'recording') {
      lastOverview = now;
      try {
        const ov = await api.overview();
        if (app.api !== api) return;
        app.overview = ov;
        timeline.updateOverview(ov);
      } catch (e) { /* keep the old overview; the next update retries */ }
    }
    if (following) {
      const span = v.end - v.start;
      const full = v.start <= timeline.traceStart;
      if (full) timeline.setView(timeline.traceStart, timeline.traceEnd, { notify: false });
      else timeline.setView(timeline.traceEnd - span, timeline.traceEnd, { notify: false });
      scheduleUrl(false);
    }
    updateTraceStatus();
    updateWindowLabel();
    if (d.status && d.status !== 'recording') {
      stopLive();
      // The picker names the status: refresh it.
      loadTraceList().then(() => { $('trace-picker').value = api.id; }).catch(() => {});
    }
  });
  es.onerror = () => {
    // The server closes the stream after the final update; stop retrying.
    if (es.readyState === EventSource.CLOSED) stopLive();
  };
}

function stopLive() {
  if (app.live) app.live.close();
  app.live = null;
}

// ---- selection --------------------------------------------------------------

/**
 * Selects the span of thread `utid` containing `ts` and shows its details.
 * No span there: the selection is cleared, or kept with keepOnMiss
 * (stepping past a thread's last span).
 */
async function selectSpan(utid, ts, { url = true, reveal = true, keepOnMiss = false } = {}) {
  if (app.spanAbort) app.spanAbort.abort();
  const ac = new AbortController();
  app.spanAbort = ac;
  try {
    const s = await app.api.span(utid, ts, ac.signal);
    if (ac !== app.spanAbort) return;
    app.sel = { utid: s.utid, ts: s.ts };
    timeline.setSelected({ utid: s.utid, ts: s.ts, dur: s.dur, flows: s.flows || [] });
    if (reveal) revealSpan(s);
    renderDetails($('panel-details'), s, { overview: app.overview, onJump: (u, t) => selectSpan(u, t) });
    showTab('details', { url: false });
    if (url) writeUrl(true);
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (e.status === 404) {
      if (!keepOnMiss) clearSelection({ url });
      return;
    }
    showError(e);
  }
}

/** Pans the timeline (keeping the zoom) so that span `s` is in view. */
function revealSpan(s) {
  const v = timeline.view;
  const row = timeline.rowOfThread.get(s.utid);
  if (s.ts + s.dur < v.start || s.ts > v.end) {
    const span = v.end - v.start;
    const mid = s.ts + s.dur / 2;
    timeline.setView(mid - span / 2, mid + span / 2, { notify: false });
  }
  if (row) {
    const box = $('tracks-scroll');
    if (row.y < box.scrollTop || row.y + row.h > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, row.y - box.clientHeight / 2);
    }
  }
}

function clearSelection({ url = true } = {}) {
  const had = app.sel !== null;
  app.sel = null;
  timeline.setSelected(null);
  $('panel-details').innerHTML = '<p class="hint">Click a span on the timeline to see its state, reason, object, holder, waker and flows.</p>';
  if (url && had) writeUrl(true);
}

// ---- summary ----------------------------------------------------------------

function scheduleSummary() {
  clearTimeout(app.summaryTimer);
  app.summaryTimer = setTimeout(loadSummary, 150);
}

async function loadSummary() {
  if (!app.api) return;
  const range = timeline.range || timeline.view;
  const label = timeline.range ? 'Selected range' : 'Visible window (Shift+drag to select a range)';
  if (app.summaryAbort) app.summaryAbort.abort();
  const ac = new AbortController();
  app.summaryAbort = ac;
  try {
    const s = await app.api.summary(range.start, range.end, ac.signal);
    if (ac !== app.summaryAbort) return;
    renderSummary($('panel-summary'), s, range, { overview: app.overview, label });
  } catch (e) {
    if (e.name !== 'AbortError') $('panel-summary').innerHTML = `<p class="sql-error">${e.message}</p>`;
  }
}

// ---- tabs -------------------------------------------------------------------

const TABS = ['details', 'summary', 'sql'];

function setPanelOpen(open) {
  $('panel').classList.toggle('collapsed', !open);
  $('btn-panel').setAttribute('aria-expanded', String(open));
  $('btn-panel').textContent = open ? 'Hide panel' : 'Show panel';
}

$('btn-panel').addEventListener('click', () => setPanelOpen($('panel').classList.contains('collapsed')));

function showTab(name, { url = true } = {}) {
  app.tab = name;
  setPanelOpen(true);
  for (const t of TABS) {
    const on = t === name;
    $(`tab-${t}`).setAttribute('aria-selected', String(on));
    $(`tab-${t}`).tabIndex = on ? 0 : -1;
    $(`panel-${t}`).hidden = !on;
  }
  if (name === 'summary') scheduleSummary();
  if (url) writeUrl(false);
}

for (const t of TABS) {
  $(`tab-${t}`).addEventListener('click', () => showTab(t));
  $(`tab-${t}`).addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    const i = (TABS.indexOf(t) + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length;
    showTab(TABS[i]);
    $(`tab-${TABS[i]}`).focus();
    e.preventDefault();
  });
}

// ---- toolbar ----------------------------------------------------------------

$('btn-zoom-in').addEventListener('click', () => timeline.zoom(0.5));
$('btn-zoom-out').addEventListener('click', () => timeline.zoom(2));
$('btn-pan-left').addEventListener('click', () => timeline.pan(-0.25));
$('btn-pan-right').addEventListener('click', () => timeline.pan(0.25));
$('btn-reset').addEventListener('click', () => timeline.reset());
$('btn-zoom-range').addEventListener('click', () => timeline.zoomToRange());
$('btn-select-mode').addEventListener('click', (e) => {
  timeline.selectMode = !timeline.selectMode;
  e.currentTarget.setAttribute('aria-pressed', String(timeline.selectMode));
});
$('chk-flows').addEventListener('change', (e) => timeline.setShowFlows(e.target.checked));
$('trace-picker').addEventListener('change', async (e) => {
  try {
    await loadTrace(e.target.value);
    timeline.setView(timeline.traceStart, timeline.traceEnd, { notify: false });
    updateWindowLabel();
    writeUrl(true);
  } catch (err) {
    showError(err);
  }
});
window.addEventListener('popstate', () => applyUrl().catch(showError));

/** Keeps the picker in step with the served traces (a new recording appears). */
function watchTraceList() {
  const es = new EventSource('/api/events');
  es.addEventListener('traces', () => {
    loadTraceList()
      .then(() => {
        if (app.api) $('trace-picker').value = app.api.id;
        else if (app.traces.length) return applyUrl().then(() => writeUrl(false));
        return null;
      })
      .catch(() => {});
  });
}

// ---- start ------------------------------------------------------------------

async function start() {
  renderLegend($('legend'));
  performance.mark('weft:start');
  try {
    await loadTraceList();
    watchTraceList();
    if (app.traces.length === 0) {
      $('trace-status').textContent = 'weftd serves no trace';
      return;
    }
    await applyUrl();
    writeUrl(false);
  } catch (e) {
    showError(e);
  }
}

start();
