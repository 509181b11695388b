// `inferd demo-model --out FILE`: write the built-in demo model, e.g. to try it elsewhere.
import type { Command } from 'commander';
import { writeDemoModel, type DemoVariant } from '../demo-model/index.js';
import { EXIT, reportError } from './common.js';

export function registerDemoModel(program: Command): void {
  program
    .command('demo-model')
    .description('write the built-in demo model (a deterministic GGUF file) to a file')
    .requiredOption('--out <file>', 'where to write the GGUF file')
    .option('--variant <name>', 'default, or tiny (the small model the tests use)', 'default')
    .action(async (options: { out: string; variant: string }) => {
      if (options.variant !== 'default' && options.variant !== 'tiny') {
        process.stderr.write(`inferd: --variant must be default or tiny (got "${options.variant}")\n`);
        process.exit(EXIT.usage);
      }
      try {
        const written = await writeDemoModel(options.out, options.variant as DemoVariant);
        process.stdout.write(`${JSON.stringify(written)}\n`);
      } catch (err) {
        process.exit(reportError(err));
      }
    });
}
