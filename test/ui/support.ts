/** Drawing the live view from recorded engine events. */

import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import type { EngineEvent } from '../../src/engine/events.js';
import { LiveView } from '../../src/ui/App.js';
import { foldEvents } from '../../src/ui/model.js';

export interface DrawOptions {
  /** Terminal rows. */
  height?: number;
  /** Ctrl-C was pressed. */
  interrupted?: boolean;
  diffs?: boolean;
}

/** The frame the view draws once these events have happened, 1.5 s into the run, without ANSI codes. */
export function draw(events: readonly EngineEvent[], options: DrawOptions = {}): string {
  const model = foldEvents(events);
  model.interrupted = options.interrupted ?? false;
  const view = render(
    createElement(LiveView, {
      model,
      now: model.startedAt + 1500,
      height: options.height ?? 40,
      colors: false,
      diffs: options.diffs ?? true,
    }),
  );
  const frame = stripVTControlCharacters(view.lastFrame() ?? '').trimEnd();
  view.unmount();
  return frame;
}

/** A frame as one line of single spaces, so text that Ink wrapped at the terminal's 100 columns reads whole again. */
export function unwrapped(frame: string): string {
  return frame.replace(/\s+/g, ' ');
}

export const SPINNER = /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /;
