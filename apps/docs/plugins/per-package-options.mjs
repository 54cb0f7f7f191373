// A TypeDoc plugin for the "packages" entry point strategy, where TypeDoc converts each package
// with options of its own: the root's `packageOptions` (the same for every package), then what a
// typedoc.json, package.json or tsconfig.json in the package's folder says. The packages'
// folders belong to their owners, so this plugin adds the missing piece from the docs side: the
// root option `axonPackageOptions`, { "<package name>": { <option>: <value>, … } }, is applied to
// that package only (paths relative to its folder), after everything else.
//
// Used for `intentionallyNotExported` (a list shared by every package would make TypeDoc warn,
// in each package, about the entries that belong to the others) and for a package whose
// documented entry point is not src/index.ts (@axon/cli documents its library export, src/image.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParameterType } from 'typedoc';

const OPTION = 'axonPackageOptions';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.options.addDeclaration({
    name: OPTION,
    help: '[axon] Options for single packages in packages mode: { "<package name>": { "<option>": value } }',
    type: ParameterType.Mixed,
    defaultValue: {},
    validate(value) {
      const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
      if (!isObject(value) || !Object.values(value).every(isObject)) {
        throw new Error(`${OPTION} must map package names to objects of TypeDoc options`);
      }
    },
  });

  /** @type {Record<string, Record<string, unknown>>} */
  let byPackage = {};
  app.options.addReader({
    name: 'axon-package-options',
    order: 1000, // after typedoc.json (100), package.json (150) and tsconfig.json (200)
    supportsPackages: true,
    read(container, _logger, cwd) {
      if (container.packageDir === undefined) {
        // The root options: remember the table for the packages.
        byPackage = /** @type {Record<string, Record<string, unknown>>} */ (container.getValue(OPTION));
        return;
      }
      const { name } = JSON.parse(readFileSync(join(container.packageDir, 'package.json'), 'utf8'));
      for (const [key, value] of Object.entries(byPackage[name] ?? {})) container.setValue(key, value, cwd);
    },
  });
}
