#!/usr/bin/env node
// Entry point of the `stampline` executable. The sources are TypeScript and run through tsx's
// loader, so a clone works after `npm install` with no build step (see docs/architecture.md).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv);
