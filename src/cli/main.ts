#!/usr/bin/env node
// The `inferd` command. Each subcommand lives in its own file and registers itself here.
import { Command } from 'commander';
import { registerImport } from './import.js';
import { registerModels } from './models.js';
import { registerPull } from './pull.js';
import { registerDemoModel } from './demo-model.js';
import { registerServe } from './serve.js';

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
registerPull(program);
registerImport(program);
registerModels(program);
registerServe(program);
registerDemoModel(program);

await program.parseAsync(process.argv);
