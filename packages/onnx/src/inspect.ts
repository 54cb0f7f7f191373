/**
 * `inspectOnnx`: what an ONNX file holds — producer, opsets, inputs and outputs, operators,
 * initializers — from its protobuf alone (protobufjs gives the weights' bytes as views, so
 * nothing is copied, no backend starts and no tensor is allocated). What `axon info` shows.
 */
import { AxonError } from '@axon/core';
import { DataType, type Int64, type TensorProto, type ValueInfoProto, decodeModel, int64 } from './proto.js';

/**
 * One graph input or output: its name, element type and shape (a string for a symbolic
 * dimension such as `batch`, null when the file declares no shape).
 * @example
 * const v: OnnxValueSummary = { name: 'input', dtype: 'FLOAT', shape: ['batch', 784] };
 * v.shape![0] // 'batch'
 */
export interface OnnxValueSummary {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | string)[] | null;
}

/**
 * What {@link inspectOnnx} returns.
 * @example
 * const s: OnnxSummary = inspectOnnx(await toOnnx(new Linear(3, 2), randn([1, 3])));
 * s.parameters // 8
 */
export interface OnnxSummary {
  readonly irVersion: number;
  readonly producer: string;
  /** The default-domain opset (0 when the file imports none). */
  readonly opset: number;
  /** Every opset import as `domain: version` (`''` is the default domain). */
  readonly opsets: Readonly<Record<string, number>>;
  readonly graphName: string;
  readonly inputs: readonly OnnxValueSummary[];
  readonly outputs: readonly OnnxValueSummary[];
  /** Top-level nodes by operator (`domain::Op` outside the default domain), most frequent first. */
  readonly ops: Readonly<Record<string, number>>;
  readonly nodeCount: number;
  /** Initializers (the weights), and their elements in all. */
  readonly initializers: number;
  readonly parameters: number;
  /** Initializers by element type (`FLOAT`, `INT64`, …): count and elements. */
  readonly initializerDtypes: Readonly<Record<string, { count: number; elements: number }>>;
}

const OP = 'inspectOnnx';

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  ...Object.entries(DataType).map(([k, v]): [number, string] => [v, k]),
  [14, 'COMPLEX64'],
  [15, 'COMPLEX128'],
  [17, 'FLOAT8E4M3FN'],
  [18, 'FLOAT8E4M3FNUZ'],
  [19, 'FLOAT8E5M2'],
  [20, 'FLOAT8E5M2FNUZ'],
]);

const typeName = (code: number | undefined): string => TYPE_NAMES.get(code ?? 0) ?? `type ${code}`;

function value(v: ValueInfoProto): OnnxValueSummary {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim;
  return {
    name: v.name ?? '',
    dtype: tt ? typeName(tt.elemType) : 'not a tensor',
    shape: dims === undefined || tt?.shape === undefined ? null : dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? int64(OP, `dimension of '${v.name}'`, d.dimValue) : '?')),
  };
}

/** Elements of an initializer, checked to be a safe integer (a hostile file may declare [2^40, 2^40]). */
function elements(t: TensorProto): number {
  let n = 1;
  for (const d of t.dims ?? []) {
    const v = int64(OP, `a dimension of initializer '${t.name ?? ''}'`, d as Int64);
    if (v < 0) throw new AxonError(OP, `initializer '${t.name ?? ''}' has a negative dimension ${v}`);
    n *= v;
    if (!Number.isSafeInteger(n)) throw new AxonError(OP, `initializer '${t.name ?? ''}' declares more than 2^53 elements`);
  }
  return n;
}

/**
 * Summarizes an ONNX file's bytes without building anything: producer, IR version and opsets,
 * the graph's inputs and outputs (element types, shapes, symbolic dims), top-level nodes by
 * operator, and the initializers (count, elements, element types). Bytes that are not an ONNX
 * model are an `AxonError`.
 * @example
 * const bytes = await toOnnx(new Sequential(new Linear(4, 3), new ReLU()), randn([2, 4]), { dynamicBatch: true });
 * const s = inspectOnnx(bytes);
 * s.producer // 'axon 0.1.0'
 * s.opset // 17
 * s.inputs // [{ name: 'input', dtype: 'FLOAT', shape: ['batch', 4] }]
 * s.ops['MatMul'] // 1
 * s.initializers // 2
 * s.parameters // 15
 */
export function inspectOnnx(bytes: Uint8Array): OnnxSummary {
  if (!(bytes instanceof Uint8Array)) throw new AxonError(OP, `expects the file's bytes (a Uint8Array), got ${typeof bytes}`);
  const m = decodeModel(OP, bytes);
  const g = m.graph;
  if (g === undefined || g === null) throw new AxonError(OP, 'the file holds no graph (not an ONNX model)');
  const opsets: Record<string, number> = {};
  for (const o of m.opsetImport ?? []) opsets[o.domain ?? ''] = int64(OP, 'an opset version', o.version);
  const counts = new Map<string, number>();
  for (const n of g.node ?? []) {
    const k = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType ?? '?'}` : (n.opType ?? '?');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const initializerDtypes: Record<string, { count: number; elements: number }> = {};
  let parameters = 0;
  for (const t of g.initializer ?? []) {
    const n = elements(t);
    parameters += n;
    const k = typeName(t.dataType);
    const e = (initializerDtypes[k] ??= { count: 0, elements: 0 });
    e.count++;
    e.elements += n;
  }
  return {
    irVersion: int64(OP, 'the IR version', m.irVersion),
    producer: [m.producerName, m.producerVersion].filter((s) => s).join(' '),
    opset: opsets[''] ?? opsets['ai.onnx'] ?? 0,
    opsets,
    graphName: g.name ?? '',
    inputs: (g.input ?? []).filter((v) => !(g.initializer ?? []).some((t) => t.name === v.name)).map(value),
    outputs: (g.output ?? []).map(value),
    ops: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    nodeCount: (g.node ?? []).length,
    initializers: (g.initializer ?? []).length,
    parameters,
    initializerDtypes,
  };
}
