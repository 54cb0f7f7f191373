/**
 * What `axon info <file.onnx>` shows, read from the file's protobuf wire format directly (no
 * backend, no tensor allocated): producer, opsets, graph inputs and outputs with their element
 * types and shapes, node counts by operator, and the initializers' element types and sizes.
 * Only the fields needed are decoded; every length is checked against the bytes that remain, so a
 * truncated or hostile file is an AxonError, never a large allocation or a read past the end.
 */
import { AxonError } from '@axon/core';
import { DataType } from '@axon/onnx';

/** One graph input or output: its name, element type and shape (a string for a symbolic dimension, null when undeclared). */
export interface OnnxValueSummary {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | string)[] | null;
}

/** The summary of an ONNX file that {@link summarizeOnnx} returns. */
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
  readonly initializers: number;
  /** Elements of all initializers. */
  readonly parameters: number;
  /** Initializers by element type (`FLOAT`, `INT64`, …): count and elements. */
  readonly initializerDtypes: Readonly<Record<string, { count: number; elements: number }>>;
}

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  ...Object.entries(DataType).map(([k, v]): [number, string] => [v, k]),
  [14, 'COMPLEX64'],
  [15, 'COMPLEX128'],
  [17, 'FLOAT8E4M3FN'],
  [18, 'FLOAT8E4M3FNUZ'],
  [19, 'FLOAT8E5M2'],
  [20, 'FLOAT8E5M2FNUZ'],
]);

const typeName = (code: number): string => TYPE_NAMES.get(code) ?? `type ${code}`;

/** A bounded reader over one protobuf message's bytes. */
class Reader {
  private pos: number;
  constructor(
    private readonly op: string,
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string): never {
    throw new AxonError(this.op, `not a valid ONNX file: ${what} at byte ${this.pos}`);
  }

  /** A varint as a number (exact up to 2^53; larger values are returned rounded, which only sizes use). */
  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('a truncated varint');
      const b = this.bytes[this.pos++]!;
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return v;
      scale *= 128;
    }
    return this.fail('a varint longer than 10 bytes');
  }

  /** A tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) this.fail('field number 0');
    return [field, t % 8];
  }

  /** A length-delimited field's [start, end). */
  span(): [number, number] {
    const n = this.varint();
    if (n > this.end - this.pos) this.fail(`a field of ${n} bytes with ${this.end - this.pos} left`);
    const s = this.pos;
    this.pos += n;
    return [s, s + n];
  }

  string(): string {
    const [s, e] = this.span();
    return new TextDecoder().decode(this.bytes.subarray(s, e));
  }

  sub([s, e]: [number, number]): Reader {
    return new Reader(this.op, this.bytes, s, e);
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.span();
    else if (wire === 5) this.advance(4);
    else this.fail(`wire type ${wire}`);
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) this.fail('a truncated fixed-size field');
    this.pos += n;
  }

  /** A repeated int64 field's values (packed or one at a time) appended to `out`. */
  int64s(wire: number, out: number[]): void {
    if (wire === 0) out.push(this.varint());
    else if (wire === 2) {
      const r = this.sub(this.span());
      while (!r.done) out.push(r.varint());
    } else this.fail(`wire type ${wire} for an integer list`);
  }
}

function valueInfo(r: Reader): OnnxValueSummary {
  let name = '';
  let dtype = 'undeclared';
  let shape: (number | string)[] | null = null;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) name = r.string();
    else if (f === 2 && w === 2) {
      // TypeProto: tensor_type = 1
      const t = r.sub(r.span());
      while (!t.done) {
        const [tf, tw] = t.tag();
        if (tf === 1 && tw === 2) {
          const tt = t.sub(t.span());
          while (!tt.done) {
            const [ttf, ttw] = tt.tag();
            if (ttf === 1 && ttw === 0) dtype = typeName(tt.varint());
            else if (ttf === 2 && ttw === 2) {
              shape = [];
              const s = tt.sub(tt.span());
              while (!s.done) {
                const [sf, sw] = s.tag();
                if (sf === 1 && sw === 2) {
                  const d = s.sub(s.span());
                  let dim: number | string = '?';
                  while (!d.done) {
                    const [df, dw] = d.tag();
                    if (df === 1 && dw === 0) dim = d.varint();
                    else if (df === 2 && dw === 2) dim = d.string();
                    else d.skip(dw);
                  }
                  shape.push(dim);
                } else s.skip(sw);
              }
            } else tt.skip(ttw);
          }
        } else if (tf !== 1) {
          dtype = tf === 4 ? 'sequence' : tf === 5 ? 'map' : tf === 9 ? 'optional' : tf === 8 ? 'sparse tensor' : `type field ${tf}`;
          t.skip(tw);
        } else t.skip(tw);
      }
    } else r.skip(w);
  }
  return { name, dtype, shape };
}

/**
 * Summarizes an ONNX file's bytes (see the module comment). Throws an AxonError (`op`: the
 * command) naming the byte where the file stops making sense. Internal to the CLI (`axon info`).
 * @internal
 * @example
 * const s = summarizeOnnx('info', readFileSync('packages/onnx/test/fixtures/mlp.onnx'));
 * s.opset // 17
 */
export function summarizeOnnx(op: string, bytes: Uint8Array): OnnxSummary {
  const m = new Reader(op, bytes, 0, bytes.length);
  let irVersion = 0;
  let producer = '';
  let producerVersion = '';
  const opsets: Record<string, number> = {};
  let graph: [number, number] | null = null;
  while (!m.done) {
    const [f, w] = m.tag();
    if (f === 1 && w === 0) irVersion = m.varint();
    else if (f === 2 && w === 2) producer = m.string();
    else if (f === 3 && w === 2) producerVersion = m.string();
    else if (f === 7 && w === 2) graph = m.span();
    else if (f === 8 && w === 2) {
      const o = m.sub(m.span());
      let domain = '';
      let version = 0;
      while (!o.done) {
        const [of, ow] = o.tag();
        if (of === 1 && ow === 2) domain = o.string();
        else if (of === 2 && ow === 0) version = o.varint();
        else o.skip(ow);
      }
      opsets[domain === 'ai.onnx' ? '' : domain] = version;
    } else m.skip(w);
  }
  if (graph === null || irVersion === 0) throw new AxonError(op, `not a valid ONNX file: ${graph === null ? 'no graph' : 'no IR version'} (is it an ONNX model?)`);
  const g = m.sub(graph);
  let graphName = '';
  const inputs: OnnxValueSummary[] = [];
  const outputs: OnnxValueSummary[] = [];
  const ops = new Map<string, number>();
  let nodeCount = 0;
  const initNames = new Set<string>();
  let initializers = 0;
  let parameters = 0;
  const initializerDtypes: Record<string, { count: number; elements: number }> = {};
  while (!g.done) {
    const [f, w] = g.tag();
    if (f === 1 && w === 2) {
      const n = g.sub(g.span());
      let opType = '';
      let domain = '';
      while (!n.done) {
        const [nf, nw] = n.tag();
        if (nf === 4 && nw === 2) opType = n.string();
        else if (nf === 7 && nw === 2) domain = n.string();
        else n.skip(nw);
      }
      const key = domain === '' || domain === 'ai.onnx' ? opType : `${domain}::${opType}`;
      ops.set(key, (ops.get(key) ?? 0) + 1);
      nodeCount++;
    } else if (f === 2 && w === 2) graphName = g.string();
    else if (f === 5 && w === 2) {
      const t = g.sub(g.span());
      const dims: number[] = [];
      let code = 0;
      let name = '';
      while (!t.done) {
        const [tf, tw] = t.tag();
        if (tf === 1) t.int64s(tw, dims);
        else if (tf === 2 && tw === 0) code = t.varint();
        else if (tf === 8 && tw === 2) name = t.string();
        else t.skip(tw);
      }
      const elements = dims.reduce((a, b) => a * b, 1);
      initNames.add(name);
      initializers++;
      parameters += elements;
      const d = (initializerDtypes[typeName(code)] ??= { count: 0, elements: 0 });
      d.count++;
      d.elements += elements;
    } else if (f === 11 && w === 2) inputs.push(valueInfo(g.sub(g.span())));
    else if (f === 12 && w === 2) outputs.push(valueInfo(g.sub(g.span())));
    else g.skip(w);
  }
  return {
    irVersion,
    producer: producerVersion ? `${producer} ${producerVersion}` : producer,
    opset: opsets[''] ?? 0,
    opsets,
    graphName,
    // inputs that are initializers too (older exporters list them) are weights, not inputs
    inputs: inputs.filter((i) => !initNames.has(i.name)),
    outputs,
    ops: Object.fromEntries([...ops].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    nodeCount,
    initializers,
    parameters,
    initializerDtypes,
  };
}
