#!/usr/bin/env node
// The `inferd` command. Each subcommand lives in its own file and registers itself here.
import { Command } from 'commander';
import { registerDemoModel } from './demo-model.js';
import { registerDoctor } from './doctor.js';
import { registerEngine } from './engine.js';
import { registerImport } from './import.js';
import { registerModels } from './models.js';
import { registerPull } from './pull.js';
import { registerServe } from './serve.js';
import { registerStatus } from './status.js';

const program = new Command();
program
  .name('inferd')
  .description('Local LLM inference daemon: one GGUF model served over HTTP, SSE and Unix sockets')
  .version('0.1.0')
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
registerEngine(program);

await program.parseAsync(process.argv);
