/**
 * The live view's module, imported only on a terminal: a run without one never loads Ink or React. The build puts a
 * loader of its own bundle (dist/ui.js) in place of this file: Ink is an ES module with top-level await, which the
 * CommonJS bundle of the CLI cannot require (scripts/build.mjs).
 */
export const loadLiveView = (): Promise<typeof import('../ui/start.js')> => import('../ui/start.js');
