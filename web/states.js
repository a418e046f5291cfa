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
 * every state colour is saturated and darker (lightness at most 65%). A
 * palette of 36 hues, as #rrggbb (cheap for a canvas to parse), spread by
 * the golden angle so neighbouring processes differ.
 */
const CPU_PALETTE = Array.from({ length: 36 }, (_, i) => {
  const hue = (i * 137.508) % 360;
  const f = (n) => {
    const k = (n + hue / 30) % 12;
    const a = 0.4 * Math.min(0.84, 1 - 0.84);
    const v = 0.84 - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255).toString(16).padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
});

export function cpuColor(upid) {
  return CPU_PALETTE[Math.abs(upid) % CPU_PALETTE.length];
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
