// The briefing page: pick a patient, stream POST /api/v1/patients/:id/briefing as server-sent
// events, and render the live event log, the structured briefing with its sources, and the
// request's trace as a waterfall. Plain DOM, no dependencies; every piece of data goes in through
// textContent or attributes, never innerHTML.

const KEY_STORAGE = 'aidoc.apiKey';
const LOG_DETAIL_LIMIT = 220;
const SEVERITY_ORDER = { high: 0, medium: 1, low: 2 };

const $ = (id) => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`missing #${id}`);
  return element;
};

/** Creates an element with a class and text (text via textContent, so it is always escaped). */
function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined && text !== null) element.textContent = String(text);
  return element;
}

const dom = {
  form: $('brief-form'),
  patient: $('patient'),
  brief: $('brief'),
  stop: $('stop'),
  keySettings: $('key-settings'),
  apiKey: $('api-key'),
  saveKey: $('save-key'),
  clearKey: $('clear-key'),
  status: $('status'),
  error: $('error'),
  errorCode: $('error-code'),
  errorMessage: $('error-message'),
  briefingEmpty: $('briefing-empty'),
  briefing: $('briefing'),
  summary: $('summary'),
  concerns: $('concerns'),
  followups: $('followups'),
  meds: $('meds'),
  recommendations: $('recommendations'),
  sourcesEmpty: $('sources-empty'),
  sources: $('sources'),
  log: $('log'),
  logCount: $('log-count'),
  traceEmpty: $('trace-empty'),
  traceMeta: $('trace-meta'),
  waterfall: $('waterfall'),
  legend: $('legend'),
};

// ---------------------------------------------------------------------------------------------
// API key and requests

function apiKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

function headers(extra = {}) {
  const key = apiKey();
  return key === '' ? { ...extra } : { ...extra, Authorization: `Bearer ${key}` };
}

/** A failed response as { code, message }, from the server's JSON error body when it sent one. */
async function responseError(response) {
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const code = typeof body?.code === 'string' ? body.code : `HTTP_${response.status}`;
  const message = typeof body?.message === 'string' ? body.message : response.statusText || 'Request failed';
  return { code, message, status: response.status };
}

function showError({ code, message, status }) {
  dom.errorCode.textContent = code;
  dom.errorMessage.textContent = status === 401 ? `${message} — set the API key (top right) and try again.` : message;
  dom.error.hidden = false;
  if (status === 401) dom.keySettings.open = true;
}

function clearError() {
  dom.error.hidden = true;
  dom.errorCode.textContent = '';
  dom.errorMessage.textContent = '';
}

function setStatus(text, state = '') {
  dom.status.textContent = text;
  dom.status.dataset.state = state;
}

// ---------------------------------------------------------------------------------------------
// Patients

async function loadPatients() {
  dom.patient.disabled = true;
  dom.brief.disabled = true;
  try {
    const response = await fetch('/api/v1/patients', { headers: headers({ Accept: 'application/json' }) });
    if (!response.ok) throw await responseError(response);
    const { patients } = await response.json();
    dom.patient.replaceChildren();
    for (const patient of patients) {
      const option = el('option', '', `${patient.label} (#${patient.id})`);
      option.value = patient.id;
      dom.patient.append(option);
    }
    if (patients.length === 0) {
      const option = el('option', '', 'No patients');
      option.value = '';
      dom.patient.append(option);
    }
    dom.patient.disabled = patients.length === 0;
    dom.brief.disabled = patients.length === 0;
    dom.patient.dataset.loaded = 'true';
  } catch (error) {
    const option = el('option', '', 'Could not load patients');
    option.value = '';
    dom.patient.replaceChildren(option);
    showError(normalizeError(error));
    setStatus('Could not load the patient list.', 'error');
  }
}

function normalizeError(error) {
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) return error;
  if (error instanceof Error) return { code: error.name === 'TypeError' ? 'NETWORK_ERROR' : error.name, message: error.message };
  return { code: 'UNKNOWN', message: String(error) };
}

// ---------------------------------------------------------------------------------------------
// Server-sent events over fetch (EventSource cannot POST)

/** Yields { event, data } for every frame of an SSE body, parsing `data` as JSON. */
async function* readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let boundary;
    while ((boundary = buffer.search(/\r?\n\r?\n/)) !== -1) {
      const frame = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, '');
      const parsed = parseFrame(frame);
      if (parsed !== undefined) yield parsed;
    }
  }
  const rest = parseFrame(buffer);
  if (rest !== undefined) yield rest;
}

function parseFrame(frame) {
  let event = 'message';
  const data = [];
  for (const line of frame.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  const text = data.join('\n');
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}

// ---------------------------------------------------------------------------------------------
// One briefing run

let controller;
let logCount = 0;
let currentSources = new Map();

function resetRun() {
  clearError();
  logCount = 0;
  dom.log.replaceChildren();
  dom.logCount.textContent = '';
  dom.briefing.hidden = true;
  dom.briefingEmpty.hidden = false;
  dom.briefingEmpty.textContent = 'Waiting for the model…';
  dom.sources.replaceChildren();
  dom.sourcesEmpty.hidden = false;
  dom.waterfall.replaceChildren();
  dom.waterfall.hidden = true;
  dom.legend.hidden = true;
  dom.traceEmpty.hidden = false;
  dom.traceMeta.textContent = '';
  currentSources = new Map();
  document.body.dataset.state = 'running';
}

async function brief(patientId) {
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  resetRun();
  dom.brief.disabled = true;
  dom.stop.disabled = false;
  setStatus(`Briefing patient #${patientId}…`, 'running');
  const started = performance.now();
  let finished = false;
  try {
    const response = await fetch(`/api/v1/patients/${encodeURIComponent(patientId)}/briefing`, {
      method: 'POST',
      headers: headers({ Accept: 'text/event-stream' }),
      signal,
    });
    if (!response.ok) throw await responseError(response);
    if (response.body === null) throw { code: 'EMPTY_RESPONSE', message: 'The server sent no body.' };
    for await (const { event, data } of readEvents(response.body)) {
      handleEvent(event, data);
      if (event === 'done' || event === 'error') finished = true;
    }
    if (!finished) throw { code: 'STREAM_ENDED', message: 'The stream ended before the briefing finished.' };
  } catch (error) {
    if (signal.aborted) {
      setStatus('Stopped.', '');
      addLog('stopped', 'Stopped by you', '');
    } else {
      const problem = normalizeError(error);
      showError(problem);
      setStatus(`Failed after ${formatMs(performance.now() - started)}.`, 'error');
    }
    document.body.dataset.state = 'failed';
  } finally {
    if (controller?.signal === signal) {
      dom.brief.disabled = dom.patient.value === '';
      dom.stop.disabled = true;
      controller = undefined;
    }
    if (dom.briefing.hidden) dom.briefingEmpty.textContent = 'No briefing for this run.';
  }
}

function handleEvent(type, data) {
  switch (type) {
    case 'patient_loaded':
      addLog(type, 'Patient loaded', `#${data.patientId}`);
      break;
    case 'turn_started':
      addLog(type, `Turn ${data.turn}`, 'model turn started');
      break;
    case 'text':
      addLog(type, 'Model', data.text);
      break;
    case 'tool_call':
      addLog(type, `Tool call · ${data.name}`, describeInput(data.input), data.id);
      break;
    case 'tool_result': {
      const ids = Array.isArray(data.sourceIds) ? data.sourceIds : [];
      const detail = data.isError ? 'returned an error' : ids.length > 0 ? `sources ${ids.join(', ')}` : 'no sources';
      addLog(type, `Tool result · ${data.name}`, detail, data.id, data.isError);
      break;
    }
    case 'briefing':
      addLog(type, 'Briefing ready', `${data.sources?.length ?? 0} sources`);
      renderBriefing(data.briefing, data.sources ?? []);
      setStatus('Briefing ready, finishing the request…', 'running');
      break;
    case 'done':
      addLog(type, 'Done', formatMs(data.durationMs));
      setStatus(`Done in ${formatMs(data.durationMs)} · ${describeUsage(data.usage)}`, 'done');
      if (data.trace) renderWaterfall(data.trace);
      document.body.dataset.state = 'done';
      break;
    case 'error':
      addLog(type, `Error · ${data.code}`, data.message, undefined, true);
      showError({ code: data.code, message: data.retryable ? `${data.message} (retryable — try again)` : data.message });
      setStatus('The briefing failed.', 'error');
      document.body.dataset.state = 'failed';
      break;
    default:
      addLog(type, type, typeof data === 'string' ? data : JSON.stringify(data));
  }
}

function describeInput(input) {
  if (input === null || input === undefined) return '';
  if (typeof input === 'string') return input;
  if (typeof input.query === 'string') return `“${input.query}”`;
  const keys = typeof input === 'object' ? Object.keys(input) : [];
  return keys.length > 0 ? `fields: ${keys.join(', ')}` : JSON.stringify(input);
}

function describeUsage(usage) {
  if (!usage || typeof usage !== 'object') return '';
  const labels = { modelTurns: 'model turns', toolCalls: 'tool calls', embeddingCalls: 'embedding calls', vectorStoreCalls: 'vector-store calls' };
  return Object.entries(labels)
    .filter(([key]) => typeof usage[key] === 'number')
    .map(([key, label]) => `${usage[key]} ${label}`)
    .join(' · ');
}

function formatMs(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

function addLog(type, title, detail, id, isError = false) {
  const item = el('li', `log-item log-${type.replace(/[^a-z_]/gi, '')}${isError ? ' is-error' : ''}`);
  item.dataset.type = type;
  const badge = el('span', 'log-badge', type.replace(/_/g, ' '));
  const body = el('div', 'log-body');
  const head = el('div', 'log-title', title);
  if (id) head.append(el('span', 'log-id', id));
  body.append(head);
  if (detail) {
    const text = String(detail);
    const shown = el('div', 'log-detail', text.length > LOG_DETAIL_LIMIT ? `${text.slice(0, LOG_DETAIL_LIMIT)}…` : text);
    if (text.length > LOG_DETAIL_LIMIT) shown.title = text;
    body.append(shown);
  }
  item.append(badge, body);
  dom.log.append(item);
  logCount += 1;
  dom.logCount.textContent = `${logCount} event${logCount === 1 ? '' : 's'}`;
  dom.log.scrollTop = dom.log.scrollHeight;
}

// ---------------------------------------------------------------------------------------------
// The briefing and its sources

function renderBriefing(briefing, sources) {
  currentSources = new Map(sources.map((source) => [source.id, source]));
  dom.summary.textContent = briefing.summary;

  const concerns = [...(briefing.keyConcerns ?? [])].sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9));
  dom.concerns.replaceChildren(
    ...(concerns.length === 0
      ? [el('li', 'empty', 'None flagged.')]
      : concerns.map((concern) => {
          const item = el('li', `concern severity-${concern.severity}`);
          item.append(el('span', 'pill', concern.severity), el('div', 'concern-text', concern.concern), el('div', 'concern-evidence', concern.evidence));
          return item;
        })),
  );

  const followUps = briefing.followUps ?? [];
  dom.followups.replaceChildren(
    ...(followUps.length === 0
      ? [el('li', 'empty', 'None.')]
      : followUps.map((followUp) => {
          const item = el('li', 'followup');
          item.append(el('span', 'followup-action', followUp.action), el('span', 'followup-when', followUp.timeframe));
          return item;
        })),
  );

  const meds = briefing.medicationReview ?? [];
  dom.meds.replaceChildren(
    ...(meds.length === 0
      ? [emptyRow('No medications reviewed.', 4)]
      : meds.map((review) => {
          const row = el('tr');
          const action = el('td');
          action.append(el('span', `pill action-${review.action}`, review.action));
          const cites = el('td', 'cites');
          cites.append(...citationButtons(review.citations));
          row.append(el('th', 'med-name', review.medication), action, el('td', '', review.assessment), cites);
          row.firstChild.scope = 'row';
          return row;
        })),
  );

  const recommendations = briefing.recommendations ?? [];
  dom.recommendations.replaceChildren(
    ...recommendations.map((item) => {
      const li = el('li', 'recommendation');
      const text = el('div', 'rec-text', item.recommendation);
      text.append(' ', ...citationButtons(item.citations));
      li.append(text, el('div', 'rec-rationale', item.rationale));
      return li;
    }),
  );

  dom.sources.replaceChildren(...sources.map(sourceCard));
  dom.sourcesEmpty.hidden = sources.length > 0;
  if (sources.length === 0) dom.sourcesEmpty.textContent = 'The briefing cites no sources.';

  dom.briefing.hidden = false;
  dom.briefingEmpty.hidden = true;
}

function emptyRow(text, span) {
  const row = el('tr');
  const cell = el('td', 'empty', text);
  cell.colSpan = span;
  row.append(cell);
  return row;
}

function sourceElementId(id) {
  return `source-${String(id).replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function citationButtons(citations) {
  const buttons = [];
  for (const id of citations ?? []) {
    const known = currentSources.has(id);
    const button = el('button', 'citation', `[${id}]`);
    button.type = 'button';
    button.dataset.source = id;
    if (known) {
      const source = currentSources.get(id);
      button.setAttribute('aria-controls', sourceElementId(id));
      button.title = `${source.title} — ${source.section}`;
      button.setAttribute('aria-label', `Source ${id}: ${source.title}, ${source.section}`);
      button.addEventListener('click', () => showSource(id));
    } else {
      button.disabled = true;
      button.title = `Source ${id} is not in this briefing's sources`;
    }
    buttons.push(button);
  }
  return buttons;
}

function showSource(id) {
  const card = document.getElementById(sourceElementId(id));
  if (card === null) return;
  for (const other of dom.sources.querySelectorAll('.source.highlighted')) other.classList.remove('highlighted');
  // Restart the flash animation even when the same card is clicked twice.
  void card.offsetWidth;
  card.classList.add('highlighted');
  card.scrollIntoView({ behavior: 'smooth', block: 'center' });
  card.focus({ preventScroll: true });
}

function sourceCard(source) {
  const card = el('article', 'source');
  card.id = sourceElementId(source.id);
  card.tabIndex = -1;
  card.dataset.source = source.id;
  card.setAttribute('aria-label', `Source ${source.id}`);
  const head = el('header', 'source-head');
  head.append(el('span', 'source-id', source.id));
  const titles = el('div', 'source-titles');
  // Sections are heading paths that usually repeat the document title; show only the rest.
  const prefix = `${source.title} > `;
  const section = typeof source.section === 'string' && source.section.startsWith(prefix) ? source.section.slice(prefix.length) : source.section;
  titles.append(el('div', 'source-title', source.title));
  if (section && section !== source.title) titles.append(el('div', 'source-section', section));
  head.append(titles);
  // Chunks begin with their heading path, which the card already shows.
  const text = String(source.text ?? '');
  const body = typeof source.section === 'string' && text.startsWith(source.section) ? text.slice(source.section.length).trimStart() : text;
  const quote = el('blockquote', 'source-text', body || text);
  const foot = el('footer', 'source-foot');
  foot.append(el('span', 'source-doc', source.document));
  if (typeof source.score === 'number') foot.append(el('span', 'source-score', `score ${source.score.toFixed(3)}`));
  card.append(head, quote, foot);
  return card;
}

// ---------------------------------------------------------------------------------------------
// The trace waterfall

/** Spans in tree order (children after their parent, by start), each with its depth. */
function orderSpans(spans) {
  const ids = new Set(spans.map((span) => span.id));
  const children = new Map();
  const roots = [];
  for (const span of spans) {
    if (span.parentId === undefined || span.parentId === null || !ids.has(span.parentId)) roots.push(span);
    else {
      const list = children.get(span.parentId) ?? [];
      list.push(span);
      children.set(span.parentId, list);
    }
  }
  const byStart = (a, b) => a.start - b.start || a.id - b.id;
  const ordered = [];
  const visit = (span, depth) => {
    ordered.push({ span, depth });
    for (const child of (children.get(span.id) ?? []).sort(byStart)) visit(child, depth + 1);
  };
  for (const root of roots.sort(byStart)) visit(root, 0);
  return ordered;
}

function niceStep(total, targetTicks) {
  const raw = total / targetTicks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 2.5, 5, 10]) if (factor * magnitude >= raw) return factor * magnitude;
  return 10 * magnitude;
}

function renderWaterfall(trace) {
  const spans = Array.isArray(trace.spans) ? trace.spans : [];
  const total = Math.max(trace.durationMs || 0, ...spans.map((span) => span.end || 0), 0.001);
  const percent = (ms) => `${Math.min(100, Math.max(0, (ms / total) * 100))}%`;
  const critical = spans.filter((span) => span.critical).length;
  dom.traceMeta.textContent = `${trace.name} · ${spans.length} spans · ${formatMs(total)} · ${critical} on the critical path`;

  const axis = el('div', 'wf-row wf-axis');
  axis.setAttribute('aria-hidden', 'true');
  const axisTrack = el('div', 'wf-track');
  const step = niceStep(total, 6);
  for (let at = 0; at <= total + 1e-9; at += step) {
    const tick = el('span', 'wf-tick', formatMs(at));
    tick.style.left = percent(at);
    axisTrack.append(tick);
  }
  axis.append(el('div', 'wf-label', 'Span'), axisTrack, el('div', 'wf-duration', 'Duration'));

  const list = el('ol', 'wf-rows');
  list.setAttribute('aria-label', 'Spans of the request, in tree order');
  for (const { span, depth } of orderSpans(spans)) list.append(waterfallRow(span, depth, percent, step, total));

  dom.waterfall.replaceChildren(axis, list);
  dom.waterfall.hidden = false;
  dom.legend.hidden = false;
  dom.traceEmpty.hidden = true;
}

function waterfallRow(span, depth, percent, step, total) {
  const duration = Math.max(0, span.end - span.start);
  const queued = Math.min(Math.max(0, span.queuedMs || 0), duration);
  const backoff = Math.min(Math.max(0, span.backoffMs || 0), duration - queued);
  const failed = span.status === 'error';

  const row = el('li', `wf-row wf-span kind-${span.kind}${span.critical ? ' critical' : ''}${failed ? ' failed' : ''}`);
  row.tabIndex = 0;
  row.dataset.spanId = String(span.id);
  const parts = [`${span.name}`, `${span.kind}`, `starts at ${formatMs(span.start)}`, `takes ${formatMs(duration)}`];
  if (queued > 0) parts.push(`queued ${formatMs(queued)}`);
  if (backoff > 0) parts.push(`backoff ${formatMs(backoff)}`);
  if (span.attempts > 1) parts.push(`${span.attempts} attempts`);
  if (failed) parts.push(`error ${span.errorCode ?? ''}`.trim());
  if (span.critical) parts.push('on the critical path');
  row.setAttribute('aria-label', parts.join(', '));
  const attributes = Object.entries(span.attributes ?? {}).map(([key, value]) => `${key}=${value}`);
  row.title = [parts.join(' · '), ...attributes].join('\n');

  const label = el('div', 'wf-label');
  label.style.paddingLeft = `${0.5 + depth * 0.9}rem`;
  label.append(el('span', 'wf-name', span.name));
  if (span.attempts > 1) label.append(el('span', 'wf-badge', `×${span.attempts}`));
  if (failed) label.append(el('span', 'wf-badge error', span.errorCode ?? 'error'));

  const track = el('div', 'wf-track');
  for (let at = step; at < total; at += step) {
    const grid = el('span', 'wf-grid');
    grid.style.left = percent(at);
    track.append(grid);
  }
  const bar = el('div', 'wf-bar');
  bar.style.left = percent(span.start);
  bar.style.width = percent(duration);
  const segment = (className, ms) => {
    if (ms <= 0) return;
    const part = el('span', `wf-seg ${className}`);
    part.style.flexGrow = String(ms);
    bar.append(part);
  };
  segment('queued', queued);
  segment('backoff', backoff);
  segment('running', duration - queued - backoff);
  if (bar.childElementCount === 0) segment('running', 1);
  track.append(bar);

  row.append(label, track, el('div', 'wf-duration', formatMs(duration)));
  return row;
}

// ---------------------------------------------------------------------------------------------
// Wiring

dom.form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (dom.patient.value !== '') void brief(dom.patient.value);
});

dom.stop.addEventListener('click', () => controller?.abort());

dom.apiKey.value = apiKey();
dom.keySettings.open = false;
dom.saveKey.addEventListener('click', () => {
  try {
    const value = dom.apiKey.value.trim();
    if (value === '') sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, value);
  } catch {
    // sessionStorage unavailable (privacy mode): the key stays unset.
  }
  clearError();
  setStatus(apiKey() === '' ? 'API key cleared.' : 'API key saved for this tab.');
  void loadPatients();
});
dom.apiKey.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') {
    event.preventDefault();
    dom.saveKey.click();
  }
});
dom.clearKey.addEventListener('click', () => {
  dom.apiKey.value = '';
  dom.saveKey.click();
});

void loadPatients();
