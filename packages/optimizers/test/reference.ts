/**
 * Plain float64 reference implementations of PyTorch's update rules (torch.optim, single-tensor
 * path), one parameter (a flat number[]) at a time. Written independently of src/.
 */

type Vec = number[];
const map = (a: Vec, f: (x: number, i: number) => number): Vec => a.map(f);

export interface RefState {
  step: number;
  [k: string]: Vec | number | undefined;
}

export interface RefSGD { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number; maximize?: boolean }
export function refSGD(p: Vec, grad: Vec, s: RefState, o: RefSGD): Vec {
  const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0, maximize = false } = o;
  s.step++;
  let g = maximize ? map(grad, (x) => -x) : grad;
  if (weightDecay) g = map(g, (x, i) => x + weightDecay * p[i]!);
  if (momentum) {
    const buf = s['buf'] as Vec | undefined;
    const nb = buf ? map(buf, (b, i) => momentum * b + (1 - dampening) * g[i]!) : [...g];
    s['buf'] = nb;
    g = nesterov ? map(g, (x, i) => x + momentum * nb[i]!) : nb;
  }
  return map(p, (x, i) => x - lr * g[i]!);
}

export interface RefAdam { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; decoupled?: boolean; maximize?: boolean }
export function refAdam(p: Vec, grad: Vec, s: RefState, o: RefAdam): Vec {
  const { lr, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, amsgrad = false, decoupled = false, maximize = false } = o;
  const [b1, b2] = betas;
  s.step++;
  const t = s.step;
  let g = maximize ? map(grad, (x) => -x) : grad;
  let theta = p;
  if (weightDecay) {
    if (decoupled) theta = map(p, (x) => x * (1 - lr * weightDecay));
    else g = map(g, (x, i) => x + weightDecay * p[i]!);
  }
  const m0 = (s['m'] as Vec | undefined) ?? g.map(() => 0);
  const v0 = (s['v'] as Vec | undefined) ?? g.map(() => 0);
  const m = map(m0, (x, i) => b1 * x + (1 - b1) * g[i]!);
  const v = map(v0, (x, i) => b2 * x + (1 - b2) * g[i]! * g[i]!);
  s['m'] = m;
  s['v'] = v;
  let vh = v;
  if (amsgrad) {
    const mx0 = (s['vmax'] as Vec | undefined) ?? g.map(() => 0);
    vh = map(mx0, (x, i) => Math.max(x, v[i]!));
    s['vmax'] = vh;
  }
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  return map(theta, (x, i) => x - (lr / bc1) * (m[i]! / (Math.sqrt(vh[i]!) / Math.sqrt(bc2) + eps)));
}

export interface RefRMSprop { lr: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number; centered?: boolean; maximize?: boolean }
export function refRMSprop(p: Vec, grad: Vec, s: RefState, o: RefRMSprop): Vec {
  const { lr, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false, maximize = false } = o;
  s.step++;
  let g = maximize ? map(grad, (x) => -x) : grad;
  if (weightDecay) g = map(g, (x, i) => x + weightDecay * p[i]!);
  const sq = map((s['sq'] as Vec | undefined) ?? g.map(() => 0), (x, i) => alpha * x + (1 - alpha) * g[i]! * g[i]!);
  s['sq'] = sq;
  let avg: Vec;
  if (centered) {
    const ga = map((s['ga'] as Vec | undefined) ?? g.map(() => 0), (x, i) => alpha * x + (1 - alpha) * g[i]!);
    s['ga'] = ga;
    avg = map(sq, (x, i) => Math.sqrt(x - ga[i]! * ga[i]!) + eps);
  } else {
    avg = map(sq, (x) => Math.sqrt(x) + eps);
  }
  if (momentum > 0) {
    const buf = map((s['buf'] as Vec | undefined) ?? g.map(() => 0), (x, i) => momentum * x + g[i]! / avg[i]!);
    s['buf'] = buf;
    return map(p, (x, i) => x - lr * buf[i]!);
  }
  return map(p, (x, i) => x - (lr * g[i]!) / avg[i]!);
}

export interface RefAdagrad { lr: number; lrDecay?: number; weightDecay?: number; initialAccumulatorValue?: number; eps?: number; maximize?: boolean }
export function refAdagrad(p: Vec, grad: Vec, s: RefState, o: RefAdagrad): Vec {
  const { lr, lrDecay = 0, weightDecay = 0, initialAccumulatorValue = 0, eps = 1e-10, maximize = false } = o;
  s.step++;
  let g = maximize ? map(grad, (x) => -x) : grad;
  if (weightDecay) g = map(g, (x, i) => x + weightDecay * p[i]!);
  const sum = map((s['sum'] as Vec | undefined) ?? g.map(() => initialAccumulatorValue), (x, i) => x + g[i]! * g[i]!);
  s['sum'] = sum;
  const clr = lr / (1 + (s.step - 1) * lrDecay);
  return map(p, (x, i) => x - (clr * g[i]!) / (Math.sqrt(sum[i]!) + eps));
}

/** L2 norm of several vectors together. */
export function norm2(vs: Vec[]): number {
  return Math.sqrt(vs.reduce((a, v) => a + v.reduce((b, x) => b + x * x, 0), 0));
}
