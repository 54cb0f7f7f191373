import { AxonError, type DType } from '@axon/core';
import { type ArrayDataset, type Column, makeArrayDataset } from './array-dataset.js';
import { checkMaxBytes, type DataSource, limitText, readSource } from './io.js';

/**
 * Default limits of the CSV readers (each raisable by the option of the same name):
 * `maxBytes` — the most bytes {@link fromCsv} reads from a file, URL or Blob (256 MiB; a
 * JavaScript string cannot hold much more than 512 Mi characters anyway); `maxRows` — data
 * records (10 million); `maxColumns` — fields per record (100,000).
 *
 * @example
 * ```ts
 * CSV_LIMITS.maxRows; // 10000000
 * const text = 'a\n1\n2\n3\n';
 * parseCsv(text, { maxRows: 2 }); // throws: 'more than 2 data records'
 * parseCsv(text, { maxRows: 2 * CSV_LIMITS.maxRows }).rows.length; // 3
 * ```
 */
export const CSV_LIMITS: Readonly<{ maxBytes: number; maxRows: number; maxColumns: number }> = Object.freeze({
  maxBytes: 256 * 2 ** 20,
  maxRows: 10_000_000,
  maxColumns: 100_000,
});

function checkLimit(op: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (v === Infinity) return Infinity;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new AxonError(op, `expected ${name} to be a positive integer (or Infinity), got ${String(v)}`);
  return v;
}

/**
 * Options of {@link parseCsv}.
 *
 * @example
 * ```ts
 * const text = '1;2\n3;4\n';
 * parseCsv(text, { delimiter: ';', header: false }); // { columns: ['0', '1'], rows: [['1', '2'], ['3', '4']], lines: [1, 2] }
 * ```
 */
export interface ParseCsvOptions {
  /** Field separator (one character; default `,`). */
  delimiter?: string;
  /** Whether the first record holds column names (default true). Without one, columns are named `'0'`, `'1'`, …. */
  header?: boolean;
  /** The most data records (header excluded) to accept (default 10,000,000: {@link CSV_LIMITS}); more is an error. */
  maxRows?: number;
  /** The most fields per record to accept (default 100,000: {@link CSV_LIMITS}); more is an error. */
  maxColumns?: number;
}

/**
 * What {@link parseCsv} returns.
 *
 * @example
 * ```ts
 * const table: CsvTable = parseCsv('a,b\n1,2\n\n3,4\n');
 * table.columns; // ['a', 'b']
 * table.rows; // [['1', '2'], ['3', '4']]
 * table.lines; // [2, 4]
 * ```
 */
export interface CsvTable {
  /** Column names (from the header, or `'0'`, `'1'`, … without one). */
  readonly columns: string[];
  /** Data records (header excluded), as raw strings. */
  readonly rows: string[][];
  /** 1-based line number in the text where each record starts. */
  readonly lines: number[];
}

/**
 * Parses CSV text (RFC 4180): quoted fields (`"a, b"`), doubled quotes (`""`), delimiters and
 * line breaks inside quotes, `\n`/`\r\n`/`\r` line ends, a UTF-8 BOM, blank or whitespace-only lines (skipped).
 * Every record must have as many fields as the first; errors name the line and the column
 * (1-based field number, with the header's name when there is one). More than `maxRows` records
 * or `maxColumns` fields per record (see {@link CSV_LIMITS}) is an error, raised while parsing.
 *
 * @example
 * ```ts
 * parseCsv('a,b\n1,"x, y"\n').rows; // [['1', 'x, y']]
 * parseCsv('a,b\r\n2,"say ""hi"""\r\n').rows; // [['2', 'say "hi"']]
 * // a quoted field may span lines; `lines` says where each record starts
 * parseCsv('a,b\n1,"two\nlines"\n3,4\n').lines; // [2, 4]
 * parseCsv('a,b\n1,2\n3\n'); // throws: "line 3, column 2 ('b'): missing field"
 * ```
 */
export function parseCsv(text: string, options: ParseCsvOptions = {}): CsvTable {
  const op = 'parseCsv';
  if (typeof text !== 'string') throw new AxonError(op, `expected CSV text as a string, got ${typeof text}`);
  const delim = options.delimiter ?? ',';
  if (typeof delim !== 'string' || delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') {
    throw new AxonError(op, `expected the delimiter to be one character other than a quote or line break, got ${JSON.stringify(delim)}`);
  }
  const maxRows = checkLimit(op, 'maxRows', options.maxRows, CSV_LIMITS.maxRows);
  const maxColumns = checkLimit(op, 'maxColumns', options.maxColumns, CSV_LIMITS.maxColumns);
  const hasHeader = options.header !== false;
  const maxRecords = maxRows + (hasHeader ? 1 : 0);
  const records: string[][] = [];
  const lines: number[] = [];
  /** "line L, column C ('name')" for field index `f` (0-based) of a record starting on line `l`. */
  const at = (l: number, f: number): string => {
    const name = hasHeader && records.length > 0 ? records[0][f] : undefined;
    return `line ${l}, column ${f + 1}${name !== undefined ? ` ('${name.trim()}')` : ''}`;
  };
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let line = 1;
  const D = delim.charCodeAt(0);
  while (i < n) {
    const startLine = line;
    const rec: string[] = [];
    let blank = true;
    // one record
    while (true) {
      let field: string;
      if (text.charCodeAt(i) === 34 /* " */) {
        blank = false;
        const qLine = line;
        let s = '';
        let j = i + 1;
        while (true) {
          const q = text.indexOf('"', j);
          if (q < 0) throw new AxonError(op, `${at(qLine, rec.length)}: unterminated quoted field (no closing ")`);
          const chunk = text.slice(j, q);
          for (let c = 0; c < chunk.length; c++) {
            const ch = chunk.charCodeAt(c);
            if (ch === 10 || (ch === 13 && chunk.charCodeAt(c + 1) !== 10)) line++;
          }
          s += chunk;
          if (text.charCodeAt(q + 1) === 34) {
            s += '"';
            j = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        const c = text.charCodeAt(i);
        if (i < n && c !== D && c !== 10 && c !== 13) {
          throw new AxonError(op, `${at(line, rec.length)}: unexpected character ${JSON.stringify(text[i])} after a closing quote; expected a delimiter or line end`);
        }
        field = s;
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === D || c === 10 || c === 13) break;
          j++;
        }
        field = text.slice(i, j);
        if (field.trim().length > 0) blank = false;
        i = j;
      }
      rec.push(field);
      if (rec.length > maxColumns) {
        throw new AxonError(op, `${at(line, rec.length - 1)}: more than ${maxColumns} fields in one record, the limit (raise it with { maxColumns })`);
      }
      const c = text.charCodeAt(i);
      if (i < n && c === D) {
        blank = false;
        i++;
        continue;
      }
      // end of record
      if (c === 13) i += text.charCodeAt(i + 1) === 10 ? 2 : 1;
      else if (c === 10) i++;
      if (i <= n && (c === 10 || c === 13)) line++;
      break;
    }
    if (blank && rec.length === 1) continue;
    if (records.length > 0 && rec.length !== records[0].length) {
      const width = records[0].length;
      const where = rec.length < width ? `${at(startLine, rec.length)}: missing field` : `${at(startLine, width)}: unexpected extra field`;
      throw new AxonError(op, `${where}; expected ${width} fields like ${hasHeader ? 'the header' : 'the first record'} (line ${lines[0]}), got ${rec.length}`);
    }
    if (records.length >= maxRecords) {
      throw new AxonError(op, `line ${startLine}: more than ${maxRows} data records, the limit (raise it with { maxRows })`);
    }
    records.push(rec);
    lines.push(startLine);
  }
  if (records.length === 0) return { columns: [], rows: [], lines: [] };
  if (hasHeader) {
    const columns = records[0].map((s) => s.trim());
    return { columns, rows: records.slice(1), lines: lines.slice(1) };
  }
  return { columns: Array.from({ length: records[0].length }, (_, k) => String(k)), rows: records, lines };
}

/**
 * Options of {@link fromCsv} and {@link fromCsvText}.
 *
 * @example
 * ```ts
 * const text = 'id,rooms,area,price\n1,3,70,250\n2,4,,310\n';
 * const ds = fromCsvText(text, { label: 'price', columns: ['rooms', 'area'], labelDtype: 'float32', missing: 0 });
 * ds.toArrays().x.data; // [3, 70, 4, 0]
 * ds.toArrays().y; // { data: [250, 310], dtype: 'float32' }
 * ```
 */
export interface CsvOptions extends ParseCsvOptions {
  /** Feature columns packed into `x`, by name or 0-based index (default: every column except the label). */
  columns?: readonly (string | number)[];
  /** The label column (by name or index), yielded as `y`. Without one the dataset has only `x`. */
  label?: string | number;
  /**
   * dtype of `y`. Default: int32 when every label is an integer, float32 otherwise. Labels that
   * are not numbers (e.g. `setosa`) become int32 class indices in sorted order, named in
   * `meta.classNames`.
   */
  labelDtype?: Exclude<DType, 'bool'>;
  /** Value for empty fields (default: an empty field is an error). */
  missing?: number;
  /**
   * The most bytes {@link fromCsv} reads from a path, URL, Blob or buffer (default 256 MiB:
   * {@link CSV_LIMITS}); a larger source fails before it is read.
   */
  maxBytes?: number;
}

function resolveColumn(op: string, table: CsvTable, c: string | number, what: string): number {
  if (typeof c === 'number') {
    if (!Number.isInteger(c) || c < 0 || c >= table.columns.length) {
      throw new AxonError(op, `${what} index ${c} is out of range; the CSV has ${table.columns.length} columns (0..${table.columns.length - 1})`);
    }
    return c;
  }
  const k = table.columns.indexOf(c);
  if (k < 0) throw new AxonError(op, `${what} '${c}' is not a column; the columns are ${table.columns.map((s) => `'${s}'`).join(', ')}`);
  return k;
}

function parseNumber(s: string): number {
  const t = s.trim();
  if (t === '') return NaN;
  const v = Number(t);
  if (Number.isNaN(v) && !/^[+-]?nan$/i.test(t)) return NaN;
  return v;
}

/**
 * An in-memory dataset from CSV text: `x` is float32 `[N, features]`, `y` (when `label` is
 * given) a per-sample scalar. Numbers may have surrounding spaces; an empty or non-numeric
 * feature is an error naming the line and column (unless `missing` is set).
 *
 * @example
 * const ds = fromCsvText('a,b,label\n1,2,0\n3,4,1\n', { label: 'label' });
 * ds.spec.x.shape; // [2]
 * ds.meta.featureNames; // ['a', 'b']
 * ds.toArrays().y; // { data: [0, 1], dtype: 'int32' }
 * fromCsvText('a,b\n1,x\n'); // throws: 'expected a number, got "x"'
 */
export function fromCsvText(text: string, options: CsvOptions & { label: string | number }): ArrayDataset<'x' | 'y'>;
export function fromCsvText(text: string, options?: CsvOptions): ArrayDataset<'x'>;
export function fromCsvText(text: string, options: CsvOptions = {}): ArrayDataset<'x'> | ArrayDataset<'x' | 'y'> {
  const op = 'fromCsv';
  let table: CsvTable;
  try {
    table = parseCsv(text, options);
  } catch (e) {
    if (e instanceof AxonError) throw new AxonError(op, e.message.replace(/^parseCsv: /, ''));
    throw e;
  }
  if (table.columns.length === 0) throw new AxonError(op, 'the CSV text has no records');
  const labelIdx = options.label === undefined ? -1 : resolveColumn(op, table, options.label, 'label column');
  const featIdx = options.columns
    ? options.columns.map((c) => resolveColumn(op, table, c, 'feature column'))
    : table.columns.map((_, k) => k).filter((k) => k !== labelIdx);
  if (featIdx.length === 0) throw new AxonError(op, 'no feature columns left; pass `columns` or a CSV with more than the label column');
  if (featIdx.includes(labelIdx)) throw new AxonError(op, `the label column '${table.columns[labelIdx]}' is also listed as a feature column`);
  const N = table.rows.length;
  const F = featIdx.length;
  const x = new Float32Array(N * F);
  const missing = options.missing;
  for (let r = 0; r < N; r++) {
    const row = table.rows[r];
    for (let f = 0; f < F; f++) {
      const raw = row[featIdx[f]];
      let v = parseNumber(raw);
      if (Number.isNaN(v) && !/^\s*[+-]?nan\s*$/i.test(raw)) {
        if (missing !== undefined && raw.trim() === '') v = missing;
        else {
          const what = raw.trim() === '' ? 'an empty field' : JSON.stringify(raw);
          throw new AxonError(op, `line ${table.lines[r]}, column '${table.columns[featIdx[f]]}': expected a number, got ${what}`);
        }
      }
      x[r * F + f] = v;
    }
  }
  const featureNames = featIdx.map((k) => table.columns[k]);
  const xCol: Column = { data: x, shape: [F], dtype: 'float32', rowSize: F };
  if (labelIdx < 0) return makeArrayDataset(op, { x: { col: xCol, n: N } }, { featureNames });
  const raw = table.rows.map((row) => row[labelIdx]);
  const nums = raw.map(parseNumber);
  let classNames: string[] | undefined;
  let y: Float32Array | Int32Array;
  let ydt: DType;
  if (nums.some((v, r) => Number.isNaN(v) && !/^\s*[+-]?nan\s*$/i.test(raw[r]))) {
    // categorical labels
    const empty = raw.findIndex((s) => s.trim() === '');
    if (empty >= 0) throw new AxonError(op, `line ${table.lines[empty]}, column '${table.columns[labelIdx]}': empty label`);
    if (options.labelDtype === 'float32') {
      const bad = nums.findIndex((v) => Number.isNaN(v));
      throw new AxonError(op, `line ${table.lines[bad]}, column '${table.columns[labelIdx]}': expected a number for a float32 label, got ${JSON.stringify(raw[bad])}`);
    }
    classNames = [...new Set(raw.map((s) => s.trim()))].sort();
    const index = new Map(classNames.map((c, k) => [c, k]));
    y = Int32Array.from(raw, (s) => index.get(s.trim()) ?? -1);
    ydt = 'int32';
  } else {
    ydt = options.labelDtype ?? (nums.every((v) => Number.isInteger(v)) ? 'int32' : 'float32');
    if (ydt === 'int32') {
      const bad = nums.findIndex((v) => !Number.isInteger(v));
      if (bad >= 0) throw new AxonError(op, `line ${table.lines[bad]}, column '${table.columns[labelIdx]}': expected an integer label for int32, got ${JSON.stringify(raw[bad])}`);
      y = Int32Array.from(nums);
    } else y = Float32Array.from(nums);
  }
  const yCol: Column = { data: y, shape: [], dtype: ydt, rowSize: 1 };
  return makeArrayDataset(op, { x: { col: xCol, n: N }, y: { col: yCol, n: N } }, classNames ? { featureNames, classNames } : { featureNames });
}

/**
 * An in-memory dataset from CSV (see {@link fromCsvText}), given as text (a string containing a
 * line break), a file path (Node), a URL, a `Blob`/`File`, or bytes (UTF-8).
 * Limits ({@link CSV_LIMITS}, each raisable by the option of the same name): sources over
 * `maxBytes` (256 MiB) fail before they are read, paths that are not regular files (a
 * directory, a FIFO, `/dev/zero`) are refused, and more than `maxRows` records or `maxColumns`
 * fields per record fail while parsing.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 *
 * writeFileSync('iris.csv', 'sepal_length,petal_length,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n');
 * const iris = await fromCsv('iris.csv', { label: 'species' });
 * iris.meta.classNames; // ['setosa', 'versicolor', 'virginica']
 * iris.toArrays().y.data; // [0, 1, 2]
 * // text with a line break, bytes, Blobs and URLs work too
 * const small = await fromCsv(new Blob(['a,y\n1,0\n2,1\n']), { label: 'y' });
 * small.size; // 2
 * ```
 */
export async function fromCsv(source: DataSource, options: CsvOptions & { label: string | number }): Promise<ArrayDataset<'x' | 'y'>>;
export async function fromCsv(source: DataSource, options?: CsvOptions): Promise<ArrayDataset<'x'>>;
export async function fromCsv(source: DataSource, options: CsvOptions = {}): Promise<ArrayDataset<'x'> | ArrayDataset<'x' | 'y'>> {
  const op = 'fromCsv';
  const max = checkMaxBytes(op, options?.maxBytes, CSV_LIMITS.maxBytes);
  let text: string;
  if (typeof source === 'string' && /[\r\n]/.test(source)) text = source;
  else {
    const bytes = await readSource(op, source, { maxBytes: max });
    if (bytes.length > max) throw new AxonError(op, `the CSV data is ${bytes.length} bytes, more than ${limitText(max)}`);
    try {
      text = new TextDecoder('utf-8').decode(bytes);
    } catch (e) {
      // V8 strings hold at most ~2^29 characters
      throw new AxonError(op, `cannot decode ${bytes.length} bytes of CSV as one string: ${(e as Error).message}`);
    }
  }
  return fromCsvText(text, options);
}
