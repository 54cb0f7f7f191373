import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { fromCsv, fromCsvText, parseCsv } from '../src/index.js';

describe('parseCsv', () => {
  it('handles quotes, escaped quotes, delimiters and newlines inside quotes', () => {
    const t = parseCsv('name,note\n"Smith, J","said ""hi"""\n"multi\nline",x\n');
    expect(t.columns).toEqual(['name', 'note']);
    expect(t.rows).toEqual([
      ['Smith, J', 'said "hi"'],
      ['multi\nline', 'x'],
    ]);
    expect(t.lines).toEqual([2, 3]);
  });

  it('handles CRLF, CR, BOM, blank lines, no trailing newline, empty fields', () => {
    const t = parseCsv('\ufeffa,b\r\n1,2\r\n\r\n3,\r4,5\n   \n');
    expect(t.columns).toEqual(['a', 'b']);
    expect(t.rows).toEqual([
      ['1', '2'],
      ['3', ''],
      ['4', '5'],
    ]);
    expect(t.lines).toEqual([2, 4, 5]);
  });

  it('supports other delimiters and no header', () => {
    const t = parseCsv('1;2\n3;4\n', { delimiter: ';', header: false });
    expect(t.columns).toEqual(['0', '1']);
    expect(t.rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(parseCsv('a\tb\n1\t2', { delimiter: '\t' }).rows).toEqual([['1', '2']]);
    expect(parseCsv('').rows).toEqual([]);
  });

  it('reports ragged rows, unterminated quotes and junk after quotes with line and column', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n')).toThrow(/parseCsv: line 3, column 2 \('b'\): missing field; expected 2 fields like the header \(line 1\), got 1/);
    expect(() => parseCsv('a,b\n1,2,3\n')).toThrow(/parseCsv: line 2, column 3: unexpected extra field; expected 2 fields like the header \(line 1\), got 3/);
    expect(() => parseCsv('1,2\n3\n', { header: false })).toThrow(/line 2, column 2: missing field; expected 2 fields like the first record \(line 1\)/);
    expect(() => parseCsv('a,b\n1,"open\n\n')).toThrow(/line 2, column 2 \('b'\): unterminated quoted field/);
    expect(() => parseCsv('a,b\n"x"y,1\n')).toThrow(/line 2, column 1 \('a'\): unexpected character "y" after a closing quote/);
    expect(() => parseCsv('a,"b"c\n')).toThrow(/line 1, column 2: unexpected character "c"/);
    expect(() => parseCsv('a,b\n"multi\nline",2\n4\n')).toThrow(/line 4, column 2 \('b'\): missing field; expected 2 fields/);
    expect(() => parseCsv('a', { delimiter: ';;' })).toThrow(AxonError);
  });
});

describe('fromCsvText / fromCsv', () => {
  const iris = 'sepal_length,sepal_width,species\n5.1, 3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,virginica\n4.9,3.0,setosa\n';

  it('builds x float32 [N, F] and categorical y with class names', async () => {
    const ds = fromCsvText(iris, { label: 'species' });
    expect(ds.size).toBe(4);
    expect(ds.spec.x).toEqual({ shape: [2], dtype: 'float32' });
    expect(ds.spec.y).toEqual({ shape: [], dtype: 'int32' });
    expect(ds.meta.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(ds.meta.featureNames).toEqual(['sepal_length', 'sepal_width']);
    const { x, y } = ds.toArrays();
    expect(Array.from(x.data.slice(0, 2))).toEqual([Math.fround(5.1), 3.5]);
    expect(Array.from(y.data)).toEqual([0, 1, 2, 0]);
  });

  it('numeric labels: int32 when integral, float32 otherwise; column selection by name or index', () => {
    const csv = 'a,b,c,t\n1,2,3,0\n4,5,6,1\n';
    const ds = fromCsvText(csv, { label: 't', columns: ['c', 0] });
    expect(ds.meta.featureNames).toEqual(['c', 'a']);
    expect(Array.from(ds.toArrays().x.data)).toEqual([3, 1, 6, 4]);
    expect(ds.spec.y.dtype).toBe('int32');
    expect(fromCsvText('a,t\n1,0.5\n2,1\n', { label: 1 }).spec.y.dtype).toBe('float32');
    expect(fromCsvText(csv, { label: 't', labelDtype: 'float32' }).spec.y.dtype).toBe('float32');
    const noLabel = fromCsvText(csv);
    expect(noLabel.columnNames).toEqual(['x']);
    expect(noLabel.spec.x.shape).toEqual([4]);
    expect(fromCsvText('1;2\n3;4', { header: false, delimiter: ';', label: 0 }).toArrays().y.data).toEqual(new Int32Array([1, 3]));
  });

  it('clear errors with line numbers and column names', () => {
    expect(() => fromCsvText('a,b\n1,2\n3,x\n')).toThrow(/fromCsv: line 3, column 'b': expected a number, got "x"/);
    expect(() => fromCsvText('a,b\n1,2\n3,\n')).toThrow(/fromCsv: line 3, column 'b': expected a number, got an empty field/);
    expect(fromCsvText('a,b\n1,2\n3,\n', { missing: 0 }).toArrays().x.data[3]).toBe(0);
    expect(() => fromCsvText('a,b\n1,2\n', { label: 'z' })).toThrow(/fromCsv: label column 'z' is not a column; the columns are 'a', 'b'/);
    expect(() => fromCsvText('a,b\n1,2\n', { label: 5 })).toThrow(/label column index 5 is out of range/);
    expect(() => fromCsvText('a,b\n1,2\n', { label: 'a', columns: ['a'] })).toThrow(/also listed as a feature/);
    expect(() => fromCsvText('a,t\n1,0.5\n', { label: 't', labelDtype: 'int32' })).toThrow(/line 2, column 't': expected an integer label/);
    expect(() => fromCsvText('a,b\n1,2\n3\n')).toThrow(/fromCsv: line 3, column 2 \('b'\): missing field; expected 2 fields/);
    expect(() => fromCsvText('')).toThrow(/no records/);
  });

  it('quoted numbers, NaN, empty labels, and a larger file quickly', () => {
    const ds = fromCsvText('a,"b"\n"1.5", 2 \nNaN,-3e2\n', {});
    expect(Array.from(ds.toArrays().x.data)).toEqual([1.5, 2, Number.NaN, -300]);
    expect(() => fromCsvText('a,t\n1,cat\n2,\n', { label: 't' })).toThrow(/line 3, column 't': empty label/);
    const rows = ['f0,f1,f2,f3,f4,f5,f6,f7,label'];
    for (let r = 0; r < 20000; r++) rows.push(`${r},${r * 0.5},1,2,3,4,5,"6",${r % 3}`);
    const t0 = performance.now();
    const big = fromCsvText(rows.join('\n'), { label: 'label' });
    const ms = performance.now() - t0;
    expect(big.size).toBe(20000);
    expect(big.spec.x.shape).toEqual([8]);
    expect(ms).toBeLessThan(1000);
  });

  it('fromCsv reads text, paths, Blobs and bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-csv-'));
    const path = join(dir, 'd.csv');
    writeFileSync(path, iris);
    const fromPath = await fromCsv(path, { label: 'species' });
    expect(fromPath.size).toBe(4);
    expect((await fromCsv(iris, { label: 'species' })).size).toBe(4);
    expect((await fromCsv(new Blob([iris]), { label: 2 })).size).toBe(4);
    expect((await fromCsv(new TextEncoder().encode(iris), { label: 'species' })).spec.x.shape).toEqual([2]);
    expect((await fromCsv(new URL(`file://${path}`), { label: 'species' })).size).toBe(4);
    await expect(fromCsv(join(dir, 'missing.csv'))).rejects.toThrow(/fromCsv: file not found/);
  });
});
