// Building the page from data without ever parsing data as markup: every
// string becomes a text node (through visible(), so control and bidi
// characters show as \uXXXX), attributes are set one by one, colours go
// through the CSSOM (allowed under weftd's Content-Security-Policy, which
// refuses style attributes written as markup). No module of the dashboard
// assigns innerHTML or insertAdjacentHTML.

import { visible } from './format.js';

/**
 * A new element `tag`. props: {className, id, title, text, data: {k: v},
 * attrs: {name: value}, color (background via the CSSOM), on: {event: fn}}.
 * Children: Nodes, or anything else as visible text; null/false skipped.
 */
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.id) e.id = props.id;
  if (props.title !== undefined && props.title !== null) e.title = visible(props.title);
  if (props.data) for (const [k, v] of Object.entries(props.data)) e.dataset[k] = visible(v);
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) e.setAttribute(k, visible(v));
  if (props.color) e.style.background = props.color;
  if (props.on) for (const [k, fn] of Object.entries(props.on)) e.addEventListener(k, fn);
  if (props.text !== undefined && props.text !== null) e.append(visible(props.text));
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else if (c instanceof Node) e.append(c);
    else e.append(document.createTextNode(visible(c)));
  }
}

/** A colour swatch (decorative). */
export function swatch(color) {
  return h('span', { className: 'swatch', color, attrs: { 'aria-hidden': 'true' } });
}

/** A hint paragraph. */
export function hint(text) {
  return h('p', { className: 'hint' }, text);
}

/** A table.grid of `head` (strings) and `rows` (arrays of cells: Node or text; {num: v} right-aligned). */
export function table(head, rows, props = {}) {
  const cell = (tagName, c) => {
    if (c && typeof c === 'object' && !(c instanceof Node) && 'num' in c) return h(tagName, { className: 'num' }, c.num);
    return h(tagName, {}, c);
  };
  return h('table', { className: `grid${props.className ? ` ${props.className}` : ''}`, attrs: props.attrs },
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { attrs: { scope: 'col' } }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => cell('td', c))))));
}
