/**
 * The live terminal view. `LiveView` draws one moment of a run from its model; `LiveApp` redraws it on a clock
 * (at most 10 frames a second), so a burst of events from 200 hosts costs one frame, not 200.
 */
import { Box, Static, Text, useApp, useStdout } from 'ink';
import Spinner from 'ink-spinner';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { emptyCounts, type Mode, type RunSummary } from '../engine/events.js';
import { patchLineStyle, type Style } from '../report/color.js';
import { addCounts, countsLine, differsWord, fleetLine, INTERRUPT_NOTICE, printable } from '../report/format.js';
import { changeBlocks, hostList } from './changes.js';
import { layoutFinalTable, layoutTable, stderrTail, type TableLayout } from './layout.js';
import { type Failure, type HostRow, isActive, isFailing, type LiveModel } from './model.js';

export const FRAME_MS = 100;

export interface ViewProps {
  model: LiveModel;
  now: number;
  /** Terminal rows: what is drawn live stays shorter than this. */
  height: number;
  colors: boolean;
  /** Unified diffs of file content in the final summary. */
  diffs: boolean;
}

/** Styled text; strings pass through `printable`, since much of what is shown (diffs, stderr) comes from hosts. */
function Styled({ style, colors, children }: { style?: Style | undefined; colors: boolean; children: ReactNode }): ReactNode {
  const text = typeof children === 'string' ? printable(children) : children;
  if (style === 'bold') return <Text bold>{text}</Text>;
  if (style === 'dim') return <Text dimColor>{text}</Text>;
  return <Text color={colors ? style : undefined}>{text}</Text>;
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

const NAME_WIDTH_LIMIT = 24;
const TIME_WIDTH = 7;

function countLabels(mode: Mode): string[] {
  return ['unchanged', differsWord(mode), 'failed', 'pending'];
}

function nameWidth(model: LiveModel): number {
  return Math.min(NAME_WIDTH_LIMIT, Math.max(4, ...[...model.rows.keys()].map((name) => name.length)));
}

function ColumnHeads({ model }: { model: LiveModel }): ReactNode {
  const labels = countLabels(model.mode).join('  ');
  return <Text dimColor wrap="truncate-end">{`  ${'host'.padEnd(nameWidth(model))}  ${labels}  ${'time'.padStart(TIME_WIDTH)}  activity`}</Text>;
}

/** What a host in a rolling run waits on while it is out of service: its connections ending, or its health check. */
function rolloutWait(row: HostRow): string | undefined {
  const { rollout } = row;
  if (rollout?.phase !== 'draining' && rollout?.phase !== 'checking') return undefined;
  const what = rollout.phase === 'draining' ? 'draining' : 'checking health';
  return rollout.detail ? `${what}: ${rollout.detail}` : what;
}

function activityOf(row: HostRow): { text: string; style?: Style } {
  const skipped = row.counts.skipped ? `, ${row.counts.skipped} skipped` : '';
  const wait = row.activity === 'done' ? undefined : rolloutWait(row);
  if (wait !== undefined) return { text: wait, style: 'yellow' };
  const rejoined = row.rollout?.phase === 'restored' ? ', restored' : row.rollout?.phase === 'left out' ? ', left out of service' : '';
  switch (row.activity) {
    case 'waiting':
      return { text: 'waiting', style: 'dim' };
    case 'connecting':
      return { text: 'connecting' };
    case 'reading':
      return { text: 'reading' };
    case 'changing':
      return { text: row.resource ? `changing ${row.resource}` : 'changing' };
    case 'handlers':
      return { text: 'running handlers' };
    case 'done':
      if (row.summary?.outcome === 'unreachable') return { text: 'unreachable', style: 'red' };
      if (row.summary?.outcome === 'interrupted') return { text: `interrupted, ${row.summary.notAttempted} not attempted`, style: 'yellow' };
      return isFailing(row) ? { text: `failed${skipped}${rejoined}`, style: 'red' } : { text: `done${skipped}${rejoined}` };
  }
}

function HostLine({ row, model, now, colors, wrap }: { row: HostRow; model: LiveModel; now: number; colors: boolean; wrap: 'wrap' | 'truncate-end' }): ReactNode {
  const { counts } = row;
  const values = [counts.unchanged, model.mode === 'apply' ? counts.changed : counts.drifted, counts.failed, counts.pending];
  const cells = countLabels(model.mode).map((label, index) => String(values[index]).padStart(label.length)).join('  ');
  const elapsed = row.summary ? seconds(row.summary.durationMs) : row.startedAt !== undefined ? seconds(now - row.startedAt) : '';
  const activity = activityOf(row);
  const mark = isActive(row) ? (
    <Text color={colors ? 'cyan' : undefined}>
      <Spinner type="dots" />
    </Text>
  ) : row.activity === 'waiting' ? (
    <Text dimColor>·</Text>
  ) : row.summary?.outcome === 'interrupted' ? (
    <Styled style="yellow" colors={colors}>!</Styled>
  ) : isFailing(row) ? (
    <Styled style="red" colors={colors}>✗</Styled>
  ) : (
    <Styled style="green" colors={colors}>✓</Styled>
  );
  return (
    <Text wrap={wrap}>
      {mark} {row.name.padEnd(nameWidth(model))}  {cells}  {elapsed.padStart(TIME_WIDTH)}  <Styled style={activity.style} colors={colors}>{activity.text}</Styled>
    </Text>
  );
}

function FailureLines({ failure, colors, wrap }: { failure: Failure; colors: boolean; wrap: 'wrap' | 'truncate-end' }): ReactNode {
  const { error } = failure;
  const command = error.command?.split('\n')[0];
  const exit = error.exitCode === undefined ? '' : ` [exit ${error.exitCode}]`;
  const phase = error.phase ? ` (${error.phase})` : '';
  return (
    <>
      <Text wrap={wrap}>
        {'    '}
        <Styled style="red" colors={colors}>{`✗ ${failure.subject}${phase}: ${error.message}${command === undefined ? exit : ''}`}</Styled>
      </Text>
      {command !== undefined && <Text wrap={wrap}>{printable(`      $ ${command}${error.command!.includes('\n') ? ' …' : ''}${exit}`)}</Text>}
      {stderrTail(error.stderr).map((line, index) => (
        <Text key={index} dimColor wrap={wrap}>{printable(`      │ ${line}`)}</Text>
      ))}
    </>
  );
}

function Table({ layout, model, now, colors, wrap }: { layout: TableLayout; model: LiveModel; now: number; colors: boolean; wrap: 'wrap' | 'truncate-end' }): ReactNode {
  const { ok, waiting, more } = layout.hidden;
  const rest = [ok && `${ok} ok`, waiting && `${waiting} waiting`, more && `${more} more`].filter(Boolean);
  return (
    <>
      <ColumnHeads model={model} />
      {layout.rows.map(({ row, expanded }) => (
        <Box key={row.name} flexDirection="column">
          <HostLine row={row} model={model} now={now} colors={colors} wrap={wrap} />
          {expanded && row.failures.map((failure, index) => <FailureLines key={index} failure={failure} colors={colors} wrap={wrap} />)}
        </Box>
      ))}
      {rest.length > 0 && <Text dimColor wrap={wrap}>{`  … ${rest.join(', ')} not shown`}</Text>}
    </>
  );
}

function Title({ model }: { model: LiveModel }): ReactNode {
  return (
    <Text wrap="truncate-end">
      <Text bold>keel {model.mode}</Text>  {model.recipes.join(', ')}
    </Text>
  );
}

function LiveArea({ model, now, height, colors }: Omit<ViewProps, 'diffs'>): ReactNode {
  const rows = [...model.rows.values()];
  const done = rows.filter((row) => row.activity === 'done').length;
  const totals = rows.reduce((sum, row) => addCounts(sum, row.counts), emptyCounts());
  const headerLines = 3 + (model.interrupted ? 1 : 0);
  // Ink needs the line after its output for the cursor.
  const layout = layoutTable(model, height - 1 - headerLines);
  return (
    <Box flexDirection="column">
      <Title model={model} />
      <Text wrap="truncate-end">{`${model.batch ? `batch ${model.batch.index} of ${model.batch.of} · ` : ''}${done}/${rows.length} hosts done · ${countsLine(model.mode, totals)} · ${seconds(now - model.startedAt)}`}</Text>
      {model.interrupted && <Styled style="yellow" colors={colors}>{`interrupted: ${INTERRUPT_NOTICE}`}</Styled>}
      <Table layout={layout} model={model} now={now} colors={colors} wrap="truncate-end" />
    </Box>
  );
}

/** Per host (hosts with identical changes together): what changed, with diffs. */
function Changes({ summary, colors, diffs }: { summary: RunSummary; colors: boolean; diffs: boolean }): ReactNode {
  return (
    <>
      {changeBlocks(summary).map((block) => (
        <Box key={block.hosts.join(' ')} flexDirection="column" marginTop={1}>
          <Text bold>{hostList(block.hosts)}</Text>
          {block.results.map((line, index) => (
            <Box key={index} flexDirection="column" paddingLeft={2}>
              <Styled style={line.style} colors={colors}>{line.text}</Styled>
              {diffs &&
                line.patches.flatMap((patch) => patch.trimEnd().split('\n')).map((patchLine, lineIndex) => (
                  <Box key={lineIndex} paddingLeft={2}>
                    <Styled style={patchLineStyle(patchLine)} colors={colors}>{patchLine}</Styled>
                  </Box>
                ))}
            </Box>
          ))}
        </Box>
      ))}
    </>
  );
}

/** Printed once, in place of the live area, when the run ends: the final table, what changed, and the fleet line. */
function FinalReport({ model, summary, height, colors, diffs }: Omit<ViewProps, 'now'> & { summary: RunSummary }): ReactNode {
  return (
    <Box flexDirection="column">
      <Title model={model} />
      {/* Whether every host gets a row depends on whether they would fit on one screen, around a few lines of their own. */}
      <Table layout={layoutFinalTable(model, height - 4)} model={model} now={model.startedAt + summary.durationMs} colors={colors} wrap="wrap" />
      <Changes summary={summary} colors={colors} diffs={diffs} />
      <Box marginTop={1}>
        <Styled style="bold" colors={colors}>
          {fleetLine(summary)}
        </Styled>
      </Box>
    </Box>
  );
}

export function LiveView(props: ViewProps): ReactNode {
  const { model } = props;
  if (model.rows.size === 0) return null;
  const summary = model.summary;
  // <Static> is mounted only at the end: while mounted, every frame would bypass Ink's frame-rate limit.
  if (!summary) return <LiveArea {...props} />;
  return <Static items={[summary]}>{(ended) => <FinalReport key="final" {...props} summary={ended} />}</Static>;
}

/** What the CLI hands over: the model the events fill, and whether the run is over. */
export interface LiveStore {
  model: LiveModel;
  closing: boolean;
}

export function LiveApp({ store, colors, diffs }: { store: LiveStore; colors: boolean; diffs: boolean }): ReactNode {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [now, setNow] = useState(Date.now);
  const finalDrawn = useRef(false);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), FRAME_MS);
    return () => clearInterval(timer);
  }, []);
  // The model changes under React's feet: note what this frame draws, as its effect may run after run-end.
  const drawsFinal = store.model.summary !== undefined;
  useEffect(() => {
    // Exiting in the frame that draws the final report would draw it twice; exit in a later one.
    if (store.closing && (finalDrawn.current || !store.model.summary)) exit();
    finalDrawn.current = drawsFinal;
  });
  return <LiveView model={store.model} now={now} height={stdout.rows ?? 24} colors={colors} diffs={diffs} />;
}
