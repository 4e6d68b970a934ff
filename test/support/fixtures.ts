/** Outputs captured from real hosts. A fixture's first line is a `#` note saying how it was captured; the rest is verbatim. */
import { readFileSync } from 'node:fs';

export function fixture(resource: string, name: string): string {
  const text = readFileSync(new URL(`../fixtures/${resource}/${name}.txt`, import.meta.url), 'utf8');
  if (!text.startsWith('# ')) throw new Error(`fixture ${resource}/${name} lacks its "# captured …" line`);
  return text.slice(text.indexOf('\n') + 1);
}
