// Preloaded with `node --import`: writes the URL of every module Node resolves, one per line, to $KEEL_IMPORT_LOG.
import { register } from 'node:module';

register(new URL('./importLogHooks.mjs', import.meta.url), { data: { log: process.env.KEEL_IMPORT_LOG } });
