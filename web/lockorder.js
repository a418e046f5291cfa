// Deadlocks and lock-order inversions where a reader looks first: the lead
// of the Summary tab (the window's deadlocks from /api/traces/{id}/summary,
// the trace's inversions from lock_order_inversions through the SQL route;
// none: said so), and the lock orders of a mutex or rwlock in the details
// panel (lock_order_edge). Each thread named is a button that selects its
// span at the moment that matters: a deadlock member's wait (its Blocked
// span on the lock, still going when the cycle closed), the moment an
// inversion's thread took the next lock. Lists only (no table: the summary's
// first table stays its threads'), built from text nodes only (dom.js).

import { formatTime } from './format.js';
import { h, hint } from './dom.js';

const MAX_CYCLES = 50;
const MAX_EDGES = 100;
const LOCK_KINDS = new Set(['mutex', 'rwlock']);

function jump(label, utid, ts, onJump) {
  return h('button', {
    className: 'linklike', text: label, attrs: { type: 'button', 'aria-label': `Select ${label} at that moment` },
    on: { click: () => onJump(utid, ts) },
  });
}

/**
 * onJump for deadlock member `utid` waiting on `object`: to its Blocked
 * span on that object that was still going at the deadlock's `ts` (the
 * wait began before the cycle closed; the span starts when the thread
 * left the CPU, a little after the call that waits).
 */
function memberJump(api, utid, object, ts, onJump) {
  return async () => {
    if (!api || object === null || object === undefined) return onJump(utid, ts);
    const r = await api.sql(`SELECT ts FROM thread_state WHERE utid = ${Number(utid)} AND object_id = ${Number(object)}
      AND state = 'Blocked' AND ts + dur > ${Number(ts)} ORDER BY ts LIMIT 1`, 1);
    return onJump(utid, r.rows.length ? Number(r.rows[0][0]) : ts);
  };
}

function deadlockList(deadlocks, rel, onJump, api) {
  if (!deadlocks.length) return hint('Deadlocks: none in this window.');
  return h('ul', { className: 'cycles deadlocks' }, deadlocks.map((d) => {
    const threads = d.threads || [];
    const steps = [];
    threads.forEach((utid, i) => {
      const name = String((d.thread_names || [])[i] ?? `utid ${utid}`);
      const go = memberJump(api, utid, (d.objects || [])[i], d.ts, onJump);
      steps.push(jump(name, utid, d.ts, () => go().catch(() => onJump(utid, d.ts))),
        ` waits for ${(d.object_labels || d.objects || [])[i] ?? '?'}, held by `);
    });
    if (threads.length) steps.push(String((d.thread_names || [])[0] ?? `utid ${threads[0]}`));
    return h('li', { className: 'deadlock' },
      `Deadlock at ${rel(d.ts)}${d.end_ts != null ? ` until ${rel(d.end_ts)}` : ' (still stuck)'}: `, steps);
  }));
}

/** Rows of lock_order_cycle grouped by cycle (array of members in order). */
function byCycle(rows) {
  const cycles = new Map();
  for (const [id, , objectId, utid, ts, who, what] of rows) {
    if (!cycles.has(id)) cycles.set(id, []);
    cycles.get(id).push({ objectId, utid: Number(utid), ts: Number(ts), who, what });
  }
  return [...cycles.values()];
}

async function inversionList(api, rel, onJump) {
  let r;
  try {
    r = await api.sql(`SELECT c.cycle_id, c.position, c.object_id, c.utid, c.ts,
        COALESCE(t.name, t.tid), COALESCE(o.label, 'object ' || c.object_id)
      FROM lock_order_cycle c JOIN thread t USING (utid) LEFT JOIN object o USING (object_id)
      WHERE c.cycle_id IN (SELECT DISTINCT cycle_id FROM lock_order_cycle ORDER BY cycle_id LIMIT ${MAX_CYCLES})
      ORDER BY c.cycle_id, c.position`, MAX_CYCLES * 64);
  } catch (e) {
    return hint(`Lock-order inversions: not in this trace (${e.message || e}).`);
  }
  const cycles = byCycle(r.rows);
  if (!cycles.length) return hint('Lock-order inversions: none (no locks taken in orders that could deadlock).');
  return h('ul', { className: 'cycles inversions' }, cycles.map((members) => h('li', { className: 'inversion' },
    'Lock-order inversion (could deadlock, though this run did not): ',
    members.map((m, i) => [
      `${m.what} held while `, jump(String(m.who), m.utid, m.ts, onJump),
      ` took ${members[(i + 1) % members.length].what} at ${rel(m.ts)}`, i + 1 < members.length ? '; ' : '']))));
}

/**
 * Fills `el` with what the Summary tab leads with: the deadlocks of the
 * window (summary `s`) and the trace's lock-order inversions.
 * ctx: {overview, api, onJump(utid, ts)}.
 */
export async function renderCycles(el, s, ctx) {
  const rel = (ns) => formatTime(ns - ctx.overview.start_ts, 1000);
  const onJump = ctx.onJump || (() => {});
  el.replaceChildren(h('h2', {}, 'Deadlocks and lock-order inversions'), deadlockList(s.deadlocks || [], rel, onJump, ctx.api));
  if (ctx.api) el.append(await inversionList(ctx.api, rel, onJump));
}

/**
 * Appends to `el` the lock orders of lock `o` ({object_id, kind, label}):
 * which locks were taken while it was held and while which it was taken.
 * Nothing for other kinds of object. ctx: {overview, api, onJump}.
 */
export async function renderLockOrders(el, o, ctx) {
  if (!o || !LOCK_KINDS.has(o.kind) || !ctx.api) return;
  const id = Number(o.object_id);
  const section = h('div', { className: 'lock-orders' }, h('h2', {}, 'Lock order'));
  el.append(section);
  let r;
  try {
    r = await ctx.api.sql(`SELECT e.from_object_id, e.to_object_id, e.utid, e.ts,
        COALESCE(f.label, 'object ' || e.from_object_id), COALESCE(t.label, 'object ' || e.to_object_id),
        COALESCE(th.name, th.tid), e.from_mode, e.to_mode
      FROM lock_order_edge e LEFT JOIN object f ON f.object_id = e.from_object_id
      LEFT JOIN object t ON t.object_id = e.to_object_id JOIN thread th ON th.utid = e.utid
      WHERE e.from_object_id = ${id} OR e.to_object_id = ${id} ORDER BY e.ts LIMIT ${MAX_EDGES + 1}`, MAX_EDGES + 1);
  } catch (e) {
    section.append(hint(`This trace has no lock orders (${e.message || e}).`));
    return;
  }
  const rel = (ns) => formatTime(ns - ctx.overview.start_ts, 1000);
  const rows = r.rows.slice(0, MAX_EDGES);
  if (!rows.length) {
    section.append(hint('No other lock was taken while this one was held, nor this one while another was.'));
    return;
  }
  section.append(h('ul', { className: 'order-edges' }, rows.map(([from, , utid, ts, fromLabel, toLabel, who, fromMode, toMode]) => h('li', {
    className: 'order-edge', data: { from: String(from), dir: Number(from) === id ? 'out' : 'in' },
  }, `${fromLabel}${fromMode === 'read' ? ' (read)' : ''} held, then ${toLabel}${toMode === 'read' ? ' (read)' : ''} taken by `,
  jump(String(who), Number(utid), Number(ts), ctx.onJump || (() => {})), ` at ${rel(Number(ts))}`))));
  if (r.rows.length > MAX_EDGES) section.append(hint(`The first ${MAX_EDGES} orders.`));
}
