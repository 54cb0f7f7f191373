export interface BrokenLink {
  page: string;
  link: string;
  reason: string;
}
export interface LinkReport {
  pages: number;
  links: number;
  external: number;
  broken: BrokenLink[];
}
export function checkLinks(dir: string): LinkReport;
