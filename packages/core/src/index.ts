/**
 * `@axon/core`: dtypes, shapes, `Tensor`, the op library, memory scopes, the backend registry
 * and the backend interface.
 * @packageDocumentation
 */
export * from './dtype.js';
export * from './errors.js';
export * from './backend.js';
export * from './registry.js';
export * from './random.js';
export * from './shape.js';
export { readRegularFile, type ReadFileOptions } from './files.js';
export {
  memory,
  resetPeakMemory,
  setLeakTracking,
  leakReport,
  type LeakSite,
  type LeakTrackingOptions,
  tidy,
  failSafe,
  keep,
  noGrad,
  enableGrad,
  isGradEnabled,
  scopeDepth,
  setGradRecorder,
  setTraceHook,
  type TraceHook,
  type TracedOp,
  record,
  recordGroup,
  type MemoryInfo,
  type GradRecorder,
  type OpAttrs,
  type RecordedOp,
  type DifferentiableOp,
  type RecordedGroupOp,
  type TensorContainer,
} from './engine.js';
export { Tensor, isTensor, type BackwardOptions, type NestedArray, type TensorLike } from './tensor.js';
export * from './ops/index.js';
export { setFlags, getFlags, realize, Sym, type EngineFlags } from './lazy.js';
export { compile, type Compiled, type CompiledArg, type CompileOptions } from './compile.js';
export { validationRead } from './checks.js';
import { Tensor as TensorClass } from './tensor.js';
import { TABLE_FUNCTIONS } from './ops/table.js';

// Every op of the op table is also a Tensor method (typed by the interface in tensor.ts).
for (const [name, f] of Object.entries(TABLE_FUNCTIONS)) {
  Object.defineProperty(TensorClass.prototype, name, {
    value(this: TensorClass) {
      return f(this);
    },
    writable: true,
    configurable: true,
  });
}
export { profile, startProfile, formatProfile, type ProfileReport, type KernelStats, type Profiler, type Profiled } from './profile.js';
export { setAnomalyDetection, isAnomalyDetectionEnabled, detectAnomaly, checkAnomalies, inAnomalyPhase, assertFinite } from './anomaly.js';
