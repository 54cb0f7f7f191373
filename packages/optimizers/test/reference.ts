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

export interface RefAdamax { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number; maximize?: boolean }
export function refAdamax(p: Vec, grad: Vec, s: RefState, o: RefAdamax): Vec {
  const { lr, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, maximize = false } = o;
  const [b1, b2] = betas;
  s.step++;
  let g = maximize ? map(grad, (x) => -x) : grad;
  if (weightDecay) g = map(g, (x, i) => x + weightDecay * p[i]!);
  const m = map((s['m'] as Vec | undefined) ?? g.map(() => 0), (x, i) => b1 * x + (1 - b1) * g[i]!);
  const u = map((s['u'] as Vec | undefined) ?? g.map(() => 0), (x, i) => Math.max(b2 * x, Math.abs(g[i]!) + eps));
  s['m'] = m;
  s['u'] = u;
  const clr = lr / (1 - b1 ** s.step);
  return map(p, (x, i) => x - (clr * m[i]!) / u[i]!);
}

export interface RefNAdam { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number; momentumDecay?: number }
/** `o.betas` may change between calls (a schedule cycling beta1): mu's product is kept in the state. */
export function refNAdam(p: Vec, grad: Vec, s: RefState, o: RefNAdam): Vec {
  const { lr, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, momentumDecay = 4e-3 } = o;
  const [b1, b2] = betas;
  s.step++;
  const t = s.step;
  const g = weightDecay ? map(grad, (x, i) => x + weightDecay * p[i]!) : grad;
  const mu = b1 * (1 - 0.5 * 0.96 ** (t * momentumDecay));
  const muNext = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentumDecay));
  const prod = ((s['prod'] as number | undefined) ?? 1) * mu;
  s['prod'] = prod;
  const prodNext = prod * mu * muNext; // PyTorch 1.13's formula (μₜ twice; PyTorch 2: prod·muNext)
  const m = map((s['m'] as Vec | undefined) ?? g.map(() => 0), (x, i) => b1 * x + (1 - b1) * g[i]!);
  const v = map((s['v'] as Vec | undefined) ?? g.map(() => 0), (x, i) => b2 * x + (1 - b2) * g[i]! * g[i]!);
  s['m'] = m;
  s['v'] = v;
  const bc2 = 1 - b2 ** t;
  return map(p, (x, i) => {
    const d = Math.sqrt(v[i]! / bc2) + eps;
    return x - (lr * (1 - mu) * g[i]!) / (d * (1 - prod)) - (lr * muNext * m[i]!) / (d * (1 - prodNext));
  });
}

export interface RefRAdam { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number }
export function refRAdam(p: Vec, grad: Vec, s: RefState, o: RefRAdam): Vec {
  const { lr, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0 } = o;
  const [b1, b2] = betas;
  s.step++;
  const t = s.step;
  const g = weightDecay ? map(grad, (x, i) => x + weightDecay * p[i]!) : grad;
  const m = map((s['m'] as Vec | undefined) ?? g.map(() => 0), (x, i) => b1 * x + (1 - b1) * g[i]!);
  const v = map((s['v'] as Vec | undefined) ?? g.map(() => 0), (x, i) => b2 * x + (1 - b2) * g[i]! * g[i]!);
  s['m'] = m;
  s['v'] = v;
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  const rhoInf = 2 / (1 - b2) - 1;
  const rhoT = rhoInf - (2 * t * b2 ** t) / bc2;
  if (rhoT <= 5) return map(p, (x, i) => x - (lr * m[i]!) / bc1);
  const r = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
  return map(p, (x, i) => x - (lr * r * (m[i]! / bc1) * Math.sqrt(bc2)) / (Math.sqrt(v[i]!) + eps));
}

export interface RefAdadelta { lr?: number; rho?: number; eps?: number; weightDecay?: number; maximize?: boolean }
export function refAdadelta(p: Vec, grad: Vec, s: RefState, o: RefAdadelta): Vec {
  const { lr = 1, rho = 0.9, eps = 1e-6, weightDecay = 0, maximize = false } = o;
  s.step++;
  let g = maximize ? map(grad, (x) => -x) : grad;
  if (weightDecay) g = map(g, (x, i) => x + weightDecay * p[i]!);
  const sq = map((s['sq'] as Vec | undefined) ?? g.map(() => 0), (x, i) => rho * x + (1 - rho) * g[i]! * g[i]!);
  const acc0 = (s['acc'] as Vec | undefined) ?? g.map(() => 0);
  const delta = map(g, (x, i) => (Math.sqrt(acc0[i]! + eps) / Math.sqrt(sq[i]! + eps)) * x);
  s['sq'] = sq;
  s['acc'] = map(acc0, (x, i) => rho * x + (1 - rho) * delta[i]! * delta[i]!);
  return map(p, (x, i) => x - lr * delta[i]!);
}

/** L2 norm of several vectors together. */
export function norm2(vs: Vec[]): number {
  return Math.sqrt(vs.reduce((a, v) => a + v.reduce((b, x) => b + x * x, 0), 0));
}
