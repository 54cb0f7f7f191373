export interface Snippet {
  page: string;
  line: number;
  code: string;
  notRun: string | undefined;
}
export function snippetPages(): string[];
export function snippetsOf(file: string): Snippet[];
export function writeSnippets(dir?: string): (Snippet & { file: string })[];
