#!/usr/bin/env node
// The `inferd` command. Each subcommand lives in its own file and registers itself in program.ts.
import { applyMallocPlan } from './malloc-env.js';

// Before anything else is loaded: `serve` may replace this process with one whose malloc
// environment is set (see malloc-env.ts), and loading the CLI first would be wasted.
applyMallocPlan();
const { buildProgram } = await import('./program.js');
await buildProgram().parseAsync(process.argv);
