// Unit tests apply through a real shell on this machine. Their apply lease and owed notifications go to a
// directory of each test file's own, so they need no root, leave /var/lib/keel alone and never meet another
// file's lease.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const directory = mkdtempSync(join(tmpdir(), 'keel-state-'));
process.env.KEEL_STATE_DIR = directory;
afterAll(() => rmSync(directory, { recursive: true, force: true }));
