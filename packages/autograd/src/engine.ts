/**
 * The tape: core calls `record` after an op whose inputs require grad; `backward` and the
 * functional transforms walk the recorded graph in reverse topological order and apply
 * {@link rules}. Knows no backend.
 */
import {
  AxonError,
  type GradRecorder,
  type OpAttrs,
  type RecordedGroupOp,
  Tensor,
  add,
  assertFinite,
  enableGrad,
  fmtShape,
  inAnomalyPhase,
  isAnomalyDetectionEnabled,
  keep,
  noGrad,
  onesLike,
  setGradRecorder,
  tidy,
} from '@axon/core';
import { type RuleContext, groupRules, rules } from './rules.js';

/** A recorded op: the autograd graph's node, attached to its output as `gradNode`. */
export interface Node {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: OpAttrs;
  /** Where the forward op was called (recorded only while anomaly detection is on). */
  readonly stack?: string;
  /**
   * For an output of a multi-output op (`unbind`, `split`): the op's one group, shared by the
   * nodes of all its outputs, and this output's index in it.
   */
  readonly group?: Group;
  readonly index?: number;
}

/** A multi-output op: its rule runs once, with every output's gradient, after the last of them. */
export interface Group {
  readonly op: RecordedGroupOp;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: OpAttrs;
}

/** Nodes whose graph a `backward()` without `retainGraph` has released. */
const released = new WeakSet<Node>();

function nodeOf(t: Tensor): Node | null {
  return (t.gradNode as Node | null) ?? null;
}

const recorder: GradRecorder = {
  record(op, inputs, output, attrs) {
    if (!rules[op]) throw new AxonError(op, `no gradient rule is defined for op '${op}'`);
    output.requiresGrad = true;
    const node: Node = isAnomalyDetectionEnabled() ? { op, inputs: [...inputs], output, attrs, stack: forwardStack() } : { op, inputs: [...inputs], output, attrs };
    output.gradNode = node;
  },
  recordGroup(op, inputs, outputs, attrs) {
    if (!groupRules[op]) throw new AxonError(op, `no gradient rule is defined for op '${op}'`);
    const group: Group = { op, inputs: [...inputs], outputs: [...outputs], attrs };
    const stack = isAnomalyDetectionEnabled() ? forwardStack() : undefined;
    outputs.forEach((output, index) => {
      output.requiresGrad = true;
      const node: Node = stack !== undefined ? { op, inputs: group.inputs, output, attrs, stack, group, index } : { op, inputs: group.inputs, output, attrs, group, index };
      output.gradNode = node;
    });
  },
  backward(root, grad, opts) {
    backwardImpl(root, grad, opts?.retainGraph === true);
  },
};

/** The caller's frames of a forward op (Axon's own core and autograd frames left out). */
function forwardStack(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1).map((l) => l.trim());
  const own = /[/\\]packages[/\\](?:core|autograd)[/\\](?:src|dist)[/\\]|@axon[/\\](?:core|autograd)[/\\]|node:internal/;
  return lines.filter((l) => l.startsWith('at ') && !own.test(l)).slice(0, 5).join('\n    ');
}

/**
 * Installs the recorder into core (done on import; idempotent).
 * @example
 * install(); // again: nothing changes
 * const w = tensor([1, 2]).requireGrad();
 * w.mul(2).requiresGrad // true
 */
export function install(): void {
  setGradRecorder(recorder);
}
install();

/** Reverse topological order of the nodes reachable from `root`. */
function topo(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS (graphs can be deep: long training loops inside one tape)
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const node = nodeOf(top[0]);
    if (node && top[1] < node.inputs.length) {
      const child = node.inputs[top[1]++]!;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(top[0]);
    }
  }
  return order.reverse();
}

/**
 * Computes d(root)/d(t) for each tensor in `targets` (leaves or intermediate tensors of the
 * graph). The returned gradients are owned by the caller. With `createGraph`, the gradient
 * computation is itself recorded so that it can be differentiated again.
 * @example
 * ```ts
 * const x = tensor([1, 2]).requireGrad();
 * const h = x.mul(3); // an intermediate
 * const y = h.square().sum();
 * const [gx, gh] = gradients(y, [x, h]);
 * gx // [18, 36]
 * gh // [6, 12]
 * x.grad // null
 * ```
 */
export function gradients(root: Tensor, targets: readonly Tensor[], seed?: Tensor, createGraph = false): (Tensor | null)[] {
  root.assertLive('backward');
  if (!root.requiresGrad) {
    throw new AxonError('backward', `the tensor ${fmtShape(root.shape)} does not require grad (no input of its computation requires grad, or it was computed inside noGrad)`);
  }
  if (seed === undefined && root.size !== 1) {
    throw new AxonError('backward', `grad can be implicitly created only for a tensor of one element; got ${fmtShape(root.shape)} (pass a gradient of that shape)`);
  }
  if (seed && (seed.rank !== root.rank || seed.shape.some((d, i) => d !== root.shape[i]))) {
    throw new AxonError('backward', `gradient ${fmtShape(seed.shape)} does not match tensor ${fmtShape(root.shape)}`);
  }
  const run = (): (Tensor | null)[] => {
    const order = topo(root);
    const targetSet = new Set(targets);
    // prune: only nodes from which some target is reachable
    const useful = new Set<Tensor>();
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      if (targetSet.has(t)) useful.add(t);
      const n = nodeOf(t);
      if (n && n.inputs.some((x) => useful.has(x))) useful.add(t);
    }
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, seed ?? onesLike(root));
    // A multi-output op's rule runs once, at the last of its outputs in `order` (every output
    // comes before the op's inputs there), with the gradients its outputs collected until then.
    const lastOutput = new Map<Group, Tensor>();
    for (const t of order) {
      const grp = nodeOf(t)?.group;
      if (grp) lastOutput.set(grp, t);
    }
    const collected = new Map<Group, (Tensor | null)[]>();
    const apply = (n: Node, run: (ctx: RuleContext) => (Tensor | null)[]): void => {
      if (released.has(n)) {
        throw new AxonError('backward', `trying to backward through the graph a second time (op '${n.op}' producing ${fmtShape(n.output.shape)}): the first backward() released it; pass { retainGraph: true } to the first backward() to run it again, or recompute the forward pass`);
      }
      for (const inp of n.inputs) if (inp.isDisposed && inp.requiresGrad) {
        throw new AxonError('backward', `an input of '${n.op}' (tensor #${inp.id} ${fmtShape(inp.shape)}) was disposed before backward; keep intermediates alive (e.g. run forward and backward inside one tidy)`);
      }
      const anomaly = isAnomalyDetectionEnabled();
      const what = `the gradient of '${n.op}'${n.stack ? ` (forward op called ${n.stack})` : ''}`;
      const ctx: RuleContext = { inputs: n.inputs, output: n.output, attrs: n.attrs, needs: n.inputs.map((x) => x.requiresGrad && useful.has(x)) };
      const gi = anomaly ? inAnomalyPhase(what, () => run(ctx)) : run(ctx);
      n.inputs.forEach((inp, k) => {
        const d = gi[k];
        if (!d || !inp.requiresGrad || !useful.has(inp)) return;
        if (d.rank !== inp.rank || d.shape.some((s, i) => s !== inp.shape[i])) {
          throw new AxonError('backward', `rule '${n.op}' produced a gradient ${fmtShape(d.shape)} for an input ${fmtShape(inp.shape)}`);
        }
        if (anomaly) assertFinite(d, `${what} for its input ${k} ${fmtShape(inp.shape)}`);
        const prev = grads.get(inp);
        grads.set(inp, prev ? add(prev, d) : d);
      });
    };
    for (const t of order) {
      const g = grads.get(t);
      const n = nodeOf(t);
      const grp = n?.group;
      if (n && grp) {
        let gs = collected.get(grp);
        if (!gs) collected.set(grp, (gs = grp.outputs.map(() => null)));
        if (g && useful.has(t)) gs[n.index!] = g;
        if (lastOutput.get(grp) !== t) continue;
        collected.delete(grp);
        if (gs.every((x) => x === null)) continue;
        const rule = groupRules[grp.op];
        apply(n, (ctx) => rule(gs, { ...ctx, outputs: grp.outputs }));
        continue;
      }
      if (!g || !n || !useful.has(t)) continue;
      const rule = rules[n.op]!;
      apply(n, (ctx) => rule(g, ctx));
    }
    return targets.map((t) => grads.get(t) ?? null);
  };
  // With createGraph the gradient's intermediates belong to the caller's graph (and scope).
  return createGraph ? enableGrad(run) : tidy(() => noGrad(run));
}

function backwardImpl(root: Tensor, seed: Tensor | undefined, retainGraph: boolean): void {
  root.assertLive('backward');
  if (!root.requiresGrad) {
    throw new AxonError('backward', `the tensor ${fmtShape(root.shape)} does not require grad (no input of its computation requires grad, or it was computed inside noGrad)`);
  }
  const order = topo(root);
  const leaves = order.filter((t) => t.requiresGrad && !nodeOf(t));
  if (leaves.length === 0) return;
  tidy(() => {
    const gs = gradients(root, leaves, seed, false);
    leaves.forEach((leaf, i) => {
      const g = gs[i];
      if (!g) return;
      const gc = g.isContiguous && g.dtype === leaf.dtype ? g : g.astype(leaf.dtype);
      // tensors are immutable: a contiguous gradient becomes .grad without a copy
      const next = leaf.grad ? noGrad(() => add(leaf.grad!, gc)) : noGrad(() => gc.contiguous());
      keep(next);
      if (leaf.grad) leaf.grad.dispose();
      leaf.grad = next;
    });
  });
  if (!retainGraph) for (const t of order) {
    const n = nodeOf(t);
    if (n) released.add(n);
  }
}

export { Tensor };
