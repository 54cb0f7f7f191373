export interface Example {
  file: string;
  name: string;
  title: string;
  navTitle: string;
  prose: string;
  source: string;
  packages: string[];
}
export function leadingComment(source: string): string[];
export function proseToMarkdown(lines: string[]): string;
export function importedPackages(source: string): string[];
export function describeExample(file: string): Example;
export function exampleFiles(dir?: string): string[];
export function generateExamplePages(options?: { examplesDir?: string; out?: string }): Example[];
