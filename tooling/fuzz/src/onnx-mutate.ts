/**
 * Structure-aware mutations of ONNX files, at the protobuf level: the fuzzer decodes a model with
 * its own copy of onnx.proto's field numbers (protobufjs; independent of `@axon/onnx`'s decoder),
 * edits one thing a hostile or broken file could hold — huge or negative dims, raw data shorter or
 * longer than its dims, node cycles, unknown ops, attributes of the wrong type, bad opsets,
 * dangling or duplicated names, external data — and encodes it again.
 */
import protobuf from 'protobufjs';
import type { Rng } from './rng.js';

const f = (type: string, id: number, rule?: 'repeated'): { type: string; id: number; rule?: string } => (rule ? { type, id, rule } : { type, id });

/** onnx.proto's messages (the fields Axon reads, and a few it must refuse). */
const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
        OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
        TensorProto: {
          fields: {
            dims: f('int64', 1, 'repeated'),
            dataType: f('int32', 2),
            floatData: f('float', 4, 'repeated'),
            int32Data: f('int32', 5, 'repeated'),
            stringData: f('bytes', 6, 'repeated'),
            int64Data: f('int64', 7, 'repeated'),
            name: f('string', 8),
            rawData: f('bytes', 9),
            doubleData: f('double', 10, 'repeated'),
            uint64Data: f('uint64', 11, 'repeated'),
            externalData: f('StringStringEntryProto', 13, 'repeated'),
            dataLocation: f('int32', 14),
          },
        },
        AttributeProto: {
          fields: {
            name: f('string', 1),
            f: f('float', 2),
            i: f('int64', 3),
            s: f('bytes', 4),
            t: f('TensorProto', 5),
            g: f('GraphProto', 6),
            floats: f('float', 7, 'repeated'),
            ints: f('int64', 8, 'repeated'),
            strings: f('bytes', 9, 'repeated'),
            tensors: f('TensorProto', 10, 'repeated'),
            type: f('int32', 20),
          },
        },
        NodeProto: {
          fields: {
            input: f('string', 1, 'repeated'),
            output: f('string', 2, 'repeated'),
            name: f('string', 3),
            opType: f('string', 4),
            attribute: f('AttributeProto', 5, 'repeated'),
            domain: f('string', 7),
          },
        },
        TensorShapeProto: {
          fields: { dim: f('Dimension', 1, 'repeated') },
          nested: { Dimension: { fields: { dimValue: f('int64', 1), dimParam: f('string', 2) } } },
        },
        TypeProto: {
          fields: { tensorType: f('Tensor', 1) },
          nested: { Tensor: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } } },
        },
        ValueInfoProto: { fields: { name: f('string', 1), type: f('TypeProto', 2) } },
        GraphProto: {
          fields: {
            node: f('NodeProto', 1, 'repeated'),
            name: f('string', 2),
            initializer: f('TensorProto', 5, 'repeated'),
            input: f('ValueInfoProto', 11, 'repeated'),
            output: f('ValueInfoProto', 12, 'repeated'),
            valueInfo: f('ValueInfoProto', 13, 'repeated'),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f('int64', 1),
            producerName: f('string', 2),
            producerVersion: f('string', 3),
            graph: f('GraphProto', 7),
            opsetImport: f('OperatorSetIdProto', 8, 'repeated'),
          },
        },
      },
    },
  },
};

let modelType: protobuf.Type | undefined;
function modelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the decoded protobuf is edited as plain objects */
type Obj = Record<string, any>;

/** Decodes ONNX bytes to plain objects (int64s as strings, bytes as Uint8Array). */
export function decodeOnnx(bytes: Uint8Array): Obj {
  const t = modelProto();
  return t.toObject(t.decode(bytes), { longs: String, defaults: false, arrays: true }) as Obj;
}

/** Encodes plain objects (as {@link decodeOnnx} gives) to ONNX bytes. */
export function encodeOnnx(m: Obj): Uint8Array {
  const t = modelProto();
  return t.encode(t.fromObject(m)).finish();
}

const HUGE_DIMS = ['2147483648', '1000000000', '-1', '0', '4294967297', '9007199254740993', '-9223372036854775808', '65536'];
const DATA_TYPES = [0, 2, 3, 6, 7, 8, 9, 10, 11, 16, 999, -1];
const OP_NAMES = ['Foo', '', 'toString', '__proto__', 'constructor', 'conv', 'Loop', 'If', 'Scan', 'NonMaxSuppression'];

/**
 * One structure-aware mutation of an ONNX model: returns what it did and the new bytes (or null
 * when the model has nothing to apply it to; the caller then falls back to a byte mutation).
 */
export function mutateOnnx(bytes: Uint8Array, r: Rng): [string, Uint8Array] | null {
  const m = decodeOnnx(bytes);
  const g: Obj = (m.graph ??= {});
  const nodes: Obj[] = (g.node ??= []);
  const inits: Obj[] = (g.initializer ??= []);
  const inputs: Obj[] = (g.input ??= []);
  const outputs: Obj[] = (g.output ??= []);
  const any = <T>(xs: T[]): T | undefined => (xs.length ? r.pick(xs) : undefined);
  const choice = r.int(0, 16);
  let what: string;
  switch (choice) {
    case 0: {
      // an initializer's dims: huge, negative, zero, past 2^53
      const t = any(inits);
      if (!t) return null;
      t.dims = t.dims?.length ? t.dims : ['1'];
      const i = r.int(0, t.dims.length);
      t.dims[i] = r.pick(HUGE_DIMS);
      what = `initializer '${t.name}' dims[${i}] ← ${t.dims[i]}`;
      break;
    }
    case 1: {
      // raw data shorter or longer than the dims say (or moved to float_data with the wrong count)
      const t = any(inits.filter((x) => x.rawData instanceof Uint8Array || x.floatData?.length));
      if (!t) return null;
      const raw: Uint8Array = t.rawData instanceof Uint8Array ? t.rawData : new Uint8Array(new Float32Array(t.floatData as number[]).buffer);
      const how = r.int(0, 4);
      if (how === 0) t.rawData = raw.subarray(0, r.int(0, raw.length));
      else if (how === 1) t.rawData = new Uint8Array([...raw, ...new Uint8Array(r.pick([1, 3, 4, 4096]))]);
      else if (how === 2) {
        delete t.rawData;
        t.floatData = Array.from({ length: r.int(0, 8) }, () => r.next());
      } else {
        t.rawData = raw;
        t.floatData = [1, 2, 3];
      }
      what = `initializer '${t.name}' data ${['truncated', 'extended', 'as float_data of the wrong count', 'in raw_data and float_data'][how]}`;
      break;
    }
    case 2: {
      // an initializer's data type changed (its bytes kept)
      const t = any(inits);
      if (!t) return null;
      t.dataType = r.pick(DATA_TYPES);
      what = `initializer '${t.name}' dataType ← ${t.dataType}`;
      break;
    }
    case 3: {
      // a cycle: a node reads a later node's output (or its own)
      if (nodes.length === 0) return null;
      const i = r.int(0, nodes.length);
      const j = r.int(i, nodes.length);
      const src = nodes[j]!.output?.[0];
      if (src === undefined || !nodes[i]!.input?.length) return null;
      nodes[i]!.input[0] = src;
      what = `node ${i} (${nodes[i]!.opType}) reads node ${j}'s output '${src}' (a cycle)`;
      break;
    }
    case 4: {
      const n = any(nodes);
      if (!n) return null;
      if (r.next() < 0.7) n.opType = r.pick(OP_NAMES);
      else n.domain = r.pick(['com.microsoft', 'ai.onnx.ml', 'toString']);
      what = `node '${n.name}' op ← ${JSON.stringify(n.opType)}${n.domain ? ` in domain ${n.domain}` : ''}`;
      break;
    }
    case 5: {
      // an attribute of the wrong type, or with an extreme value, or an unknown one
      const n = any(nodes.filter((x) => x.attribute?.length));
      if (!n) return null;
      const a: Obj = r.pick(n.attribute as Obj[]);
      const how = r.int(0, 6);
      if (how === 0) {
        a.type = r.pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 99]);
        what = `attribute ${n.opType}.${a.name} type ← ${a.type} (value kept)`;
      } else if (how === 1) {
        for (const k of ['f', 'i', 's', 't', 'g', 'floats', 'ints', 'strings', 'tensors']) delete a[k];
        a.type = 2;
        a.i = r.pick(['1000000000', '-1', '0', '9223372036854775807', '-9223372036854775808']);
        what = `attribute ${n.opType}.${a.name} ← INT ${a.i}`;
      } else if (how === 2) {
        for (const k of ['f', 'i', 's', 't', 'g', 'floats', 'ints', 'strings', 'tensors']) delete a[k];
        a.type = 7;
        a.ints = r.pick([[], ['0'], ['-1', '-1'], ['1000000000', '1000000000'], Array(64).fill('2')]);
        what = `attribute ${n.opType}.${a.name} ← INTS [${(a.ints as string[]).slice(0, 4).join(',')}${a.ints.length > 4 ? ',…' : ''}]`;
      } else if (how === 3) {
        for (const k of ['f', 'i', 's', 't', 'g', 'floats', 'ints', 'strings', 'tensors']) delete a[k];
        a.type = 3;
        a.s = new TextEncoder().encode(r.pick(['', 'SAME_UPPER', 'toString', 'x'.repeat(1000)]));
        what = `attribute ${n.opType}.${a.name} ← STRING`;
      } else if (how === 4) {
        n.attribute.push({ name: r.pick(['bogus', 'toString', '__proto__', a.name]), type: 2, i: '1' });
        what = `node ${n.opType} gains attribute '${n.attribute[n.attribute.length - 1].name}'`;
      } else {
        n.attribute = n.attribute.filter((x: Obj) => x !== a);
        what = `attribute ${n.opType}.${a.name} removed`;
      }
      break;
    }
    case 6: {
      const o = (m.opsetImport ??= []);
      if (r.next() < 0.3) {
        m.opsetImport = [];
        what = 'no opset_import';
      } else {
        const v = r.pick(['1', '12', '19', '9999', '-1', '0', '9223372036854775807']);
        if (o.length === 0) o.push({ domain: '', version: v });
        else o[0].version = v;
        what = `opset ← ${v}`;
      }
      break;
    }
    case 7: {
      // the graph input's declared shape: rank change, huge dims
      const vi = any(inputs.filter((x) => x.type?.tensorType?.shape?.dim?.length));
      if (!vi) return null;
      const dims: Obj[] = vi.type.tensorType.shape.dim;
      if (r.next() < 0.3) {
        dims.push({ dimValue: '1' });
        what = `input '${vi.name}' gains a dimension`;
      } else {
        const i = r.int(0, dims.length);
        dims[i] = { dimValue: r.pick(HUGE_DIMS) };
        what = `input '${vi.name}' dim ${i} ← ${dims[i]!.dimValue}`;
      }
      break;
    }
    case 8: {
      const vi = any(inputs);
      if (!vi) return null;
      vi.type = { tensorType: { elemType: r.pick([0, 8, 9, 10, 11, 999]), shape: vi.type?.tensorType?.shape } };
      what = `input '${vi.name}' elemType ← ${vi.type.tensorType.elemType}`;
      break;
    }
    case 9: {
      // a dangling name: a node input or a graph output that nothing defines
      if (r.next() < 0.5 && nodes.length) {
        const n = r.pick(nodes);
        (n.input ??= []).push('nowhere');
        what = `node '${n.name}' reads an undefined 'nowhere'`;
      } else {
        outputs.push({ name: r.pick(['nowhere', '']), type: outputs[0]?.type });
        what = 'graph output that nothing defines';
      }
      break;
    }
    case 10: {
      // two producers of one name, or an initializer named like an input
      if (nodes.length >= 2 && r.next() < 0.5) {
        const [a, b] = [nodes[0]!, nodes[nodes.length - 1]!];
        if (!a.output?.length || !b.output?.length) return null;
        b.output[0] = a.output[0];
        what = `nodes 0 and ${nodes.length - 1} both write '${a.output[0]}'`;
      } else {
        const t = any(inits);
        const vi = any(inputs);
        if (!t || !vi) return null;
        t.name = vi.name;
        what = `initializer renamed to the input '${vi.name}'`;
      }
      break;
    }
    case 11: {
      // external data (the file's bytes elsewhere)
      const t = any(inits);
      if (!t) return null;
      delete t.rawData;
      t.dataLocation = 1;
      t.externalData = [{ key: 'location', value: r.pick(['../../../../etc/passwd', '/dev/zero', 'weights.bin']) }, { key: 'length', value: '1000000000' }];
      what = `initializer '${t.name}' stored externally`;
      break;
    }
    case 12: {
      // many copies of a node, or a node with a thousand inputs
      const n = any(nodes);
      if (!n) return null;
      if (r.next() < 0.5) {
        n.input = Array(1000).fill(n.input?.[0] ?? 'x');
        what = `node '${n.name}' with 1000 inputs`;
      } else {
        const k = r.pick([2, 1000, 20000]);
        for (let i = 0; i < k; i++) nodes.push({ ...n, name: `${n.name}_${i}`, output: [`copy_${i}`] });
        what = `${k} copies of node '${n.name}'`;
      }
      break;
    }
    case 13: {
      // a Constant whose tensor lies about its size
      const n = { name: 'c', opType: 'Constant', output: ['c_out'], attribute: [{ name: 'value', type: 4, t: { dims: [r.pick(HUGE_DIMS)], dataType: 1, rawData: new Uint8Array(8) } }] };
      nodes.unshift(n);
      what = `Constant of dims [${n.attribute[0]!.t.dims[0]}] with 8 bytes`;
      break;
    }
    case 14: {
      // a node's output removed, or all graph inputs removed
      if (r.next() < 0.5) {
        const n = any(nodes);
        if (!n) return null;
        n.output = [];
        what = `node '${n.name}' has no outputs`;
      } else {
        g.input = [];
        what = 'no graph inputs';
      }
      break;
    }
    default: {
      // a string tensor or a 64-bit tensor with values past int32
      const t = any(inits);
      if (!t) return null;
      delete t.rawData;
      delete t.floatData;
      if (r.next() < 0.5) {
        t.dataType = 7;
        const n = (t.dims ?? []).reduce((a: number, b: string) => a * Number(b), 1);
        t.int64Data = Array.from({ length: Math.min(n, 4096) }, () => r.pick(['9223372036854775807', '-1', '2147483648', '0']));
        what = `initializer '${t.name}' as INT64 past int32`;
      } else {
        t.dataType = 8;
        t.stringData = [new TextEncoder().encode('abc')];
        what = `initializer '${t.name}' as STRING`;
      }
    }
  }
  return [what, encodeOnnx(m)];
}
/* eslint-enable @typescript-eslint/no-explicit-any */
