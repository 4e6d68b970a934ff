// Preloaded with `node --import`: writes the URL of every module Node resolves, one per line, to $KEEL_IMPORT_LOG:
// imports through the loader hooks, and require() (which those hooks do not see on Node 20) through CommonJS
// resolution.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const log = process.env.KEEL_IMPORT_LOG;
register(new URL('./importLogHooks.mjs', import.meta.url), { data: { log } });

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function logged(...args) {
  const filename = resolveFilename.apply(this, args);
  if (filename.startsWith('/')) appendFileSync(log, `${pathToFileURL(filename).href}\n`);
  return filename;
};
