// Turns an example into code: assertions from `// value` comments, imports into scope lookups.
import ts from 'typescript';
import { parseExpected, type Expected } from './expect.js';
// Assertions carry the comment's text (JSON would turn NaN and ±Infinity into null); it is parsed again when checked.

/** An import of the example, rewritten to a lookup. */
export interface ExampleImport {
  spec: string;
  /** Source text of the destructuring pattern (`{ a, b: c }`), a namespace name, or undefined for a side-effect import. */
  binding?: string;
  typeOnly: boolean;
  text: string;
}

/** What the runner and the type-checker need from one example. */
export interface Transformed {
  /** The body to run: assertions become `await __check(…)`/`await __throws(…)`; imports become `await __import(…)`. */
  run: string;
  /** The body to type-check: imports become `await import(…)` (type imports are returned in `typeImports`). */
  types: string;
  typeImports: ExampleImport[];
  /** How many values the example asserts. */
  checks: number;
}

function bindingOf(clause: ts.ImportClause, sf: ts.SourceFile): string {
  const parts: string[] = [];
  const nb = clause.namedBindings;
  if (nb !== undefined && ts.isNamespaceImport(nb)) return nb.name.text;
  if (clause.name !== undefined) parts.push(`default: ${clause.name.text}`);
  if (nb !== undefined && ts.isNamedImports(nb)) {
    for (const el of nb.elements) {
      if (el.isTypeOnly) continue;
      parts.push(el.propertyName !== undefined ? `${el.propertyName.getText(sf)}: ${el.name.text}` : el.name.text);
    }
  }
  return `{ ${parts.join(', ')} }`;
}

/** Rewrites one example. `id` names it in assertion messages. */
export function transform(code: string, id: string): Transformed {
  const sf = ts.createSourceFile('example.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const runEdits: { start: number; end: number; text: string }[] = [];
  const typeEdits: { start: number; end: number; text: string }[] = [];
  const typeImports: ExampleImport[] = [];
  let checks = 0;
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const spec = (st.moduleSpecifier as ts.StringLiteral).text;
      const clause = st.importClause;
      const start = st.getStart(sf);
      if (clause === undefined) {
        runEdits.push({ start, end: st.end, text: `await __import(${JSON.stringify(spec)});` });
        typeEdits.push({ start, end: st.end, text: `await import(${JSON.stringify(spec)});` });
        continue;
      }
      if (clause.isTypeOnly) {
        typeImports.push({ spec, typeOnly: true, text: st.getText(sf) });
        runEdits.push({ start, end: st.end, text: '' });
        typeEdits.push({ start, end: st.end, text: '' });
        continue;
      }
      const binding = bindingOf(clause, sf);
      const nb = clause.namedBindings;
      if (nb !== undefined && ts.isNamedImports(nb) && nb.elements.some((e) => e.isTypeOnly)) {
        const names = nb.elements.filter((e) => e.isTypeOnly).map((e) => e.getText(sf).replace(/^type\s+/, ''));
        typeImports.push({ spec, typeOnly: true, text: `import type { ${names.join(', ')} } from ${JSON.stringify(spec)};` });
      }
      runEdits.push({ start, end: st.end, text: `const ${binding} = await __import(${JSON.stringify(spec)});` });
      typeEdits.push({ start, end: st.end, text: `const ${binding} = await import(${JSON.stringify(spec)});` });
      continue;
    }
    // A trailing `// …` comment on the statement's last line.
    const comments = ts.getTrailingCommentRanges(code, st.end) ?? [];
    const c = comments.find((r) => r.kind === ts.SyntaxKind.SingleLineCommentTrivia);
    if (c === undefined) continue;
    const note = code.slice(c.pos + 2, c.end).trim().replace(/^(→|=>)\s*/, '');
    const line = sf.getLineAndCharacterOfPosition(st.getStart(sf)).line + 1;
    const where = JSON.stringify(`${id} (example line ${line})`);
    const start = st.getStart(sf);
    const throwsM = /^throws\b(?:[^'"`]*(['"`])(.+)\1)?/.exec(note);
    if (throwsM !== null) {
      runEdits.push({ start, end: st.end, text: `await __throws(async () => { ${st.getText(sf)} }, ${JSON.stringify(throwsM[2] ?? null)}, ${where});` });
      checks++;
      continue;
    }
    const exp: Expected | undefined = parseExpected(note);
    if (exp === undefined) continue;
    if (ts.isExpressionStatement(st)) {
      // `console.log(v); // value` asserts v (and still prints it).
      const e = st.expression;
      const logged = ts.isCallExpression(e) && e.expression.getText(sf) === 'console.log' && e.arguments.length === 1 ? e.arguments[0]! : undefined;
      if (logged !== undefined) {
        runEdits.push({ start, end: st.end, text: `{ const __v = (${logged.getText(sf)}); console.log(__v); await __check(__v, ${JSON.stringify(note)}, ${where}); }` });
      } else if (ts.isCallExpression(e) && e.expression.getText(sf) === 'console.log') {
        continue; // several values printed on one line: the comment is what it prints, not one literal
      } else {
        runEdits.push({ start, end: st.end, text: `await __check((${e.getText(sf)}), ${JSON.stringify(note)}, ${where});` });
      }
      checks++;
    } else if (ts.isVariableStatement(st) && st.declarationList.declarations.length === 1 && ts.isIdentifier(st.declarationList.declarations[0]!.name)) {
      const name = (st.declarationList.declarations[0]!.name as ts.Identifier).text;
      runEdits.push({ start: st.end, end: st.end, text: ` await __check(${name}, ${JSON.stringify(note)}, ${where});` });
      checks++;
    }
  }
  const apply = (edits: typeof runEdits): string => {
    let out = code;
    for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
    return out;
  };
  return { run: apply(runEdits), types: apply(typeEdits), typeImports, checks };
}

/** Compiles a body to a JavaScript function expression taking the given parameter names. */
export function compileBody(body: string, params: string[]): string {
  const src = `(async function (${params.join(', ')}) {\n${body}\n})`;
  const out = ts.transpileModule(src, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, removeComments: false },
    reportDiagnostics: false,
  });
  return out.outputText.replace(/;\s*$/, '').replace(/^export \{\};\s*/m, '');
}
