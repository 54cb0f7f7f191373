/**
 * The GPT page: pick or paste a text, train a small character-level GPT on it in a Web Worker
 * (./worker.ts), watch the loss and the samples improve, pause/resume/stop, and generate text from
 * a prompt. No Axon code runs on this thread.
 */
import '../style.css';
import './gpt.css';
import { renderBackends } from '../backend-view.js';
import { LiveChart } from '../charts.js';
import type { BackendStatus } from '../protocol.js';
import { type BackendFeatures, errorMessage, formatInt, formatSeconds, readFloat, readInt } from '../util.js';
import type { BackendChoice, GenerateParams, GptReply, GptRequest, GptTrainParams, TrainState } from './protocol.js';
import { GPT_SIZES, type GptSize } from './text.js';

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
  source: $<HTMLSelectElement>('text-source'),
  text: $<HTMLTextAreaElement>('text'),
  textInfo: $('text-info'),
  form: $<HTMLFormElement>('train-form'),
  size: $<HTMLSelectElement>('size'),
  steps: $<HTMLInputElement>('steps'),
  lr: $<HTMLInputElement>('lr'),
  sampleEvery: $<HTMLInputElement>('sample-every'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  stop: $<HTMLButtonElement>('stop'),
  status: $('status'),
  progress: $<HTMLProgressElement>('progress'),
  step: $('stat-step'),
  speed: $('stat-speed'),
  loss: $('stat-loss'),
  val: $('stat-val'),
  time: $('stat-time'),
  params: $('stat-params'),
  modelInfo: $('model-info'),
  entropy: $('entropy'),
  sampleLatest: $('sample-latest'),
  sampleList: $<HTMLOListElement>('sample-list'),
  genForm: $<HTMLFormElement>('gen-form'),
  prompt: $<HTMLTextAreaElement>('prompt'),
  temperature: $<HTMLInputElement>('temperature'),
  topK: $<HTMLInputElement>('topk'),
  maxTokens: $<HTMLInputElement>('max-tokens'),
  seed: $<HTMLInputElement>('seed'),
  generate: $<HTMLButtonElement>('generate'),
  genError: $('gen-error'),
  genErrorText: $('gen-error-text'),
  generated: $('generated'),
};

/** What the end-to-end tests (and the curious, from the console) can read. */
const demo = {
  page: 'gpt',
  state: 'loading' as TrainState,
  backend: '',
  backends: [] as BackendStatus[],
  crossOriginIsolated: window.crossOriginIsolated,
  workerCrossOriginIsolated: null as boolean | null,
  features: null as BackendFeatures | null,
  featureText: '',
  /** Characters of the built-in text once it loaded (0 before). */
  corpusLength: 0,
  hasModel: false,
  params: 0,
  vocabSize: 0,
  unigramEntropy: NaN,
  steps: [] as number[],
  losses: [] as number[],
  /** The training step of each progress message's arrival time, for "no step while paused". */
  lastStep: 0,
  valLosses: [] as { step: number; valLoss: number }[],
  samples: [] as { step: number; prompt: string; text: string }[],
  generated: [] as { id: number; prompt: string; text: string; seconds: number }[],
  genId: 0,
  errors: [] as string[],
  cspViolations: [] as string[],
  done: 0,
  stopped: 0,
};
(window as unknown as { axonDemo: typeof demo }).axonDemo = demo;
document.addEventListener('securitypolicyviolation', (e) => {
  demo.cspViolations.push(`page: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}${e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : ''}`);
});

// ------------------------------------------------------------------ worker
const worker = new Worker(new URL('./gpt-worker.ts', import.meta.url), { type: 'module' });
const send = (m: GptRequest): void => worker.postMessage(m);
worker.onmessage = (ev: MessageEvent<GptReply>) => onReply(ev.data);
worker.onerror = (ev) => showError(`The training worker failed: ${ev.message || 'unknown error'}`);

const lossChart = new LiveChart($('loss-chart'), 'loss', { testLabel: 'validation' });

// ------------------------------------------------------------------ errors and status
const OPS: Record<string, string> = {
  init: 'Could not start',
  setBackend: 'Could not switch the backend',
  train: 'Training failed',
  generate: 'Could not generate',
};

function showError(message: string): void {
  ui.errorText.textContent = message;
  ui.error.hidden = false;
  demo.errors.push(message);
}

const hideError = (): void => void (ui.error.hidden = true);

/** A generation error: shown next to the Generate button, where the user is looking. */
function showGenError(message: string): void {
  ui.genErrorText.textContent = message;
  ui.genError.hidden = false;
  demo.errors.push(message);
  ui.genError.scrollIntoView({ block: 'nearest' });
}

function updateGenerate(): void {
  ui.generate.disabled = !demo.hasModel || !(demo.state === 'idle' || demo.state === 'paused');
}

function setState(state: TrainState, message: string): void {
  demo.state = state;
  ui.status.dataset['state'] = state;
  ui.status.textContent = message;
  const busy = state !== 'idle';
  ui.start.disabled = busy || demo.corpusLength === 0;
  ui.pause.disabled = !(state === 'training' || state === 'paused');
  ui.pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
  ui.pause.setAttribute('aria-pressed', String(state === 'paused'));
  ui.stop.disabled = !busy || state === 'stopping';
  ui.backend.disabled = busy || demo.backends.filter((b) => b.available).length < 2;
  for (const el of [ui.size, ui.steps, ui.lr, ui.sampleEvery, ui.source, ui.text]) el.disabled = busy;
  updateGenerate();
}

function showBackends(list: BackendStatus[], active: string, features: BackendFeatures | undefined, workerIsolated: boolean): void {
  demo.backends = list;
  demo.backend = active;
  demo.features = features ?? null;
  demo.workerCrossOriginIsolated = workerIsolated;
  demo.featureText = renderBackends(ui, list, active, features, demo.state !== 'idle');
}

/** A sample: the prompt in bold, then what the model wrote. */
function sampleNodes(prompt: string, text: string): Node[] {
  const b = document.createElement('span');
  b.className = 'prompt';
  b.textContent = prompt;
  return [b, document.createTextNode(text)];
}

// ------------------------------------------------------------------ replies
function onReply(m: GptReply): void {
  switch (m.type) {
    case 'backends':
      showBackends(m.list, m.active, m.features, m.crossOriginIsolated);
      return;
    case 'status':
      setState(m.state, m.message);
      return;
    case 'model':
      demo.hasModel = true;
      demo.params = m.params;
      demo.vocabSize = m.vocabSize;
      demo.unigramEntropy = m.unigramEntropy;
      ui.params.textContent = formatInt(m.params);
      ui.entropy.textContent = `${m.unigramEntropy.toFixed(2)} nats`;
      ui.modelInfo.textContent = `${m.description} · ${formatInt(m.trainTokens)} training and ${formatInt(m.valTokens)} validation characters.`;
      updateGenerate();
      return;
    case 'progress':
      ui.step.textContent = `${formatInt(m.step)} / ${formatInt(m.steps)}`;
      ui.speed.textContent = formatInt(m.tokensPerSec);
      ui.loss.textContent = m.loss.toFixed(3);
      ui.time.textContent = formatSeconds(m.seconds);
      ui.progress.value = m.step / m.steps;
      demo.steps.push(m.step);
      demo.losses.push(m.loss);
      demo.lastStep = m.step;
      lossChart.push(m.step, m.loss);
      return;
    case 'eval':
      ui.val.textContent = m.valLoss.toFixed(3);
      demo.valLosses.push({ step: m.step, valLoss: m.valLoss });
      lossChart.pushTest(m.step, m.valLoss);
      return;
    case 'sample': {
      demo.samples.push({ step: m.step, prompt: m.prompt, text: m.text });
      if (demo.samples.length > 1) {
        const prev = demo.samples[demo.samples.length - 2]!;
        const li = document.createElement('li');
        const at = document.createElement('span');
        at.className = 'at';
        at.textContent = `step ${formatInt(prev.step)}: `;
        li.append(at, ...sampleNodes(prev.prompt, prev.text));
        ui.sampleList.prepend(li);
      }
      ui.sampleLatest.replaceChildren(...sampleNodes(m.prompt, m.text));
      ui.sampleLatest.title = `After step ${m.step}`;
      return;
    }
    case 'done':
      demo.done++;
      if (m.stopped) demo.stopped++;
      return;
    case 'generated':
      demo.generated.push({ id: m.id, prompt: m.prompt, text: m.text, seconds: m.seconds });
      if (m.id === demo.genId) {
        ui.generated.replaceChildren(...sampleNodes(m.prompt, m.text));
        ui.generate.textContent = 'Generate';
      }
      updateGenerate();
      return;
    case 'cspViolation':
      demo.cspViolations.push(`worker: ${m.directive} blocked ${m.blocked || 'inline'}${m.source ? ` (${m.source})` : ''}`);
      return;
    case 'error':
      if (m.op === 'generate') {
        ui.generate.textContent = 'Generate';
        showGenError(`${OPS[m.op]}: ${m.message}`);
        updateGenerate();
      } else showError(`${OPS[m.op] ?? m.op}: ${m.message}`);
      if (m.op === 'setBackend') ui.backend.value = demo.backend;
      return;
  }
}

// ------------------------------------------------------------------ the text
let corpus: { title: string; license: string; text: string } | null = null;
let ownText = '';

function describeText(): void {
  const text = ui.text.value;
  const chars = new Set(text).size;
  const what = ui.source.value === 'sotu' && corpus && text === corpus.text ? `${corpus.title}. Licence: ${corpus.license}. ` : '';
  ui.textInfo.textContent = `${what}${formatInt(text.length)} characters, ${formatInt(chars)} distinct.`;
}

async function loadCorpus(): Promise<void> {
  try {
    const res = await fetch(new URL(`${import.meta.env.BASE_URL}data/sotu-excerpt.json`, location.href));
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    const json = (await res.json()) as { title?: unknown; license?: unknown; text?: unknown };
    if (typeof json.text !== 'string' || typeof json.title !== 'string' || typeof json.license !== 'string') throw new Error('data/sotu-excerpt.json has no text, title or license');
    corpus = { title: json.title, license: json.license, text: json.text };
    demo.corpusLength = corpus.text.length;
    if (ui.source.value === 'sotu') ui.text.value = corpus.text;
    describeText();
    setState(demo.state, ui.status.textContent ?? '');
  } catch (e) {
    ui.textInfo.textContent = 'The built-in text could not be loaded: paste your own.';
    showError(`Could not load the built-in text: ${errorMessage(e)}`);
  }
}

ui.source.addEventListener('change', () => {
  if (ui.source.value === 'sotu') {
    ownText = ui.text.value === corpus?.text ? ownText : ui.text.value;
    ui.text.value = corpus?.text ?? '';
  } else {
    ui.text.value = ownText;
    ui.text.focus();
  }
  describeText();
});
ui.text.addEventListener('input', () => {
  if (ui.source.value === 'sotu' && ui.text.value !== corpus?.text) ui.source.value = 'own';
  describeText();
});

// ------------------------------------------------------------------ training controls
ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  hideError();
  const size = (ui.size.value in GPT_SIZES ? ui.size.value : 'tiny') as GptSize;
  const params: GptTrainParams = {
    ...GPT_SIZES[size],
    steps: readInt(ui.steps.value, 1, 100_000, 600),
    learningRate: readFloat(ui.lr.value, 1e-5, 1, 0.003),
    sampleEvery: readInt(ui.sampleEvery.value, 0, 100_000, 50),
    sampleLength: 120,
    seed: 0,
  };
  ui.steps.value = String(params.steps);
  ui.lr.value = String(params.learningRate);
  ui.sampleEvery.value = String(params.sampleEvery);
  demo.steps = [];
  demo.losses = [];
  demo.valLosses = [];
  demo.samples = [];
  lossChart.clear();
  ui.sampleList.replaceChildren();
  ui.sampleLatest.textContent = 'No sample yet.';
  for (const el of [ui.step, ui.speed, ui.loss, ui.val, ui.time]) el.textContent = '–';
  ui.progress.value = 0;
  setState('training', 'Starting…');
  send({ type: 'train', text: ui.text.value, params });
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

// ------------------------------------------------------------------ generation
ui.genForm.addEventListener('submit', (e) => {
  e.preventDefault();
  ui.genError.hidden = true;
  if (ui.generate.disabled) return;
  const params: GenerateParams = {
    maxTokens: readInt(ui.maxTokens.value, 1, 1000, 200),
    temperature: readFloat(ui.temperature.value, 0, 2, 0.8),
    topK: readInt(ui.topK.value, 0, 1000, 20),
    seed: readInt(ui.seed.value, 0, 2 ** 31 - 1, 1),
  };
  ui.maxTokens.value = String(params.maxTokens);
  ui.temperature.value = String(params.temperature);
  ui.topK.value = String(params.topK);
  ui.seed.value = String(params.seed);
  demo.genId++;
  ui.generate.disabled = true;
  ui.generate.textContent = 'Generating…';
  send({ type: 'generate', id: demo.genId, prompt: ui.prompt.value, params });
});

// ------------------------------------------------------------------ start
ui.isolationNote.hidden = window.crossOriginIsolated;
const wanted = new URLSearchParams(location.search).get('backend');
const choice: BackendChoice = wanted === 'wasm' || wanted === 'webgpu' ? wanted : 'auto';
send({ type: 'init', backend: choice });
void loadCorpus();
