// Client of the weftd HTTP API (docs/API.md). Every call returns the parsed
// JSON body or throws an Error carrying the server's {"error": message};
// an AbortSignal passed in cancels the request (the error then has
// name 'AbortError' and callers ignore it). SQL answers keep integers beyond
// 2^53 exact: JSON.parse's source text (where the browser gives it) turns
// them into BigInt instead of a rounded Number.

function exactIntegers(key, value, context) {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source);
  }
  return value;
}

async function request(path, options = {}, { bigints = false } = {}) {
  const res = await fetch(path, options);
  let body = null;
  const text = await res.text();
  const t0 = performance.now();
  try {
    body = text ? JSON.parse(text, bigints ? exactIntegers : undefined) : null;
  } catch {
    body = null;
  }
  performance.measure('weft:parse', { start: t0, end: performance.now(), detail: { path, bytes: text.length } });
  if (!res.ok) {
    const msg = body && body.error ? body.error : `${res.status} ${res.statusText || 'error'}`;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  if (body === null) throw new Error(`${path}: the answer is not JSON`);
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  return q.toString();
}

export function listTraces(signal) {
  return request('/api/traces', { signal });
}

export class TraceApi {
  constructor(id) {
    this.id = id;
    this.base = `/api/traces/${encodeURIComponent(id)}`;
  }

  overview(signal) {
    return request(this.base, { signal });
  }

  timeline(params, signal) {
    return request(`${this.base}/timeline?${query(params)}`, { signal });
  }

  span(utid, ts, signal) {
    return request(`${this.base}/span?${query({ utid, ts })}`, { signal });
  }

  flows(params, signal) {
    return request(`${this.base}/flows?${query(params)}`, { signal });
  }

  summary(start, end, signal) {
    return request(`${this.base}/summary?${query({ start, end })}`, { signal });
  }

  objects(signal) {
    return request(`${this.base}/objects`, { signal });
  }

  schema(signal) {
    return request(`${this.base}/schema`, { signal });
  }

  sql(sql, limit = 1000, signal) {
    return request(`${this.base}/sql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql, limit }),
      signal,
    }, { bigints: true });
  }

  liveUrl() {
    return `${this.base}/live`;
  }
}

/** Two runs compared (GET /api/diff): what `weft diff --json` says. */
export function compareTraces(a, b, signal) {
  return request(`/api/diff?${query({ a, b })}`, { signal });
}
