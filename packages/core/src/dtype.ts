/** Element types. `float16` is reserved for a later backend feature and not yet accepted. */
export type DType = 'float32' | 'int32' | 'bool';

/** The typed array that stores each dtype on the host. */
export type TypedArray = Float32Array | Int32Array | Uint8Array;

/** Maps a dtype to its host typed array type. */
export interface DTypeArrayMap {
  float32: Float32Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/** Every dtype Axon accepts. */
export const DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

/**
 * Bytes per element of a dtype.
 * @example bytesPerElement('float32') // 4
 */
export function bytesPerElement(dtype: DType): number {
  return dtype === 'bool' ? 1 : 4;
}

/**
 * Allocates a zeroed host array for `size` elements of `dtype`.
 * @example
 * makeTypedArray('int32', 3) // [0, 0, 0]
 * makeTypedArray('bool', 2) instanceof Uint8Array // true
 */
export function makeTypedArray<D extends DType>(dtype: D, size: number): DTypeArrayMap[D] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size) as DTypeArrayMap[D];
    case 'int32':
      return new Int32Array(size) as DTypeArrayMap[D];
    default:
      return new Uint8Array(size) as DTypeArrayMap[D];
  }
}

/**
 * Whether a value is one of Axon's dtypes.
 * @example
 * isDType('int32') // true
 * isDType('float64') // false
 */
export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'int32' || x === 'bool';
}

/**
 * The dtype two operands promote to: bool < int32 < float32.
 * @example
 * upcast('int32', 'float32') // 'float32'
 * upcast('bool', 'int32') // 'int32'
 */
export function upcast(a: DType, b: DType): DType {
  if (a === 'float32' || b === 'float32') return 'float32';
  if (a === 'int32' || b === 'int32') return 'int32';
  return 'bool';
}
