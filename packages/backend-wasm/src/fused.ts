/**
 * Compiles a {@link FusedProgram} into the bytecode that the interpreter in `assembly/fused.ts`
 * runs, and validates it.
 *
 * Bytecode (i32 words): `[prologueWords, bodyWords, ...prologue, ...body]`. An instruction is one
 * word `op | dst << 8 | a << 16 | b << 24` (register numbers; for `load` `a` is the input index,
 * for `const` the index of the constant in the call's constant area, for a store `dst` is the
 * output index and `a` the register stored); `where` (cond `a`, then `b`, else the register in the
 * low byte of a second word) takes two words; `out` (`dst` = an output index) makes the next op
 * write straight into that float32 output where the block allows it (the store after it then
 * copies nothing). The prologue runs once per call (constants and the values computed from
 * constants alone: hoisted out of the block loop); the body runs once per block.
 *
 * The compiler merges duplicate instructions (same op on the same values), drops those no output
 * needs, loads an input just before its first use, stores an output as soon as its value exists,
 * and gives registers back after a value's last use, so a register holds at most one live value
 * and a program needs few registers (a 5-op chain: 2–3).
 * @internal
 */
import { AxonError, FUSED_MAX_INSTRUCTIONS, fmtValue } from '@axon/core';
import type { FusedDType, FusedProgram } from '@axon/core';
import type { GeneratedFused } from './codegen.js';
import { FUSED_LAYOUT as L, FUSED_OPCODES } from './generated/kernels.js';

/** A compiled program, cached by key (its bytecode lives in the backend's linear memory). @internal */
export interface CompiledFused {
  readonly key: string;
  /** Input dtypes, as the program declared them. */
  readonly inputs: readonly FusedDType[];
  /** Output dtypes. */
  readonly outputs: readonly FusedDType[];
  /** Number of constants a call passes. */
  readonly consts: number;
  /** For each output, the input it is (the value of an `input` instruction), or −1. */
  readonly outputInputs: readonly number[];
  /** The constant slots the code reads: the call's `consts[constSlots[i]]` goes to area slot i. */
  readonly constSlots: Int32Array;
  /** Header and instructions. */
  readonly code: Int32Array;
  /** Registers (blocks of float32 lanes) the code uses. */
  readonly registers: number;
  /** Byte address of the code in linear memory and the block reserved for it (set by the backend). */
  ptr: number;
  reserved: number;
  /** Its generated kernels by input kinds (src/codegen.ts; null: not generable), made on first use. */
  generated: Map<number, GeneratedFused | null> | null;
}

const DTYPES: readonly FusedDType[] = ['float32', 'bool'];

/** The primitive named in errors (`fused`, or `reduceFused`/`matmulFused` compiling their program). */
let failOp = 'fused';

function fail(message: string): never {
  throw new AxonError(failOp, message);
}

function isIndex(v: unknown, end: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < end;
}

/** Validates a program's structure; returns each instruction's opcode and args. */
function check(p: FusedProgram): { ops: Int32Array; args: number[][]; ref: Int32Array } {
  if (p === null || typeof p !== 'object') fail(`expected a program object, got ${fmtValue(p)}`);
  if (typeof p.key !== 'string') fail(`program.key must be a string, got ${fmtValue(p.key)}`);
  const { inputs, code, outputs, consts } = p;
  if (!Array.isArray(inputs) || inputs.some((d) => !DTYPES.includes(d as FusedDType))) {
    fail(`program.inputs must be an array of 'float32' or 'bool', got ${fmtValue(inputs)}`);
  }
  if (!Array.isArray(outputs) || outputs.length === 0) fail(`program.outputs must be a non-empty array, got ${fmtValue(outputs)}`);
  if (inputs.length > L.maxInputs || outputs.length > L.maxOutputs) {
    fail(`a program has at most ${L.maxInputs} inputs and ${L.maxOutputs} outputs on this backend, got ${inputs.length} inputs and ${outputs.length} outputs`);
  }
  if (!(typeof consts === 'number' && Number.isInteger(consts) && consts >= 0)) fail(`program.consts must be a non-negative integer, got ${fmtValue(consts)}`);
  if (!Array.isArray(code) || code.length === 0 || code.length > FUSED_MAX_INSTRUCTIONS) {
    fail(`program.code must hold 1 to ${FUSED_MAX_INSTRUCTIONS} instructions, got ${Array.isArray(code) ? `${code.length}` : fmtValue(code)}`);
  }
  const n = code.length;
  const ops = new Int32Array(n);
  const ref = new Int32Array(n); // input index or constant slot
  const args: number[][] = [];
  for (let i = 0; i < n; i++) {
    const ins = code[i] as unknown;
    if (ins === null || typeof ins !== 'object') fail(`instruction ${i} must be an object, got ${fmtValue(ins)}`);
    const { op } = ins as { op: unknown };
    let want = 0;
    if (op === 'input') {
      const k = (ins as { input: unknown }).input;
      if (!isIndex(k, inputs.length)) fail(`instruction ${i} reads input ${fmtValue(k)}, expected an input index 0 to ${inputs.length - 1}`);
      ops[i] = L.opLoad;
      ref[i] = k;
    } else if (op === 'const') {
      const s = (ins as { slot: unknown }).slot;
      if (!isIndex(s, consts)) fail(`instruction ${i} reads constant ${fmtValue(s)}, expected a slot 0 to ${consts - 1}`);
      ops[i] = L.opConst;
      ref[i] = s;
    } else if (op === 'where') {
      ops[i] = L.opWhere;
      want = 3;
    } else if (typeof op === 'string' && FUSED_OPCODES.unary[op] !== undefined) {
      ops[i] = FUSED_OPCODES.unary[op];
      want = 1;
    } else if (typeof op === 'string' && FUSED_OPCODES.binary[op] !== undefined) {
      ops[i] = FUSED_OPCODES.binary[op];
      want = 2;
    } else {
      fail(`instruction ${i} has unknown op ${fmtValue(op)}; expected input, const, where or a unary/binary op`);
    }
    const a = want > 0 ? (ins as { args: unknown }).args : [];
    if (!Array.isArray(a) || a.length !== want) fail(`instruction ${i} ('${String(op)}') takes ${want} args, got ${fmtValue(a)}`);
    for (const v of a as unknown[]) {
      if (!isIndex(v, i)) fail(`instruction ${i} ('${String(op)}') reads value ${fmtValue(v)}, expected an earlier value (0 to ${i - 1})`);
    }
    args.push(a as number[]);
  }
  for (let j = 0; j < outputs.length; j++) {
    const o = outputs[j] as unknown;
    const v = o !== null && typeof o === 'object' ? (o as { value: unknown }).value : undefined;
    const d = o !== null && typeof o === 'object' ? (o as { dtype: unknown }).dtype : undefined;
    if (!isIndex(v, n) || !DTYPES.includes(d as FusedDType)) {
      fail(`output ${j} must be { value: 0 to ${n - 1}, dtype: 'float32' or 'bool' }, got ${fmtValue(o)}`);
    }
  }
  return { ops, args, ref };
}

/** One step of the body or prologue before registers are assigned. */
interface Step {
  readonly op: number;
  /** The value defined (-1 for a store). */
  readonly def: number;
  /** Values read. */
  readonly uses: readonly number[];
  /** Input index, constant area index or output index. */
  readonly ref: number;
}

/**
 * Validates and compiles a program (see the module comment for the format); a bad program throws
 * an {@link AxonError} naming `op`.
 */
export function compileFused(p: FusedProgram, op = 'fused'): CompiledFused {
  failOp = op;
  try {
    return compile(p);
  } finally {
    failOp = 'fused';
  }
}

function compile(p: FusedProgram): CompiledFused {
  const { ops, args, ref } = check(p);
  const n = ops.length;
  // 1. merge duplicates: canon[i] is the first instruction computing the same thing
  const canon = new Int32Array(n);
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const a = args[i]!.map((v) => canon[v]!);
    args[i] = a;
    const sig = `${ops[i]}:${ops[i] === L.opLoad || ops[i] === L.opConst ? ref[i] : a.join(',')}`;
    const first = seen.get(sig);
    canon[i] = first ?? i;
    if (first === undefined) seen.set(sig, i);
  }
  const outVals = p.outputs.map((o) => canon[o.value]!);
  // 2. what the outputs need
  const needed = new Uint8Array(n);
  for (const v of outVals) needed[v] = 1;
  for (let i = n - 1; i >= 0; i--) if (needed[i]) for (const a of args[i]!) needed[a] = 1;
  // 3. invariant values: constants and what is computed from them alone
  const invariant = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    invariant[i] = ops[i] === L.opConst || (ops[i] !== L.opLoad && args[i]!.length > 0 && args[i]!.every((a) => invariant[a] === 1)) ? 1 : 0;
  }
  // 4. order the steps
  const constSlots: number[] = [];
  const constIx = new Map<number, number>();
  const prologue: Step[] = [];
  const body: Step[] = [];
  const loaded = new Uint8Array(n);
  const load = (v: number): void => {
    if (loaded[v]) return;
    loaded[v] = 1;
    body.push({ op: L.opLoad, def: v, uses: [], ref: ref[v]! });
  };
  const store = (v: number): void => {
    for (let j = 0; j < outVals.length; j++) {
      if (outVals[j] === v) body.push({ op: p.outputs[j]!.dtype === 'bool' ? L.opStoreU8 : L.opStoreF32, def: -1, uses: [v], ref: j });
    }
  };
  for (let i = 0; i < n; i++) {
    if (!needed[i] || canon[i] !== i || !invariant[i]) continue;
    let r = 0;
    if (ops[i] === L.opConst) {
      r = constIx.get(ref[i]!) ?? constSlots.length;
      if (r === constSlots.length) {
        constIx.set(ref[i]!, r);
        constSlots.push(ref[i]!);
      }
    }
    prologue.push({ op: ops[i]!, def: i, uses: args[i]!, ref: r });
  }
  for (let i = 0; i < n; i++) if (invariant[i] && needed[i] && canon[i] === i) store(i);
  for (let i = 0; i < n; i++) {
    if (!needed[i] || canon[i] !== i || invariant[i]) continue;
    if (ops[i] === L.opLoad) {
      // loaded at its first use, or here when an output is the input itself
      if (outVals.includes(i)) {
        load(i);
        store(i);
      }
      continue;
    }
    for (const a of args[i]!) if (ops[a] === L.opLoad) load(a);
    // a value that goes to a float32 output is computed straight into it
    const j = p.outputs.findIndex((o, q) => outVals[q] === i && o.dtype === 'float32');
    if (j >= 0) body.push({ op: L.opOut, def: -1, uses: [], ref: j });
    body.push({ op: ops[i]!, def: i, uses: args[i]!, ref: 0 });
    store(i);
  }
  // 5. registers: invariant values keep theirs (0, 1, …); the body's are reused after a last use
  const reg = new Int32Array(n).fill(-1);
  let registers = 0;
  for (const s of prologue) reg[s.def] = registers++;
  const pinned = registers;
  const lastUse = new Int32Array(n).fill(-1);
  body.forEach((s, k) => {
    for (const u of s.uses) lastUse[u] = k;
  });
  const free: number[] = [];
  const take = (): number => {
    if (free.length === 0) return registers++;
    let best = 0;
    for (let q = 1; q < free.length; q++) if (free[q]! < free[best]!) best = q;
    return free.splice(best, 1)[0]!;
  };
  const release = (k: number, s: Step): void => {
    for (const u of new Set(s.uses)) if (lastUse[u] === k && reg[u]! >= pinned) free.push(reg[u]!);
  };
  body.forEach((s, k) => {
    if (s.def >= 0) {
      release(k, s); // an op may write over the register of an operand it reads for the last time
      reg[s.def] = take();
      if (lastUse[s.def] < 0) free.push(reg[s.def]!); // defined but never read (cannot happen for needed values)
    } else {
      release(k, s);
    }
  });
  if (registers > 255) fail(`the program needs ${registers} registers, at most 255`);
  // 6. encode
  const words: number[] = [0, 0];
  const emit = (s: Step): void => {
    const r = (v: number): number => reg[v]!;
    if (s.op === L.opLoad || s.op === L.opConst) words.push(s.op | (r(s.def) << 8) | (s.ref << 16));
    else if (s.op === L.opOut) words.push(s.op | (s.ref << 8));
    else if (s.op === L.opStoreF32 || s.op === L.opStoreU8) words.push(s.op | (s.ref << 8) | (r(s.uses[0]!) << 16));
    else if (s.op === L.opWhere) words.push(s.op | (r(s.def) << 8) | (r(s.uses[0]!) << 16) | (r(s.uses[1]!) << 24), r(s.uses[2]!));
    else words.push(s.op | (r(s.def) << 8) | (r(s.uses[0]!) << 16) | (s.uses.length > 1 ? r(s.uses[1]!) << 24 : 0));
  };
  prologue.forEach(emit);
  words[0] = words.length - 2;
  body.forEach(emit);
  words[1] = words.length - 2 - words[0]!;
  return {
    key: p.key,
    inputs: p.inputs.slice(),
    outputs: p.outputs.map((o) => o.dtype),
    consts: p.consts,
    outputInputs: outVals.map((v) => (ops[v] === L.opLoad ? ref[v]! : -1)),
    constSlots: Int32Array.from(constSlots),
    code: Int32Array.from(words),
    registers: Math.max(registers, 1),
    ptr: 0,
    reserved: 0,
    generated: null,
  };
}
