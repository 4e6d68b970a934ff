import type { Transport } from '../../src/transport/types.js';

/** A transport that records every command and script it is handed, then hands it on; closing it leaves `inner` open. */
export function recording(inner: Transport): Transport & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    host: inner.host,
    scripts,
    get execCount() {
      return inner.execCount;
    },
    exec: (command, options) => {
      scripts.push(String(options?.stdin ?? command));
      return inner.exec(command, options);
    },
    runScript: (script, options) => {
      scripts.push(script);
      return inner.runScript(script, options);
    },
    close: async () => undefined,
  };
}
