/** Builds small ONNX models for the import tests (with proto.ts's encodeModel) and runs them in onnxruntime-node. */
import ort from 'onnxruntime-node';
import { AttributeType, DataType, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto, encodeModel } from '../src/proto.js';

export type Attr = AttributeProto;
export const I = (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i });
export const F = (name: string, f: number): Attr => ({ name, type: AttributeType.FLOAT, f });
export const Is = (name: string, ints: number[]): Attr => ({ name, type: AttributeType.INTS, ints });
export const Fs = (name: string, floats: number[]): Attr => ({ name, type: AttributeType.FLOATS, floats });
export const S = (name: string, s: string): Attr => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(s) });
export const Ss = (name: string, ss: string[]): Attr => ({ name, type: AttributeType.STRINGS, strings: ss.map((s) => new TextEncoder().encode(s)) });
export const T = (name: string, t: TensorProto): Attr => ({ name, type: AttributeType.TENSOR, t });

export function node(opType: string, input: string[], output: string[], attribute: Attr[] = [], name = `${opType}_${output[0]}`): NodeProto {
  return { opType, input, output, attribute, name };
}
export function f32(name: string, dims: number[], data: ArrayLike<number>): TensorProto {
  return { name, dims, dataType: DataType.FLOAT, floatData: Array.from(data) };
}
export function i64(name: string, dims: number[], data: number[]): TensorProto {
  return { name, dims, dataType: DataType.INT64, int64Data: data };
}
export function vi(name: string, elemType: number, dims: (number | string)[] | null): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}) } },
  };
}

export interface GraphSpec {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: string[];
  inits?: TensorProto[];
  opset?: number;
}
export function build(g: GraphSpec): Uint8Array {
  return encodeModel({
    irVersion: 8,
    producerName: 'axon-test',
    opsetImport: [{ domain: '', version: g.opset ?? 17 }],
    graph: { name: 'g', node: g.nodes, input: g.inputs, output: g.outputs.map((o) => ({ name: o })), initializer: g.inits ?? [] },
  });
}

export interface Feed {
  shape: number[];
  data: number[];
  dtype?: 'float32' | 'int64' | 'bool';
}
/** Runs `bytes` in onnxruntime-node: every output as [dims, data]. */
export async function ortRun(bytes: Uint8Array, feeds: Record<string, Feed>): Promise<{ dims: number[]; data: number[] }[]> {
  const session = await ort.InferenceSession.create(bytes);
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) {
    f[k] =
      v.dtype === 'int64'
        ? new ort.Tensor('int64', BigInt64Array.from(v.data.map((x) => BigInt(x))), v.shape)
        : v.dtype === 'bool'
          ? new ort.Tensor('bool', Uint8Array.from(v.data), v.shape)
          : new ort.Tensor('float32', Float32Array.from(v.data), v.shape);
  }
  const r = await session.run(f);
  return session.outputNames.map((n) => {
    const t = r[n]!;
    const data = t.type === 'int64' ? Array.from(t.data as BigInt64Array, (x) => Number(x)) : Array.from(t.data as ArrayLike<number>, Number);
    return { dims: Array.from(t.dims), data };
  });
}
