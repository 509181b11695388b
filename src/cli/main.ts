#!/usr/bin/env node
// The `inferd` command. Each subcommand lives in its own file and registers itself here.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerDemoModel } from './demo-model.js';
import { registerDoctor } from './doctor.js';
import { addExamples } from './help.js';
import { registerEngine } from './engine.js';
import { registerImport } from './import.js';
import { registerModels } from './models.js';
import { registerPull } from './pull.js';
import { registerRun } from './run.js';
import { registerServe } from './serve.js';
import { registerStatus } from './status.js';

// The version of the installed package: package.json sits above dist/ (or above src/ in a checkout).
const packageJson = new URL(import.meta.url.includes('/dist/') ? '../../../package.json' : '../../package.json', import.meta.url);
const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };

const program = new Command();
program
  .name('inferd')
  .description('Local LLM inference daemon: one GGUF model served over HTTP, SSE and Unix sockets')
  .version(version)
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own usage errors exit 2, like our config errors.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

// Subcommand registrations (one line each).
registerServe(program);
registerStatus(program);
registerDoctor(program);
registerPull(program);
registerImport(program);
registerModels(program);
registerDemoModel(program);
registerRun(program);
registerEngine(program);

// After every registration, so each command gets its examples.
addExamples(program);

await program.parseAsync(process.argv);
