// A TypeDoc plugin for the "packages" entry point strategy, where TypeDoc converts each package
// with its own options (the root's `packageOptions` are the same for every package). It gives
// each package its own `intentionallyNotExported` list from the root option
// `axonIntentionallyNotExported` ({ "<package name>": ["src/file.ts:TypeName", …] }): a shared list
// would make TypeDoc warn, in every package, about the entries that belong to the others.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Application, Converter, ParameterType } from 'typedoc';

const OPTION = 'axonIntentionallyNotExported';

/** @param {Application} app */
export function load(app) {
  app.options.addDeclaration({
    name: OPTION,
    help: '[axon] Per-package intentionallyNotExported lists: { "<package name>": ["src/file.ts:Type", …] }',
    type: ParameterType.Mixed,
    defaultValue: {},
    validate(value) {
      const ok =
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.values(value).every((list) => Array.isArray(list) && list.every((s) => typeof s === 'string'));
      if (!ok) throw new Error(`${OPTION} must be an object mapping package names to arrays of strings`);
    },
  });

  /** @type {Record<string, string[]>} */
  let byPackage = {};
  app.on(Application.EVENT_BOOTSTRAP_END, () => {
    byPackage = /** @type {Record<string, string[]>} */ (app.options.getValue(OPTION));
  });

  // In packages mode `app.options` is the package's own options while it is converted.
  app.converter.on(Converter.EVENT_BEGIN, () => {
    const dir = app.options.packageDir;
    if (dir === undefined) return;
    const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const list = byPackage[name];
    if (list) app.options.setValue('intentionallyNotExported', list);
  });
}
