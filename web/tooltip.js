// The timeline's tooltip: what is under the pointer - a span or a bucket
// of merged spans (state, reason, object, the mix of states), a CPU slice,
// or the parallelism counter - built from text nodes (dom.js), kept inside
// the window.

import { formatDuration, formatPercent, formatTime } from './format.js';
import { h, swatch } from './dom.js';
import { stateColor } from './states.js';

/** The tooltip's lines (arrays of Nodes and text) for `hit` on timeline `tl`. */
function tooltipLines(tl, hit) {
  const { row, entry: e } = hit;
  const states = tl.overview.states;
  const rel = (ns) => formatTime(ns - tl.traceStart, Math.max(1, (tl.view.end - tl.view.start) / tl.width));
  const coarse = tl.data?.coarse;
  if (row.kind === 'cpu') {
    const t = tl.threadsById.get(e[2]);
    return [
      [h('b', {}, row.label), ': ', t ? `${t.name} (tid ${t.tid})` : `utid ${e[2]}`],
      [`ran ${formatDuration(e[1])} from ${rel(e[0])}`],
      e[3] >= 0 && states[e[3]] ? [`then ${states[e[3]]}`] : null,
      e[4] > 1 ? [`${e[4]} slices merged`] : null,
      coarse ? [h('i', {}, 'summary: exact slices once the trace is read')] : null,
    ].filter(Boolean);
  }
  const who = row.kind === 'thread' ? 'thread' : row.collapsed ? 'process (its threads merged)' : 'process';
  const lines = [[h('b', {}, swatch(stateColor(states[e[2]])), states[e[2]]), ` — ${who} ${row.label}`]];
  const reason = e[3] >= 0 ? tl.overview.reasons[e[3]] : null;
  if (reason) lines.push([`reason: ${reason}`]);
  if (e[4] !== null && e[4] !== undefined) {
    const o = tl.objects.get(e[4]);
    lines.push([`object: ${o ? o.label || `${o.kind} ${o.object_id}` : `#${e[4]}`}`]);
  }
  if (Array.isArray(e[6])) {
    lines.push([`${e[5] === 1 ? '1 span' : `${e[5]} spans`} merged over ${formatDuration(e[1])}:`]);
    const total = e[6].reduce((a, b) => a + b, 0);
    const mix = e[6].map((ns, i) => [i, ns]).filter(([, ns]) => ns > 0).sort((a, b) => b[1] - a[1]);
    for (const [i, ns] of mix) {
      lines.push([swatch(stateColor(states[i])), `${states[i]} ${formatPercent(ns, total)} (${formatDuration(ns)})`]);
    }
  } else {
    lines.push([`duration: ${formatDuration(e[1])}`]);
  }
  lines.push([`at ${rel(e[0])}`]);
  if (coarse && Array.isArray(e[6])) lines.push([h('i', {}, 'summary: exact spans once the trace is read')]);
  return lines;
}

/**
 * Shows the tooltip of `hit` ({row, entry, t} from Timeline.hitTest, or
 * {lines}) near the pointer, or hides it when there is nothing to say.
 */
export function showTooltip(tl, clientX, clientY, hit) {
  const tip = tl.els.tooltip;
  const lines = hit && (hit.lines || (hit.entry && tooltipLines(tl, hit)));
  if (!lines) {
    tip.hidden = true;
    return;
  }
  tip.replaceChildren(...lines.map((parts) => h('div', {}, parts)));
  tip.hidden = false;
  const pad = 14;
  const rect = tip.getBoundingClientRect();
  let x = clientX + pad;
  let y = clientY + pad;
  if (x + rect.width > window.innerWidth - 4) x = clientX - rect.width - pad;
  if (y + rect.height > window.innerHeight - 4) y = clientY - rect.height - pad;
  tip.style.left = `${Math.max(4, x)}px`;
  tip.style.top = `${Math.max(4, y)}px`;
}
