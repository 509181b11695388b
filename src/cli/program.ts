// The `inferd` command tree, built apart from main.ts so tests can walk every registered
// subcommand (test/cli/help.test.ts) without parsing argv or starting anything.
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

export function buildProgram(): Command {
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
  return program;
}

/** Every command below `program`, depth first, with its path as typed after `inferd`. */
export function listCommands(program: Command): Array<{ path: string; command: Command }> {
  const found: Array<{ path: string; command: Command }> = [];
  const visit = (cmd: Command, prefix: string): void => {
    for (const sub of cmd.commands) {
      const path = prefix ? `${prefix} ${sub.name()}` : sub.name();
      found.push({ path, command: sub });
      visit(sub, path);
    }
  };
  visit(program, '');
  return found;
}
