#!/usr/bin/env node
// Lab hosts by hand: `npm run hosts -- up 3`, `npm run hosts -- down`, `npm run hosts -- status`.
import { register } from 'tsx/esm/api';

register();
await import('../src/lab/cliHosts.ts');
