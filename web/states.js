// The state vocabulary and its colors. The names are the project's public
// ones (DESIGN.md "States"); the legend shows exactly these, in life-cycle
// order. Blocked is a thread state, Waiting its process counterpart, so they
// share a hue family. CPU lanes color a slice by the thread that ran.

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
 * A stable color per thread for the CPU lanes: pastel hues, so a slice on a
 * CPU never looks like a state band (states use saturated colors).
 */
export function threadColor(utid) {
  const hue = (utid * 137.508) % 360;
  return `hsl(${hue.toFixed(0)}, 55%, 78%)`;
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
