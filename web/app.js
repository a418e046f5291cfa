// The dashboard's entry point: the trace list at `/`, a clear page for an
// unknown or broken trace, and for a trace the timeline, the details/
// summary/SQL panels, search and live updates. The URL keeps the view, so a
// link reproduces it:
//   ?trace=ID&start=NS&end=NS[&sel=UTID:TS][&rs=NS&re=NS][&tab=summary|sql|critpath|flame]
//    [&tree=c|o][&col=UPIDS|&exp=UPIDS][&pin=KEYS][&hide=KEYS][&order=busy][&cp=1][&fs=r][&ff=IDS]
// (absolute ns of the trace's clock; KEYS like t5,p3,c0; tree says whether
// processes start collapsed when it differs from the trace's default, col/
// exp the exceptions). Selecting a span or a range, reset, zoom to range
// and the first pan/zoom after a pause push a history entry; continuous
// pan/zoom replace it, so back/forward step through views. Applying a URL
// (load, popstate) never writes one.

import { TraceApi, listTraces } from './api.js';
import { formatDuration, plural, visible } from './format.js';
import { renderLegend } from './states.js';
import { Timeline } from './timeline.js';
import { renderDetails, renderDetailsHint, renderProcessDetails } from './details.js';
import { renderSummary, renderSummaryError } from './summary.js';
import { SqlConsole } from './sql.js';
import { Search } from './search.js';
import { TraceList } from './tracelist.js';
import { COLLAPSE_ABOVE } from './layout.js';
import { CritPath } from './critpath.js';
import { showCompare } from './compare.js';
import { renderLockOrders } from './lockorder.js';
import { Flame } from './flame.js';
import { renderCallsiteSummary, renderSpanStacks } from './stack.js';

const $ = (id) => document.getElementById(id);
const PANEL_KEY = 'weft.panel.height';

const app = {
  api: null,
  overview: null,
  objects: [],
  traces: [],
  sel: null, // {utid, ts}
  tab: 'details',
  live: null,
  lastViewChange: -Infinity,
  urlTimer: 0,
  spanAbort: null,
  summaryAbort: null,
  summaryTimer: 0,
  page: null,
  prefetch: null, // {id, api, overview, objects}: promises started at load
  match: null, // {object_id, name}: the object the search jumped to (N / Shift+N step through its waits)
};

function showError(err) {
  const b = $('error-banner');
  b.textContent = visible(err.message || String(err));
  b.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { b.hidden = true; }, 6000);
}

const timeline = new Timeline({
  axis: $('axis'), tracks: $('tracks'), labels: $('track-labels'), scroll: $('tracks-scroll'),
  stage: $('tracks-stage'), spacer: $('tracks-spacer'), tooltip: $('tooltip'), flowLegend: $('flow-legend'),
}, {
  onView: () => {
    const now = performance.now();
    const push = now - app.lastViewChange > 1000;
    app.lastViewChange = now;
    updateWindowLabel();
    scheduleUrl(push);
    if (app.tab === 'summary' && !timeline.range) scheduleSummary();
  },
  onSelect: (s) => (s ? selectSpan(s.utid, s.ts, { keepOnMiss: !!s.step }) : clearSelection()),
  onSelectProcess: (upid, span) => showProcess(upid, span),
  onRange: (range) => {
    $('btn-zoom-range').disabled = !range;
    writeUrl(true);
    if (range) showTab('summary');
    scheduleSummary();
    flame.rangeChanged();
  },
  onStatus: (text) => { $('load-status').textContent = text; },
  onFlowNote: (text) => { $('flow-status').textContent = text; },
  onLayout: () => {
    const n = timeline.layoutState.hidden.size;
    $('btn-unhide').hidden = n === 0;
    $('btn-unhide').textContent = `Show ${n === 1 ? '1 hidden track' : `${n} hidden tracks`}`;
    if (app.api) scheduleUrl(false);
  },
  onError: showError,
});

const sql = new SqlConsole({
  input: $('sql-input'), run: $('sql-run'), result: $('sql-result'), meta: $('sql-meta'),
  error: $('sql-error'), schema: $('sql-schema'), examples: $('sql-examples'),
}, (utid, ts) => selectSpan(utid, ts));

const search = new Search({ dialog: $('search'), input: $('search-input'), results: $('search-results') },
  { overview: () => app.overview, objects: () => app.objects }, (it) => pickSearch(it).catch(showError));

// The critical path (toolbar button, key P, cp=1): its overlay and its panel.
const critPath = new CritPath({ button: $('btn-critpath'), panel: $('panel-critpath') }, {
  timeline, api: () => app.api, overview: () => app.overview, objects: () => app.objects,
  onToggle: (on) => { if (on) showTab('critpath', { url: false }); writeUrl(true); },
  onSelect: (utid, ts) => selectSpan(utid, ts, { tab: false }),
});

// The off-CPU flame graph (tab, key G, fs= and ff=): shown for traces with stacks.
const flame = new Flame({ tab: $('tab-flame'), panel: $('panel-flame') }, {
  timeline, onChange: () => writeUrl(false), onShow: () => showTab('flame'),
});

const traceList = new TraceList({ table: $('list-table'), filter: $('list-filter'), count: $('list-count') });

// For scripts driving the page (tests, bench/web).
window.weft = { timeline, app, flame };

// ---- pages ------------------------------------------------------------------

/** Shows one of 'list', 'error', 'trace'. */
function showPage(name) {
  app.page = name;
  document.body.dataset.page = name;
  $('list-page').hidden = name !== 'list';
  $('error-page').hidden = name !== 'error';
  $('compare-page').hidden = name !== 'compare';
  $('trace-page').hidden = name !== 'trace';
}

function showErrorPage(title, text) {
  stopLive();
  app.api = null;
  app.overview = null;
  $('error-title').textContent = visible(title);
  $('error-text').textContent = visible(text);
  document.title = 'weft: trace not shown';
  showPage('error');
}

// ---- URL ------------------------------------------------------------------

function readUrl() {
  const q = new URLSearchParams(location.search);
  const num = (k) => (q.has(k) && q.get(k) !== '' && Number.isFinite(Number(q.get(k))) ? Number(q.get(k)) : null);
  const list = (k) => (q.get(k) || '').split(',').filter((s) => s !== '');
  let sel = null;
  const m = /^(\d+):(-?\d+)$/.exec(q.get('sel') || '');
  if (m) sel = { utid: Number(m[1]), ts: Number(m[2]) };
  const rs = num('rs');
  const re = num('re');
  return {
    trace: q.get('trace'), start: num('start'), end: num('end'), sel,
    range: rs !== null && re !== null ? { start: rs, end: re } : null,
    tab: q.get('tab'), tree: q.get('tree'), busy: q.get('order') === 'busy',
    col: list('col').map(Number).filter(Number.isFinite),
    exp: list('exp').map(Number).filter(Number.isFinite),
    pin: list('pin').filter((k) => /^[tpck]\d+$/.test(k)),
    hide: list('hide').filter((k) => /^[tpck]\d+$/.test(k)),
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
  const L = timeline.layoutState;
  const bigByDefault = app.overview.processes.length > COLLAPSE_ABOVE;
  if (L.bigTree !== bigByDefault) q.set('tree', L.bigTree ? 'c' : 'o');
  if (L.bigTree && L.expanded.size) q.set('exp', [...L.expanded].join(','));
  if (!L.bigTree && L.collapsed.size) q.set('col', [...L.collapsed].join(','));
  if (L.busy) q.set('order', 'busy');
  if (L.pinned.size) q.set('pin', [...L.pinned].join(','));
  if (L.hidden.size) q.set('hide', [...L.hidden].join(','));
  if (critPath.on) q.set('cp', '1');
  flame.urlParams(q);
  return `?${q}`;
}

function writeUrl(push) {
  clearTimeout(app.urlTimer);
  if (app.page !== 'trace') return;
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

/** The tracks' collapsed/pinned/hidden state from URL `u`. */
function applyTracks(u) {
  const L = timeline.layoutState;
  L.reset(app.overview.processes.length);
  if (u.tree === 'c' || u.tree === 'o') L.bigTree = u.tree === 'c';
  for (const upid of u.exp) L.expanded.add(upid);
  for (const upid of u.col) L.collapsed.add(upid);
  for (const k of u.pin) L.pinned.add(k);
  for (const k of u.hide) L.hidden.add(k);
  timeline.relayout();
}

async function applyUrl() {
  const u = readUrl();
  const q = new URLSearchParams(location.search);
  if (q.get('compare') && q.get('with')) {
    stopLive();
    app.api = null;
    showPage('compare');
    await showCompare($('compare-page'), q.get('compare'), q.get('with'));
    return;
  }
  if (!u.trace) {
    stopLive();
    app.api = null;
    app.overview = null;
    document.title = 'weft: traces';
    showPage('list');
    traceList.show(app.traces);
    return;
  }
  const t = app.traces.find((x) => x.id === u.trace);
  if (!t) {
    showErrorPage(`No trace named “${u.trace}”`,
      `weftd serves ${plural(app.traces.length, 'trace')}, none named “${u.trace}”. It may have been deleted or renamed.`);
    return;
  }
  if (t.status === 'broken') {
    showErrorPage(`The trace “${u.trace}” is broken`, t.error || 'weftd cannot read this file as a weft trace.');
    return;
  }
  if (!app.api || app.api.id !== u.trace) {
    try {
      await loadTrace(u.trace);
    } catch (e) {
      showErrorPage(`The trace “${u.trace}” cannot be shown`, e.message || String(e));
      return;
    }
  }
  showPage('trace');
  $('trace-picker').value = u.trace;
  applyTracks(u);
  if (u.busy || $('btn-busiest').getAttribute('aria-pressed') === 'true') await setBusiest(u.busy, { url: false });
  if (u.start !== null && u.end !== null && u.end > u.start) timeline.setView(u.start, u.end, { notify: false });
  else timeline.setView(timeline.traceStart, timeline.traceEnd, { notify: false });
  timeline.setRange(u.range, { notify: false });
  $('btn-zoom-range').disabled = !timeline.range;
  updateWindowLabel();
  critPath.setOn(new URLSearchParams(location.search).get('cp') === '1');
  flame.applyUrl(new URLSearchParams(location.search)).catch(showError);
  const tab = TABS.includes(u.tab) ? u.tab : 'details';
  if (u.sel) await selectSpan(u.sel.utid, u.sel.ts, { url: false, tab: false });
  else clearSelection({ url: false });
  showTab(tab, { url: false });
}

// ---- traces -----------------------------------------------------------------

async function loadTraceList() {
  const { traces } = await listTraces();
  app.traces = traces || [];
  const picker = $('trace-picker');
  // a file weftd cannot serve (broken, no id) is in the list, not the picker
  picker.replaceChildren(...app.traces.filter((t) => t.id).map((t) => {
    const o = document.createElement('option');
    o.value = t.id;
    o.textContent = visible(`${t.id}${t.status && t.status !== 'complete' ? ` (${t.status})` : ''}`);
    o.title = visible(t.command || t.file);
    o.disabled = t.status === 'broken';
    return o;
  }));
  if (app.page === 'list') traceList.show(app.traces);
}

/** Asks for trace `id`'s overview and objects (started early for a linked trace). */
function fetchTrace(id) {
  const api = new TraceApi(id);
  const overview = api.overview();
  overview.catch(() => {}); // the error is read where it is awaited
  return { id, api, overview, objects: api.objects().catch(() => ({ objects: [] })) };
}

async function loadTrace(id) {
  stopLive();
  const f = app.prefetch && app.prefetch.id === id ? app.prefetch : fetchTrace(id);
  app.prefetch = null;
  const { api } = f;
  const [overview, objects] = await Promise.all([f.overview, f.objects]);
  app.api = api;
  app.overview = overview;
  app.objects = objects.objects || [];
  app.sel = null;
  app.match = null;
  $('match-status').textContent = '';
  timeline.setTrace(api, overview);
  timeline.setObjects(app.objects);
  sql.setApi(api);
  flame.setApi(api).catch(showError);
  renderDetailsHint($('panel-details'));
  updateTraceStatus();
  document.title = `weft: ${visible(id)}`;
  if (traceStatus(overview) === 'recording') startLive();
}

/** 'recording', 'complete', 'incomplete' or 'interrupted' (meta.status). */
function traceStatus(ov) {
  return ov.status || (ov.meta && ov.meta.status) || 'unknown';
}

function updateTraceStatus() {
  const ov = app.overview;
  const el = $('trace-status');
  const status = traceStatus(ov);
  const recording = status === 'recording';
  el.className = `trace-status trace-only${recording ? ' recording' : ''}`;
  const prefix = recording ? '● recording · ' : status !== 'complete' && status !== 'unknown' ? `${status} · ` : '';
  el.textContent = `${prefix}${plural(ov.processes.length, 'process', 'processes')} · ` +
    `${plural(ov.threads.length, 'thread')} · ${formatDuration(ov.end_ts - ov.start_ts)}`;
  el.title = visible(ov.meta?.command || '');
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
 * Selects the span of thread `utid` containing `ts` and shows its details
 * (on the Details tab unless `tab` is false). No span there: the selection
 * is cleared, or kept with keepOnMiss (stepping past a thread's last span).
 */
async function selectSpan(utid, ts, { url = true, reveal = true, keepOnMiss = false, tab = true } = {}) {
  if (!app.api) return;
  if (app.spanAbort) app.spanAbort.abort();
  const ac = new AbortController();
  app.spanAbort = ac;
  try {
    const s = await app.api.span(utid, ts, ac.signal);
    if (ac !== app.spanAbort) return;
    app.sel = { utid: s.utid, ts: s.ts };
    timeline.setSelected({ utid: s.utid, ts: s.ts, dur: s.dur, flows: s.flows || [] });
    if (reveal) revealSpan(s);
    renderDetails($('panel-details'), s, {
      overview: app.overview, onJump: (u, t) => selectSpan(u, t),
      lockOrders: (into, o) => renderLockOrders(into, o, { overview: app.overview, api: app.api, onJump: (u, t) => selectSpan(u, t) }).catch(showError),
    });
    renderSpanStacks($('panel-details'), app.api, s, ac.signal).catch(() => {});
    if (tab) showTab('details', { url: false });
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

/** Pans the timeline (keeping the zoom) and scrolls so that span `s` is in view. */
function revealSpan(s) {
  const v = timeline.view;
  if (s.ts + s.dur < v.start || s.ts > v.end) {
    const span = v.end - v.start;
    const mid = s.ts + s.dur / 2;
    timeline.setView(mid - span / 2, mid + span / 2, { notify: false });
  }
  timeline.revealRow('thread', s.utid);
}

function showProcess(upid, span) {
  clearSelection();
  timeline.setSelectedProcess(upid);
  renderProcessDetails($('panel-details'), upid, span, { overview: app.overview });
  showTab('details', { url: false });
}

function clearSelection({ url = true } = {}) {
  const had = app.sel !== null;
  app.sel = null;
  timeline.setSelected(null);
  timeline.setSelectedProcess(null);
  renderDetailsHint($('panel-details'));
  if (url && had) writeUrl(true);
}

/** Jumps to what the search box found. */
async function pickSearch(it) {
  const v = timeline.view;
  const mid = Math.round((v.start + v.end) / 2);
  if (it.kind === 'process') {
    timeline.revealRow('process', it.upid);
    showProcess(it.upid, null);
  } else if (it.kind === 'thread') {
    const t = timeline.threadsById.get(it.utid);
    const lo = t.start_ts ?? timeline.traceStart;
    const hi = Math.max(lo, (t.end_ts ?? timeline.traceEnd) - 1);
    timeline.revealRow('thread', it.utid);
    await selectSpan(it.utid, Math.min(Math.max(mid, lo), hi));
  } else if (it.kind === 'object') {
    const r = await app.api.sql(`SELECT utid, ts FROM thread_state WHERE object_id = ${Number(it.object_id)} ORDER BY ABS(ts - ${mid}) LIMIT 1`);
    if (r.rows.length === 0) {
      showError(new Error(`No thread waited on ${it.name}`));
      return;
    }
    app.match = { object_id: Number(it.object_id), name: it.name };
    await selectSpan(Number(r.rows[0][0]), Number(r.rows[0][1]));
    $('match-status').textContent = `${it.name}: N / Shift+N for the next / previous wait`;
  }
}

/**
 * N (step 1) or Shift+N (-1): the next or previous span, in time, that
 * waits on the object the search jumped to.
 */
async function stepMatch(step) {
  const m = app.match;
  if (!m || !app.api) return;
  const at = app.sel ? app.sel.ts : timeline.view.start;
  const utid = app.sel ? app.sel.utid : -1;
  const cmp = step > 0 ? `(ts > ${at} OR (ts = ${at} AND utid > ${utid}))` : `(ts < ${at} OR (ts = ${at} AND utid < ${utid}))`;
  const dir = step > 0 ? 'ASC' : 'DESC';
  const r = await app.api.sql(`SELECT utid, ts, (SELECT COUNT(*) FROM thread_state WHERE object_id = ${m.object_id}),
    (SELECT COUNT(*) FROM thread_state WHERE object_id = ${m.object_id} AND (ts < s.ts OR (ts = s.ts AND utid <= s.utid)))
    FROM thread_state s WHERE object_id = ${m.object_id} AND ${cmp} ORDER BY ts ${dir}, utid ${dir} LIMIT 1`);
  if (r.rows.length === 0) {
    $('match-status').textContent = `${m.name}: no ${step > 0 ? 'later' : 'earlier'} wait`;
    return;
  }
  const [u, ts, total, k] = r.rows[0].map(Number);
  await selectSpan(u, ts);
  $('match-status').textContent = `${m.name}: wait ${k} of ${total} (N / Shift+N)`;
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
    renderSummary($('panel-summary'), s, range, { overview: app.overview, label, api: app.api, onJump: (u, t) => selectSpan(u, t) });
    renderCallsiteSummary($('panel-summary'), await flame.forRange(range, ac.signal));
  } catch (e) {
    if (e.name !== 'AbortError') renderSummaryError($('panel-summary'), e);
  }
}

// ---- tabs and panel -----------------------------------------------------------

const TABS = ['details', 'summary', 'critpath', 'flame', 'sql'];

function setPanelOpen(open) {
  $('panel').classList.toggle('collapsed', !open);
  $('panel-resizer').hidden = !open;
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

/** The panel's height: dragged on the separator (or Up/Down on it), kept across visits. */
function setPanelHeight(px) {
  const max = Math.max(120, window.innerHeight - 220);
  const v = Math.round(Math.min(max, Math.max(120, px)));
  $('panel').style.flexBasis = `${v}px`;
  $('panel-resizer').setAttribute('aria-valuenow', String(v));
  localStorage.setItem(PANEL_KEY, String(v));
}

{
  const saved = Number(localStorage.getItem(PANEL_KEY));
  if (saved > 0) setPanelHeight(saved);
  const bar = $('panel-resizer');
  let drag = null;
  bar.addEventListener('pointerdown', (e) => {
    drag = { y: e.clientY, h: $('panel').getBoundingClientRect().height };
    bar.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  bar.addEventListener('pointermove', (e) => { if (drag) setPanelHeight(drag.h + drag.y - e.clientY); });
  bar.addEventListener('pointerup', () => { drag = null; });
  bar.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
    setPanelHeight($('panel').getBoundingClientRect().height + (e.key === 'ArrowUp' ? 24 : -24));
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
$('btn-search').addEventListener('click', () => search.open());
$('btn-collapse-all').addEventListener('click', () => timeline.setAllCollapsed(true));
$('btn-expand-all').addEventListener('click', () => timeline.setAllCollapsed(false));
$('btn-unhide').addEventListener('click', () => timeline.unhideAll());
$('btn-busiest').addEventListener('click', () => setBusiest($('btn-busiest').getAttribute('aria-pressed') !== 'true').catch(showError));

/** Orders processes busiest first (on) or by start; the URL keeps it (order=busy). */
async function setBusiest(on, { url = true } = {}) {
  $('btn-busiest').setAttribute('aria-pressed', String(on));
  await timeline.setBusiestFirst(on);
  if (url) writeUrl(true);
}
$('btn-select-mode').addEventListener('click', (e) => {
  timeline.selectMode = !timeline.selectMode;
  e.currentTarget.setAttribute('aria-pressed', String(timeline.selectMode));
});
$('chk-flows').addEventListener('change', (e) => timeline.setShowFlows(e.target.checked));
$('trace-picker').addEventListener('change', (e) => {
  history.pushState(null, '', `?trace=${encodeURIComponent(e.target.value)}`);
  applyUrl().then(() => writeUrl(false)).catch(showError);
});
window.addEventListener('popstate', () => applyUrl().catch(showError));
document.addEventListener('keydown', (e) => {
  if (app.page !== 'trace' || $('search').open) return;
  const t = e.target;
  const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
  if ((e.key === 'k' && (e.ctrlKey || e.metaKey)) || (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey)) {
    e.preventDefault();
    search.open();
  } else if ((e.key === 'n' || e.key === 'N') && !typing && !e.ctrlKey && !e.metaKey && !e.altKey && app.match) {
    e.preventDefault();
    stepMatch(e.shiftKey ? -1 : 1).catch(showError);
  }
});

/** Keeps the picker and the list in step with the served traces. */
function watchTraceList() {
  const es = new EventSource('/api/events');
  es.addEventListener('traces', () => {
    loadTraceList()
      .then(() => { if (app.api) $('trace-picker').value = app.api.id; })
      .catch(() => {});
  });
}

// ---- start ------------------------------------------------------------------

async function start() {
  renderLegend($('legend'));
  performance.mark('weft:start');
  try {
    // A linked trace's overview is asked beside the list, not after it.
    const linked = new URLSearchParams(location.search).get('trace');
    if (linked) app.prefetch = fetchTrace(linked);
    await loadTraceList();
    watchTraceList();
    await applyUrl();
    writeUrl(false);
  } catch (e) {
    showErrorPage('weftd did not answer', e.message || String(e));
  }
}

start();
