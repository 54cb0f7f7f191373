/**
 * The page: wires the controls to the training worker (./worker.ts) and draws what it reports.
 * No Axon code runs on this thread, so the page stays responsive while the worker trains.
 */
import './style.css';
import { renderBackends } from './backend-view.js';
import { LiveChart } from './charts.js';
import { DrawPad } from './pad.js';
import type { BackendChoice, BackendStatus, ExportFormat, ModelKind, Reply, Request, TrainState } from './protocol.js';
import { type BackendFeatures, argmax, errorMessage, formatInt, formatPercent, formatSeconds, pickModelFiles, readFloat, readInt, weightsNamedIn } from './util.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
};

const ui = {
  backend: $<HTMLSelectElement>('backend'),
  backendNote: $('backend-note'),
  backendFeatures: $('backend-features'),
  backendReasons: $('backend-reasons'),
  isolationNote: $('isolation-note'),
  error: $('error'),
  errorText: $('error-text'),
  errorClose: $<HTMLButtonElement>('error-close'),
  form: $<HTMLFormElement>('train-form'),
  model: $<HTMLSelectElement>('model'),
  epochs: $<HTMLInputElement>('epochs'),
  batch: $<HTMLInputElement>('batch'),
  lr: $<HTMLInputElement>('lr'),
  trainSize: $<HTMLSelectElement>('train-size'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  stop: $<HTMLButtonElement>('stop'),
  status: $('status'),
  progress: $<HTMLProgressElement>('progress'),
  step: $('stat-step'),
  epoch: $('stat-epoch'),
  speed: $('stat-speed'),
  epochTime: $('stat-epoch-time'),
  loss: $('stat-loss'),
  acc: $('stat-acc'),
  pad: $<HTMLCanvasElement>('pad'),
  preview: $<HTMLCanvasElement>('preview'),
  clear: $<HTMLButtonElement>('clear'),
  sample: $<HTMLButtonElement>('sample'),
  prediction: $('prediction'),
  probs: $<HTMLOListElement>('probs'),
  grid: $<HTMLUListElement>('grid'),
  gridSummary: $('grid-summary'),
  gridPrev: $<HTMLButtonElement>('grid-prev'),
  gridNext: $<HTMLButtonElement>('grid-next'),
  modelInfo: $('model-info'),
  download: $<HTMLButtonElement>('download'),
  downloadOnnx: $<HTMLButtonElement>('download-onnx'),
  downloadTorch: $<HTMLButtonElement>('download-torch'),
  links: $('download-links'),
  upload: $<HTMLInputElement>('upload'),
  uploadError: $('upload-error'),
  uploadErrorText: $('upload-error-text'),
  drop: $('drop'),
};

/** What the end-to-end tests (and the curious, from the console) can read. */
const demo = {
  state: 'loading' as TrainState,
  backend: '',
  backends: [] as BackendStatus[],
  /** `crossOriginIsolated` in the page and in the training worker (threads need it). */
  crossOriginIsolated: window.crossOriginIsolated,
  workerCrossOriginIsolated: null as boolean | null,
  /** The active backend's `features` (WASM: simd, relaxedSimd, threads, threadsReason), as shown next to the picker. */
  features: null as BackendFeatures | null,
  /** The line shown next to the picker, e.g. "wasm · SIMD · relaxed SIMD · 2 threads". */
  featureText: '',
  hasModel: false,
  steps: [] as number[],
  losses: [] as number[],
  epochs: [] as { epoch: number; testAccuracy: number; seconds: number }[],
  prediction: null as null | { digit: number; probs: number[] },
  gridAccuracy: null as number | null,
  /** Bumped on every new model (trained, training or loaded); `gridFor` is the model the grid shows. */
  modelVersion: 0,
  gridFor: -1,
  errors: [] as string[],
  /** Content-Security-Policy violations seen by the page and the worker (none is expected). */
  cspViolations: [] as string[],
  done: 0,
  modelsLoaded: 0,
  /** Files offered for download since the model last changed (model.json, model.onnx, …). */
  saved: [] as { name: string; bytes: number }[],
  /** Exports asked of the worker and not yet answered. */
  exporting: 0,
};
(window as unknown as { axonDemo: typeof demo }).axonDemo = demo;
document.addEventListener('securitypolicyviolation', (e) => {
  demo.cspViolations.push(`page: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}${e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : ''}`);
});

const GRID = 80;
let modelText = 'No model yet.';
let gridOffset = 0;
let predictId = 0;
let inFlight = false;
let again = false;

// ------------------------------------------------------------------ worker
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: Request, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);
worker.onmessage = (ev: MessageEvent<Reply>) => onReply(ev.data);
worker.onerror = (ev) => showError(`The training worker failed: ${ev.message || 'unknown error'}`);

// ------------------------------------------------------------------ charts and bars
const lossChart = new LiveChart($('loss-chart'), 'loss');
const accChart = new LiveChart($('acc-chart'), 'accuracy', { percent: true });

const bars: { row: HTMLLIElement; fill: HTMLElement; pct: HTMLElement }[] = [];
for (let d = 0; d < 10; d++) {
  const row = document.createElement('li');
  row.innerHTML = `<span class="digit">${d}</span><span class="bar"><span class="fill"></span></span><span class="pct">–</span>`;
  ui.probs.append(row);
  bars.push({ row, fill: row.querySelector('.fill')!, pct: row.querySelector('.pct')! });
}

function showProbs(probs: ArrayLike<number>): void {
  const best = argmax(probs);
  for (let d = 0; d < 10; d++) {
    const p = probs[d] ?? 0;
    const b = bars[d]!;
    b.fill.style.width = `${(p * 100).toFixed(1)}%`;
    b.pct.textContent = `${(p * 100).toFixed(1)}%`;
    b.row.classList.toggle('best', d === best);
    b.row.setAttribute('aria-label', `${d}: ${(p * 100).toFixed(1)} percent`);
  }
  ui.prediction.innerHTML = `Prediction: <strong id="predicted-digit">${best}</strong> (${(probs[best]! * 100).toFixed(1)}%)`;
  demo.prediction = { digit: best, probs: Array.from(probs) };
}

function resetProbs(text: string): void {
  for (const b of bars) {
    b.fill.style.width = '0';
    b.pct.textContent = '–';
    b.row.classList.remove('best');
    b.row.removeAttribute('aria-label');
  }
  ui.prediction.textContent = text;
  demo.prediction = null;
}

function showPreview(input: Float32Array): void {
  const ctx = ui.preview.getContext('2d')!;
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(input[i]! * 255);
    img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// ------------------------------------------------------------------ errors and status
const OPS: Record<string, string> = {
  init: 'Could not start',
  setBackend: 'Could not switch the backend',
  train: 'Training failed',
  predict: 'Prediction failed',
  predictPixels: 'Prediction failed',
  grid: 'Could not predict the test images',
  testDigit: 'Could not load a test digit',
  export: 'Could not export the model',
  'export:onnx': 'Could not export the model to ONNX',
  'export:torch': 'Could not export the PyTorch weights',
  import: 'Could not load the model',
};

function showError(message: string): void {
  ui.errorText.textContent = message;
  ui.error.hidden = false;
  demo.errors.push(message);
}

function hideError(): void {
  ui.error.hidden = true;
}

/**
 * An error of a model upload: shown next to the upload control (not in the banner at the top),
 * scrolled into view and focused, so it is where the user is looking; `role="alert"` announces it.
 */
function showUploadError(message: string): void {
  ui.uploadErrorText.textContent = message;
  ui.uploadError.hidden = false;
  ui.upload.setAttribute('aria-invalid', 'true');
  demo.errors.push(message);
  ui.uploadError.scrollIntoView({ block: 'nearest' });
  ui.uploadError.focus({ preventScroll: true });
}

function hideUploadError(): void {
  ui.uploadError.hidden = true;
  ui.upload.removeAttribute('aria-invalid');
}

function setState(state: TrainState, message: string): void {
  demo.state = state;
  ui.status.dataset['state'] = state;
  ui.status.textContent = message;
  const busy = state !== 'idle';
  ui.start.disabled = busy;
  ui.pause.disabled = !(state === 'training' || state === 'paused');
  ui.pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
  ui.pause.setAttribute('aria-pressed', String(state === 'paused'));
  ui.stop.disabled = !busy || state === 'stopping';
  ui.backend.disabled = busy || demo.backends.filter((b) => b.available).length < 2;
  for (const b of downloadButtons()) b.disabled = busy || !demo.hasModel;
  ui.upload.disabled = busy;
  for (const el of [ui.model, ui.epochs, ui.batch, ui.lr, ui.trainSize]) el.disabled = busy;
}

function showBackends(list: BackendStatus[], active: string, features: BackendFeatures | undefined, workerIsolated: boolean): void {
  demo.backends = list;
  demo.backend = active;
  demo.features = features ?? null;
  demo.workerCrossOriginIsolated = workerIsolated;
  demo.featureText = renderBackends(ui, list, active, features, demo.state !== 'idle');
}

// ------------------------------------------------------------------ replies
function onReply(m: Reply): void {
  switch (m.type) {
    case 'backends':
      showBackends(m.list, m.active, m.features, m.crossOriginIsolated);
      return;
    case 'status':
      setState(m.state, m.message);
      return;
    case 'progress': {
      ui.step.textContent = formatInt(m.step);
      ui.epoch.textContent = `${Math.min(m.epoch + 1, m.epochs)} / ${m.epochs}`;
      ui.speed.textContent = formatInt(m.samplesPerSec);
      ui.loss.textContent = m.loss.toFixed(4);
      ui.progress.value = (m.epoch + m.epochStep / m.stepsPerEpoch) / m.epochs;
      demo.steps.push(m.step);
      demo.losses.push(m.loss);
      lossChart.push(m.step, m.loss);
      if (Number.isFinite(m.accuracy)) accChart.push(m.step, m.accuracy);
      return;
    }
    case 'epoch':
      ui.epochTime.textContent = formatSeconds(m.seconds);
      ui.acc.textContent = formatPercent(m.testAccuracy);
      demo.epochs.push({ epoch: m.epoch, testAccuracy: m.testAccuracy, seconds: m.seconds });
      lossChart.pushTest(m.step, m.testLoss);
      accChart.pushTest(m.step, m.testAccuracy);
      requestGrid();
      return;
    case 'done':
      demo.done++;
      ui.progress.value = m.stopped ? ui.progress.value : 1;
      requestGrid();
      predictPad();
      return;
    case 'model':
      if (m.source === 'loaded') hideUploadError();
      demo.hasModel = true;
      demo.modelVersion++;
      if (m.source === 'loaded') demo.modelsLoaded++;
      modelText = `${m.source === 'loaded' ? 'Loaded' : 'Trained here'}: ${m.description} · ${formatInt(m.params)} parameters`;
      ui.modelInfo.textContent = modelText;
      for (const b of downloadButtons()) b.disabled = demo.state !== 'idle';
      clearSaved();
      if (!pad.dirty) ui.prediction.textContent = 'Draw a digit, or use a test digit.';
      if (m.source === 'loaded') {
        requestGrid();
        predictPad();
      }
      return;
    case 'prediction':
      inFlight = false;
      if (m.id === predictId) {
        showPreview(m.input);
        showProbs(m.probs);
      }
      if (again) {
        again = false;
        predictPad();
      }
      return;
    case 'grid':
      renderGrid(m);
      return;
    case 'testDigit':
      pad.showImage(m.pixels);
      ui.prediction.textContent = `Test digit #${m.index} (label ${m.label})`;
      if (demo.hasModel) {
        predictId++;
        send({ type: 'predictPixels', id: predictId, pixels: m.pixels });
      } else showPreview(m.pixels);
      return;
    case 'exported':
      demo.exporting--;
      offerDownload([
        ['model.json', new Blob([m.json], { type: 'application/json' })],
        ['model.safetensors', new Blob([m.weights as BlobPart], { type: 'application/octet-stream' })],
      ]);
      return;
    case 'exportedFile':
      demo.exporting--;
      offerDownload([[m.name, new Blob([m.bytes as BlobPart], { type: 'application/octet-stream' })]]);
      return;
    case 'cspViolation':
      demo.cspViolations.push(`worker: ${m.directive} blocked ${m.blocked || 'inline'}${m.source ? ` (${m.source})` : ''}`);
      return;
    case 'error':
      if (m.op === 'predict' || m.op === 'predictPixels') inFlight = false;
      if (m.op === 'grid') gridRequests.shift();
      if (m.op.startsWith('export')) {
        demo.exporting--;
        showSaved();
      }
      if (m.op === 'import') {
        showUploadError(`${OPS[m.op]}: ${m.message}`);
        ui.modelInfo.textContent = `${modelText} (the file was not loaded)`;
      } else showError(`${OPS[m.op] ?? m.op}: ${m.message}`);
      if (m.op === 'setBackend') ui.backend.value = demo.backend;
      return;
  }
}

// ------------------------------------------------------------------ training controls
ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  hideError();
  const params = {
    model: (ui.model.value === 'cnn' ? 'cnn' : 'mlp') as ModelKind,
    epochs: readInt(ui.epochs.value, 1, 100, 3),
    batchSize: readInt(ui.batch.value, 1, 2048, 64),
    learningRate: readFloat(ui.lr.value, 1e-5, 1, 0.001),
    trainSize: readInt(ui.trainSize.value, 1, 60000, 10000),
    evalSize: 2000,
  };
  ui.epochs.value = String(params.epochs);
  ui.batch.value = String(params.batchSize);
  ui.lr.value = String(params.learningRate);
  demo.steps = [];
  demo.losses = [];
  demo.epochs = [];
  lossChart.clear();
  accChart.clear();
  for (const el of [ui.step, ui.epoch, ui.speed, ui.epochTime, ui.loss, ui.acc]) el.textContent = '–';
  ui.progress.value = 0;
  setState('training', 'Starting…');
  send({ type: 'train', params });
});

ui.pause.addEventListener('click', () => {
  if (demo.state === 'paused') send({ type: 'resume' });
  else if (demo.state === 'training') send({ type: 'pause' });
});
ui.stop.addEventListener('click', () => send({ type: 'stop' }));
ui.backend.addEventListener('change', () => {
  hideError();
  send({ type: 'setBackend', name: ui.backend.value });
});
ui.errorClose.addEventListener('click', hideError);

// ------------------------------------------------------------------ drawing
function predictPad(): void {
  if (!demo.hasModel || !pad.dirty) return;
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  predictId++;
  const gray = pad.pixels();
  send({ type: 'predict', id: predictId, gray, width: ui.pad.width, height: ui.pad.height }, [gray.buffer]);
}

const pad = new DrawPad(ui.pad, () => {
  if (demo.hasModel) predictPad();
  else ui.prediction.textContent = 'Train or load a model to see what it predicts.';
});
resetProbs('Train or load a model, then draw a digit.');

ui.clear.addEventListener('click', () => {
  pad.clear();
  predictId++;
  showPreview(new Float32Array(784));
  resetProbs(demo.hasModel ? 'Draw a digit.' : 'Train or load a model, then draw a digit.');
});
let sampleIndex = 0;
ui.sample.addEventListener('click', () => {
  send({ type: 'testDigit', index: sampleIndex });
  sampleIndex = (sampleIndex + 97) % 10000;
});

// ------------------------------------------------------------------ test grid
const gridRequests: number[] = [];
function requestGrid(): void {
  if (!demo.hasModel) return;
  gridRequests.push(demo.modelVersion);
  send({ type: 'grid', offset: gridOffset, count: GRID });
}

function renderGrid(m: Extract<Reply, { type: 'grid' }>): void {
  gridOffset = m.offset;
  demo.gridAccuracy = m.accuracy;
  demo.gridFor = gridRequests.shift() ?? demo.modelVersion;
  const items: HTMLLIElement[] = [];
  let wrong = 0;
  for (let i = 0; i < m.labels.length; i++) {
    const ok = m.preds[i] === m.labels[i];
    if (!ok) wrong++;
    const li = document.createElement('li');
    li.className = ok ? 'right' : 'wrong';
    const c = document.createElement('canvas');
    c.width = c.height = 28;
    c.setAttribute('aria-hidden', 'true');
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const v = m.images[i * 784 + p]!;
      img.data[p * 4] = img.data[p * 4 + 1] = img.data[p * 4 + 2] = v;
      img.data[p * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    const cap = document.createElement('span');
    cap.className = 'cap';
    cap.textContent = ok ? `${m.preds[i]}` : `${m.preds[i]} ≠ ${m.labels[i]}`;
    li.title = `Test image #${m.offset + i}: predicted ${m.preds[i]} (${(m.confidence[i]! * 100).toFixed(0)}%), label ${m.labels[i]}`;
    li.setAttribute('aria-label', `${ok ? '' : 'Wrong: '}predicted ${m.preds[i]}, label ${m.labels[i]}`);
    li.append(c, cap);
    items.push(li);
  }
  ui.grid.replaceChildren(...items);
  ui.gridSummary.textContent = `Test images ${formatInt(m.offset + 1)}–${formatInt(m.offset + m.labels.length)}: ${m.labels.length - wrong} of ${m.labels.length} right (${formatPercent(m.accuracy)}), ${wrong} wrong (outlined in red).`;
  ui.gridPrev.disabled = m.offset <= 0;
  ui.gridNext.disabled = m.offset + GRID >= 10000;
}
ui.gridPrev.addEventListener('click', () => {
  gridOffset = Math.max(0, gridOffset - GRID);
  requestGrid();
});
ui.gridNext.addEventListener('click', () => {
  gridOffset = Math.min(10000 - GRID, gridOffset + GRID);
  requestGrid();
});

// ------------------------------------------------------------------ model files
function downloadButtons(): HTMLButtonElement[] {
  return [ui.download, ui.downloadOnnx, ui.downloadTorch];
}

/** Asks the worker for the model's files: model.json + model.safetensors, or one file in another format. */
function requestExport(format?: ExportFormat): void {
  hideError();
  demo.exporting++;
  ui.links.textContent = format === 'onnx' ? 'Exporting to ONNX…' : format === 'torch' ? 'Exporting the PyTorch weights…' : 'Saving…';
  send(format ? { type: 'export', format } : { type: 'export' });
}
ui.download.addEventListener('click', () => requestExport());
ui.downloadOnnx.addEventListener('click', () => requestExport('onnx'));
ui.downloadTorch.addEventListener('click', () => requestExport('torch'));

/** The links of the files saved since the model last changed, by name (a file saved again replaces its link). */
const saved = new Map<string, HTMLAnchorElement>();

function clearSaved(): void {
  for (const a of saved.values()) URL.revokeObjectURL(a.href);
  saved.clear();
  demo.saved = [];
  ui.links.replaceChildren();
}

function showSaved(): void {
  const links = [...saved.values()];
  const parts: Node[] = links.length ? [document.createTextNode('Saved: ')] : [];
  links.forEach((a, i) => {
    if (i > 0) parts.push(document.createTextNode(i === links.length - 1 ? ' and ' : ', '));
    parts.push(a);
  });
  ui.links.replaceChildren(...parts);
}

/** Offers the files as downloads (and keeps their links on the page). */
function offerDownload(files: [string, Blob][]): void {
  const made = files.map(([name, blob]) => {
    const old = saved.get(name);
    if (old) URL.revokeObjectURL(old.href);
    saved.delete(name);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.textContent = `${name} (${formatInt(blob.size / 1024)} KB)`;
    saved.set(name, a);
    demo.saved = [...demo.saved.filter((f) => f.name !== name), { name, bytes: blob.size }];
    return a;
  });
  showSaved();
  for (const a of made) a.click();
}

async function loadFiles(list: FileList | File[] | null): Promise<void> {
  hideUploadError();
  const files = Array.from(list ?? []);
  if (files.length === 0) return;
  try {
    const { json } = pickModelFiles(files);
    const text = await json.text();
    // a folder written by save()/axon train may hold superseded weights: take the file model.json names
    const { weights } = pickModelFiles(files, weightsNamedIn(text));
    const bytes = await weights.arrayBuffer();
    ui.modelInfo.textContent = `Loading ${json.name} + ${weights.name}…`;
    send({ type: 'import', json: text, weights: bytes, fileNames: [json.name, weights.name] }, [bytes]);
  } catch (e) {
    showUploadError(`${OPS['import']}: ${errorMessage(e)}`);
  }
}
ui.upload.addEventListener('change', () => {
  void loadFiles(ui.upload.files).finally(() => (ui.upload.value = ''));
});
// Files can be dropped on the drop zone or anywhere on the page (the browser would otherwise open them).
for (const ev of ['dragenter', 'dragover'] as const) {
  window.addEventListener(ev, (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    ui.drop.classList.add('over');
  });
}
window.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) ui.drop.classList.remove('over');
});
window.addEventListener('drop', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return;
  e.preventDefault();
  ui.drop.classList.remove('over');
  if (ui.upload.disabled) showUploadError(`${OPS['import']}: stop training first (${[...e.dataTransfer.files].map((f) => f.name).join(', ')} not loaded)`);
  else void loadFiles(e.dataTransfer.files);
});

// ------------------------------------------------------------------ start
// WebAssembly threads need SharedArrayBuffer, which a browser gives only to a cross-origin isolated
// page (served with COOP: same-origin and COEP: require-corp; see the README's Hosting section).
ui.isolationNote.hidden = window.crossOriginIsolated;
const params = new URLSearchParams(location.search);
const wanted = params.get('backend');
const choice: BackendChoice = wanted === 'wasm' || wanted === 'webgpu' ? wanted : 'auto';
send({ type: 'init', backend: choice, dataUrl: new URL(`${import.meta.env.BASE_URL}data/`, location.href).href });
