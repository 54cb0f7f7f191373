/**
 * Live loss and accuracy charts, drawn with uPlot (a small, well-kept canvas charting library).
 * Each chart has the training value per update and the test value after each epoch.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  steps: number[];
  train: number[];
  test: (number | null)[];
}

const HEIGHT = 200;

function color(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** One chart: training values (line) and test values after each epoch (points). */
export class LiveChart {
  readonly data: Series = { steps: [], train: [], test: [] };
  private plot: uPlot;
  private pending = false;
  private readonly fmt: (v: number | null) => string;
  private readonly baseLabel: string;

  constructor(
    private readonly el: HTMLElement,
    label: string,
    opts: { percent?: boolean; testLabel?: string } = {},
  ) {
    const fmt = opts.percent ? (v: number | null) => (v == null ? '–' : `${(v * 100).toFixed(1)}%`) : (v: number | null) => (v == null ? '–' : v.toFixed(3));
    this.fmt = fmt;
    this.baseLabel = el.getAttribute('aria-label') ?? label;
    const axisColor = color('--muted', '#666');
    const grid = { stroke: color('--grid', 'rgba(128,128,128,0.2)'), width: 1 };
    this.plot = new uPlot(
      {
        width: this.width(),
        height: HEIGHT,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false }, y: opts.percent ? { range: [0, 1] } : { auto: true } },
        axes: [
          { stroke: axisColor, grid, label: 'step', labelSize: 18 },
          { stroke: axisColor, grid, size: 48, values: (_u, vals) => vals.map((v) => (opts.percent ? `${Math.round(v * 100)}%` : String(+v.toFixed(2)))) },
        ],
        series: [
          { label: 'step' },
          { label: `train ${label}`, stroke: color('--accent', '#2a5bd7'), width: 2, value: (_u, v) => fmt(v) },
          { label: `${opts.testLabel ?? 'test'} ${label}`, stroke: color('--test', '#d7892a'), width: 2, spanGaps: true, points: { show: true, size: 7 }, value: (_u, v) => fmt(v) },
        ],
      },
      [[], [], []],
      el,
    );
    new ResizeObserver(() => this.plot.setSize({ width: this.width(), height: HEIGHT })).observe(el);
  }

  private width(): number {
    return Math.max(200, Math.floor(this.el.clientWidth || 300));
  }

  /** Adds a training point. */
  push(step: number, train: number): void {
    const d = this.data;
    if (d.steps.length > 0 && d.steps[d.steps.length - 1] === step) d.train[d.train.length - 1] = train;
    else {
      d.steps.push(step);
      d.train.push(train);
      d.test.push(null);
    }
    this.redraw();
  }

  /** Adds a test point at `step` (after an epoch). */
  pushTest(step: number, test: number): void {
    const d = this.data;
    if (d.steps.length === 0 || d.steps[d.steps.length - 1] !== step) {
      d.steps.push(step);
      d.train.push(d.train.length ? d.train[d.train.length - 1]! : test);
      d.test.push(test);
    } else d.test[d.test.length - 1] = test;
    this.redraw();
  }

  clear(): void {
    this.data.steps = [];
    this.data.train = [];
    this.data.test = [];
    this.redraw();
  }

  private redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      const d = this.data;
      this.plot.setData([d.steps, d.train, d.test] as uPlot.AlignedData);
      // a text alternative for screen readers: the latest values
      const n = d.steps.length;
      const lastTest = [...d.test].reverse().find((v) => v != null) ?? null;
      this.el.setAttribute(
        'aria-label',
        n === 0 ? this.baseLabel : `${this.baseLabel}: ${this.fmt(d.train[n - 1] ?? null)} at step ${d.steps[n - 1]}${lastTest != null ? `, test ${this.fmt(lastTest)}` : ''}`,
      );
    });
  }
}
