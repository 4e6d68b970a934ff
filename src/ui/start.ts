/**
 * Starts the live view on a terminal. The CLI reaches this module only through a dynamic import, so runs
 * without a terminal (pipes, CI, cron) never load Ink or React, which cost over half a second to import.
 */
import { render } from 'ink';
import { createElement } from 'react';
import type { EventSink } from '../engine/events.js';
import { FRAME_MS, LiveApp, type LiveStore } from './App.js';
import { emptyModel, foldEvent } from './model.js';

export interface LiveViewOptions {
  stdout: NodeJS.WriteStream;
  colors: boolean;
  diffs: boolean;
}

export interface LiveViewHandle {
  sink: EventSink;
  /** Ctrl-C was pressed: the view says that no new change starts. */
  interrupted(): void;
  /** Draws the final summary (when the run ended) and leaves the terminal to the shell. */
  done(): Promise<void>;
}

export function startLiveView(options: LiveViewOptions): LiveViewHandle {
  const store: LiveStore = { model: emptyModel(), closing: false };
  const instance = render(createElement(LiveApp, { store, colors: options.colors, diffs: options.diffs }), {
    stdout: options.stdout,
    // Ctrl-C stays a signal for the CLI, which stops starting changes; the view only says so.
    exitOnCtrlC: false,
    // During a run only the view writes to the terminal: the engine prints nothing.
    patchConsole: false,
    maxFps: 1000 / FRAME_MS,
  });
  return {
    sink: (event) => foldEvent(store.model, event),
    interrupted: () => {
      store.model.interrupted = true;
    },
    done: async () => {
      store.closing = true;
      await instance.waitUntilExit();
    },
  };
}
