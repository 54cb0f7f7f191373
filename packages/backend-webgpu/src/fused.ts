/** Host-side checks of a {@link FusedProgram} (its structure; the call's views and buffers are checked by the backend). */
import { AxonError, fmtValue, FUSED_MAX_INSTRUCTIONS, type FusedProgram } from '@axon/core';

const UNARY = new Set([
  'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'square',
  'sin', 'cos', 'tanh', 'erf', 'sigmoid', 'relu', 'floor', 'ceil', 'round', 'not',
]);
const BINARY = new Set(['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'xor']);
const DTYPES = new Set(['float32', 'bool']);

function isIndex(v: unknown, below: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < below;
}

/**
 * Throws an AxonError naming `op` (default `fused`) unless `program` is well formed: known ops, SSA
 * arguments that name earlier values, input and constant slots in range, output values in range,
 * dtypes float32 or bool, at most {@link FUSED_MAX_INSTRUCTIONS} instructions and `maxBuffers`
 * buffers bound by the kernel. `buffers` counts them from the program's inputs and outputs (default:
 * one per input and output; `matmulFused` binds `a` and `b` instead of its input 0) and words the
 * count for the message.
 */
export function checkFusedProgram(
  program: FusedProgram,
  maxBuffers: number,
  maxBuffersWhy: string,
  op = 'fused',
  buffers: (inputs: number, outputs: number) => { count: number; what: string } = (i, o) => ({ count: i + o, what: `${i} inputs + ${o} outputs` }),
): void {
  const bad = (what: string): never => {
    throw new AxonError(op, `program ${fmtValue(program?.key)}: ${what}`);
  };
  if (typeof program !== 'object' || program === null) bad(`expected a FusedProgram, got ${fmtValue(program)}`);
  if (typeof program.key !== 'string') bad(`key must be a string, got ${fmtValue(program.key)}`);
  if (!Array.isArray(program.inputs) || !Array.isArray(program.code) || !Array.isArray(program.outputs)) bad('inputs, code and outputs must be arrays');
  if (!Number.isInteger(program.consts) || program.consts < 0) bad(`consts must be a non-negative integer, got ${fmtValue(program.consts)}`);
  program.inputs.forEach((d, k) => {
    if (!DTYPES.has(d)) bad(`input ${k} has dtype ${fmtValue(d)}, expected 'float32' or 'bool'`);
  });
  const n = program.code.length;
  if (n > FUSED_MAX_INSTRUCTIONS) bad(`${n} instructions, at most ${FUSED_MAX_INSTRUCTIONS} allowed`);
  const nb = buffers(program.inputs.length, program.outputs.length);
  if (nb.count > maxBuffers) bad(`${nb.what} = ${nb.count} buffers, at most ${maxBuffers} allowed (${maxBuffersWhy})`);
  program.code.forEach((ins, i) => {
    const op = (ins as { op?: unknown } | null)?.op;
    if (op === 'input') {
      const k = (ins as { input?: unknown }).input;
      if (!isIndex(k, program.inputs.length)) bad(`instruction ${i} reads input ${fmtValue(k)}, expected an index below ${program.inputs.length}`);
      return;
    }
    if (op === 'const') {
      const slot = (ins as { slot?: unknown }).slot;
      if (!isIndex(slot, program.consts)) bad(`instruction ${i} reads constant ${fmtValue(slot)}, expected a slot below ${program.consts}`);
      return;
    }
    const arity = typeof op === 'string' ? (UNARY.has(op) ? 1 : BINARY.has(op) ? 2 : op === 'where' ? 3 : 0) : 0;
    if (arity === 0) bad(`instruction ${i} has unknown op ${fmtValue(op)}`);
    const args = (ins as { args?: unknown }).args;
    if (!Array.isArray(args) || args.length !== arity) bad(`instruction ${i} (${String(op)}) needs ${arity} argument(s), got ${fmtValue(args)}`);
    for (const a of args as unknown[]) {
      if (!isIndex(a, i)) bad(`instruction ${i} (${String(op)}) uses value ${fmtValue(a)}, expected an earlier value (below ${i})`);
    }
  });
  program.outputs.forEach((o, j) => {
    if (!isIndex(o?.value, n)) bad(`output ${j} writes value ${fmtValue(o?.value)}, expected a value below ${n}`);
    if (!DTYPES.has(o.dtype)) bad(`output ${j} has dtype ${fmtValue(o.dtype)}, expected 'float32' or 'bool'`);
  });
}

/** A string that identifies a program's structure (what its key promises). */
export function fusedSignature(program: FusedProgram): string {
  const code = program.code.map((ins) => (ins.op === 'input' ? `i${ins.input}` : ins.op === 'const' ? `c${ins.slot}` : `${ins.op}(${ins.args.join(',')})`));
  return `${program.inputs.join(',')}|${program.consts}|${code.join(';')}|${program.outputs.map((o) => `${o.value}:${o.dtype}`).join(',')}`;
}
