// `--help` of the built CLI for the program and EVERY registered subcommand, enumerated from the
// commander tree (not a hand list), so a new command without a description or examples fails here.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { buildProgram, listCommands } from '../../src/cli/program.js';
import { CLI } from '../helpers/child-daemon.js';

const exec = promisify(execFile);
const program = buildProgram();
const commands = listCommands(program);

t.ok(commands.length >= 8, `the tree has the commands (${commands.map((c) => c.path).join(', ')})`);

for (const { path, command } of [{ path: '', command: program }, ...commands]) {
  t.test(`inferd ${path || '(root)'} --help`, async (t) => {
    const { stdout } = await exec(process.execPath, [CLI, ...(path ? path.split(' ') : []), '--help'], { env: { ...process.env, INFERD_CONFIG: '' } });
    t.ok(command.description().length > 10, 'the command has a description');
    t.ok(stdout.includes(command.description().split(' ').slice(0, 4).join(' ')), 'the help shows it');
    const examples = stdout.split(/^Examples:$/m)[1];
    t.ok(examples, 'an Examples section');
    const prefix = path ? `inferd ${path}` : 'inferd ';
    const lines = (examples ?? '').split('\n').filter((line) => line.trim().startsWith('$ ') && line.includes(prefix));
    t.ok(lines.length >= 1, `at least one "${prefix}" example line`);
    for (const option of command.options) t.ok(option.description.length > 0, `${option.flags} is described`);
    for (const argument of command.registeredArguments) t.ok(argument.description.length > 0, `<${argument.name()}> is described`);
  });
}
