// The state vocabulary and its colors. The names are the project's public
// ones (DESIGN.md "States"); the legend shows exactly these, in life-cycle
// order. Blocked is a thread state, Waiting its process counterpart, so they
// share a hue family. CPU lanes colour a slice by the process that ran, in
// pale colours no state uses.

export const STATE_ORDER = ['New', 'Ready', 'Running', 'Blocked', 'Waiting', 'Suspended', 'Terminated'];

export const STATE_COLORS = {
  New: '#8e6cc9',
  Ready: '#e3b32b',
  Running: '#2f9e55',
  Blocked: '#d3473d',
  Waiting: '#e27a3f',
  Suspended: '#4f7fd6',
  Terminated: '#9aa0a6',
};

export const STATE_HELP = {
  New: 'created, has not run yet',
  Ready: 'runnable, waiting for a CPU',
  Running: 'on a CPU',
  Blocked: 'thread waiting on something (lock, I/O, sleep, join...)',
  Waiting: 'process whose every live thread is blocked',
  Suspended: 'stopped by a signal until SIGCONT',
  Terminated: 'finished',
};

export function stateColor(name) {
  return STATE_COLORS[name] || '#666';
}

/**
 * A stable colour per process for the CPU lanes. The lanes answer "whose
 * work ran here", the state bands "what state was it in", so the two never
 * share a colour: lane colours are pale (lightness 84%) and desaturated,
 * every state colour is saturated and darker (lightness at most 65%).
 */
export function cpuColor(upid) {
  const hue = (upid * 137.508) % 360;
  return `hsl(${hue.toFixed(0)}, 40%, 84%)`;
}

/** Fills `el` with the legend: one swatch and name per state. */
export function renderLegend(el) {
  el.replaceChildren();
  for (const name of STATE_ORDER) {
    const item = document.createElement('li');
    item.className = 'legend-item';
    item.title = STATE_HELP[name];
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = STATE_COLORS[name];
    sw.setAttribute('aria-hidden', 'true');
    item.append(sw, document.createTextNode(name));
    el.append(item);
  }
}
