#!/usr/bin/env node
// Recipes are TypeScript loaded at run time, so the TypeScript loader is registered before anything else.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
