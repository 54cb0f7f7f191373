// Type-checks every example: one generated module per package that imports every name the
// package's examples may use and wraps each example in its own async function.
import ts from 'typescript';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGES, type Example } from './extract.js';
import { transform } from './transform.js';

/** A type error in an example. */
export interface ExampleDiagnostic {
  id: string;
  /** 1-based line inside the example. */
  line: number;
  message: string;
}

function compilerOptions(root: string): ts.CompilerOptions {
  const cfg = ts.readConfigFile(join(root, 'tsconfig.base.json'), (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root);
  return { ...parsed.options, noEmit: true, declaration: false, noUnusedLocals: false, noUnusedParameters: false, isolatedModules: false, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] };
}

/** The exported names (values and types) of each module specifier, resolved from `fromDir`. */
function exportsOf(program: ts.Program, specs: string[], fromFile: string): Map<string, string[]> {
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const spec of specs) {
    const r = ts.resolveModuleName(spec, fromFile, program.getCompilerOptions(), ts.sys);
    const file = r.resolvedModule?.resolvedFileName;
    const sf = file === undefined ? undefined : program.getSourceFile(file);
    const sym = sf === undefined ? undefined : checker.getSymbolAtLocation(sf);
    if (sym === undefined) throw new Error(`doctest: cannot resolve ${spec} from ${fromFile}`);
    out.set(spec, checker.getExportsOfModule(sym).map((s) => s.name).filter((n) => n !== 'default'));
  }
  return out;
}

/** Type-checks the examples; returns their type errors (empty when all check). `outDir` receives the generated modules. */
export function typecheckExamples(root: string, examples: Example[], outDir: string): ExampleDiagnostic[] {
  mkdirSync(outDir, { recursive: true });
  const options = compilerOptions(root);
  const allSpecs = [...new Set(PACKAGES.flatMap((p) => p.scope))];
  const probe = join(outDir, '_probe.ts');
  writeFileSync(probe, allSpecs.map((s, i) => `import * as m${i} from ${JSON.stringify(s)};\nvoid m${i};\n`).join(''));
  const host = ts.createCompilerHost(options);
  const first = ts.createProgram([probe], options, host);
  const names = exportsOf(first, allSpecs, probe);

  const files: string[] = [];
  // Generated line → (example, line within the example).
  const lineMaps = new Map<string, { ex: Example; firstLine: number }[]>();
  for (const pkg of PACKAGES) {
    const mine = examples.filter((e) => e.pkg === pkg.name);
    if (mine.length === 0) continue;
    const seen = new Set<string>();
    const header: string[] = [];
    for (const spec of pkg.scope) {
      const fresh = names.get(spec)!.filter((n) => !seen.has(n));
      fresh.forEach((n) => seen.add(n));
      if (fresh.length > 0) header.push(`import { ${fresh.join(', ')} } from ${JSON.stringify(spec)};`);
    }
    const body: string[] = [];
    const spans: { ex: Example; firstLine: number }[] = [];
    mine.forEach((ex, k) => {
      const t = transform(ex.code, ex.id);
      for (const imp of t.typeImports) header.push(imp.text.replace(/^import type \{([^}]*)\}/, (_, list: string) => `import type { ${list.split(',').map((s) => s.trim()).filter((s) => s !== '' && !seen.has(s.split(/\s+as\s+/).pop()!)).join(', ')} }`).replace(/^import type \{\s*\} from .*$/, ''));
      body.push(`// ${ex.id}`, `export async function example${k}(): Promise<void> {`, '{');
      spans.push({ ex, firstLine: -1 }); // set below
      body.push(`//@@${k}`, t.types, '}', '}', '');
    });
    // Resolve the first line of each example now that the header is final.
    const lines = [...header, '', ...body].join('\n').split('\n');
    let idx = 0;
    lines.forEach((l, i) => {
      if (l.startsWith('//@@')) spans[idx++]!.firstLine = i + 2; // the example starts on the next line (1-based)
    });
    const file = join(outDir, `${pkg.name.replace('@axon/', '')}.examples.ts`);
    writeFileSync(file, lines.join('\n'));
    files.push(file);
    lineMaps.set(file, spans);
  }
  const program = ts.createProgram(files, options, host, first);
  const diags: ExampleDiagnostic[] = [];
  for (const file of files) {
    const sf = program.getSourceFile(file)!;
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line + 1;
      const spans = lineMaps.get(file)!;
      let span = spans[0]!;
      for (const s of spans) if (s.firstLine <= line) span = s;
      diags.push({ id: span.ex.id, line: line - span.firstLine + 1, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') });
    }
  }
  return diags;
}
