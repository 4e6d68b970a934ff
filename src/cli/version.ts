import { readFileSync } from 'node:fs';

/** src/cli/version.ts and its bundle under dist/ both sit two levels under the package root. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
