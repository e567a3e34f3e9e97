#!/usr/bin/env node
// Entry point of the `modelsign` command: TypeScript runs through tsx, so a checkout works
// right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
