// Examples under every command's --help, kept in one place so each subcommand file stays about
// what it does. test/cli/help.test.ts fails when a registered command has none.
import type { Command } from 'commander';

/** Example lines by command path (`inferd <path> --help`); `#` starts a comment. */
const EXAMPLES: Record<string, { notes?: string; lines: string[] }> = {
  '': {
    notes:
      'Run `inferd <command> --help` for the options and examples of each command.\n' +
      'Exit codes of every command: 0 ok; 1 it ran and the answer is no (not ready, a check, a\n' +
      'download or a request failed); 2 bad usage or config, or no daemon answers.',
    lines: [
      'inferd serve                    # run the daemon with the built-in demo model',
      'inferd status                   # wait until it is ready',
      'inferd run "Say hello"          # ask it something',
      'inferd doctor                   # check config, model, llama.cpp and the daemon',
      'inferd pull                     # fetch the configured model into the store',
      'inferd models                   # what the store holds',
    ],
  },
  serve: {
    notes: 'Every flag is also a config key (INFERD_<KEY> or the config file); flags win.',
    lines: [
      'inferd serve                                  # the demo model on 127.0.0.1:47321',
      'inferd serve --model ~/models/qwen.gguf --n-ctx 4096 --parallel 2',
      'inferd serve --port 8080 --log-level debug',
      'inferd serve --config ./inferd.json',
    ],
  },
  status: {
    notes: 'Exit codes: 0 ready, 1 failed/draining/stream ended, 2 no daemon answers.',
    lines: [
      'inferd status                                 # wait for the daemon of the default config',
      'inferd status --url http://10.0.0.5:47321 --wait 60',
      'inferd status --watch --json                  # follow every status frame as NDJSON',
      'inferd status --admin-addr ~/.inferd/run/admin.sock',
    ],
  },
  doctor: {
    notes: 'Exit code 1 when a check fails.',
    lines: ['inferd doctor', 'inferd doctor --url http://127.0.0.1:8080', 'inferd doctor --config ./inferd.json'],
  },
  pull: {
    lines: [
      'inferd pull                                   # the model the config names',
      'inferd pull --url https://example.com/m.gguf --sha256 <64 hex> --name m',
      'inferd pull --url https://example.com/m.gguf --name m    # digest computed on arrival, GGUF-checked',
      'inferd pull --verify                          # re-hash what the store already has',
    ],
  },
  import: {
    lines: ['inferd import ./model.gguf --name my-model', 'inferd import ./model.gguf --name my-model --expect-sha256 <64 hex>'],
  },
  models: {
    lines: ['inferd models', 'inferd models --json', 'inferd models --reconcile'],
  },
  'demo-model': {
    lines: ['inferd demo-model --out demo.gguf', 'inferd demo-model --out tiny.gguf --variant tiny'],
  },
  engine: {
    lines: ['inferd engine build --dry-run  # which binary a build would make, and whether one exists', 'inferd engine build            # compile llama.cpp for this machine, once'],
  },
  'engine build': {
    notes: 'The build is cached where node-llama-cpp keeps local builds; `inferd serve` picks it up at\nits next start (config `engine_binary: prebuilt` opts out). `inferd doctor` shows which binary is in use.',
    lines: ['inferd engine build            # compile once, several minutes', 'inferd engine build --dry-run  # what would be built, and whether a build exists', 'inferd engine build --force    # rebuild'],
  },
  run: {
    notes:
      'In a chat, Ctrl-C stops the reply being written and keeps the conversation; Ctrl-C at an\n' +
      'empty prompt, Ctrl-D or /bye leaves; /clear forgets the conversation.\n' +
      'As with `ollama run`, stdin that is not a terminal is read to its end and sent as one prompt\n' +
      '(before the prompt argument, joined by a space); then one reply, and exit.\n' +
      'Exit codes: 0 ok, 1 the daemon answered with an error, 2 no daemon answers or bad usage.',
    lines: [
      'inferd run                                    # chat with the daemon of the default config',
      'inferd run "Name three uses of a hash map"    # one reply, then exit',
      'inferd run --url http://10.0.0.5:47321 --api-key "$KEY"',
      'cat notes.txt | inferd run "Summarise this"   # piped stdin, then the argument: one prompt',
      'inferd run "Say hi" </dev/null                # from a program that keeps stdin open',
    ],
  },
};

/** Adds the examples to the program and every (sub)command that has some. */
export function addExamples(program: Command): void {
  const visit = (cmd: Command, path: string): void => {
    const entry = EXAMPLES[path];
    if (entry) cmd.addHelpText('after', formatExamples(entry));
    for (const sub of cmd.commands) visit(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  visit(program, '');
}

function formatExamples({ notes, lines }: { notes?: string; lines: string[] }): string {
  return `${notes ? `\n${notes}\n` : ''}\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}`;
}
