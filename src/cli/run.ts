// `inferd run [prompt]`: chat with the running daemon from a terminal. Replies stream from
// POST /infer; the conversation is kept across turns. Ctrl-C stops the reply being written and
// returns to the prompt; Ctrl-C at an empty prompt, Ctrl-D or /bye leaves. With a prompt
// argument: one reply, then exit. Stdin that is not a terminal is read to its end and sent as one
// prompt, before the prompt argument if there is one, as `ollama run` does
// (`cat notes.txt | inferd run "summarise this"`).
import { createInterface, type Interface } from 'node:readline';
import type { Command } from 'commander';
import { request } from 'undici';
import { readNdjson } from '../protocol/ndjson-reader.js';
import type { V1Frame, V1Message } from '../protocol/v1.js';
import { EXIT, loadConfigOrExit, withConfigOption } from './common.js';

interface RunFlags {
  config?: string;
  url?: string;
  host?: string;
  port?: string;
  apiKey?: string;
  system?: string;
  maxTokens?: string;
  temperature?: string;
  seed?: string;
  grammar?: string;
}

/** The answer to one turn: the text written, and why it ended. */
type Reply = { kind: 'done' | 'stopped'; text: string } | { kind: 'error'; text: string; message: string; exit: number };

export function registerRun(program: Command): void {
  withConfigOption(
    program
      .command('run')
      .description('chat with the running daemon in the terminal (streamed); with a prompt or piped stdin: one reply, then exit')
      .argument('[prompt]', 'ask this once and exit instead of starting a chat')
      .option('--url <url>', 'daemon base URL (default from config: http://<host>:<port>)')
      .option('--host <address>', 'daemon address (default from config)')
      .option('--port <port>', 'daemon port (default from config)')
      .option('--api-key <key>', 'API key sent as Authorization: Bearer (default $INFERD_API_KEY)')
      .option('--system <text>', 'system message that starts the conversation')
      .option('--max-tokens <n>', 'longest reply in tokens', '1000')
      .option('--temperature <t>', 'sampling temperature (0 is greedy)')
      .option('--seed <n>', 'seed for reproducible sampling')
      .option('--grammar <gbnf>', 'constrain every reply with this GBNF grammar'),
  )
    .action(async (prompt: string | undefined, flags: RunFlags) => {
      process.exit(await runChat(prompt, flags));
    });
}

async function runChat(prompt: string | undefined, flags: RunFlags): Promise<number> {
  const options = requestOptions(flags);
  if (typeof options === 'number') return options;
  const history: V1Message[] = flags.system ? [{ role: 'system', content: flags.system }] : [];
  let current: AbortController | null = null;
  // Ctrl-C stops the reply in progress and nothing else; with no reply running it leaves.
  const interrupt = (exit: () => void): void => {
    if (current) current.abort();
    else exit();
  };

  if (prompt !== undefined || !process.stdin.isTTY) {
    // One question, one reply. Ctrl-C stops the reply (exit 0 with what was shown), or leaves
    // with 130 while stdin is still being read.
    process.on('SIGINT', () => interrupt(() => process.exit(130)));
    // As `ollama run`: piped stdin first, then the argument, joined by a space. Empty stdin adds
    // nothing.
    const piped = process.stdin.isTTY ? '' : await readAll(process.stdin);
    const question = [piped, prompt].filter((part): part is string => Boolean(part)).join(' ');
    if (question === '') return EXIT.ok; // nothing to ask (`inferd run </dev/null`), as ollama
    current = new AbortController();
    const reply = await ask(options, [...history, { role: 'user', content: question }], current.signal);
    current = null;
    return reply.kind === 'error' ? reply.exit : EXIT.ok;
  }

  // Stdin is a terminal here; with stdout redirected the chat runs without prompt or banner.
  const tty = Boolean(process.stdout.isTTY);
  const rl: Interface = createInterface({ input: process.stdin, ...(tty ? { output: process.stdout, prompt: '>>> ' } : {}), terminal: tty });
  let leaving = false;
  const leave = (): void => {
    leaving = true;
    rl.close();
  };
  // In a terminal readline reads Ctrl-C as a key; otherwise it arrives as a signal.
  rl.on('SIGINT', () => {
    if (current || rl.line.length === 0) interrupt(leave);
    else {
      rl.write(null, { ctrl: true, name: 'u' }); // clear the line, as shells do
      process.stdout.write('\n');
      rl.prompt();
    }
  });
  process.on('SIGINT', () => interrupt(leave));
  if (tty) process.stdout.write('Chatting with inferd. Ctrl-C stops a reply; Ctrl-D or /bye leaves.\n');

  let exitCode: number = EXIT.ok;
  const lines = rl[Symbol.asyncIterator]();
  // Ctrl-D (or leaving) stops a reply in progress; lines already read are still answered.
  rl.on('close', () => current?.abort());
  while (!leaving) {
    if (tty) rl.prompt();
    const next = await lines.next();
    if (next.done) break;
    const line = next.value.trim();
    if (line === '') continue;
    if (line === '/bye') break;
    if (line === '/clear') {
      history.splice(flags.system ? 1 : 0);
      if (tty) process.stdout.write('(conversation cleared)\n');
      continue;
    }
    history.push({ role: 'user', content: line });
    current = new AbortController();
    const reply = await ask(options, history, current.signal);
    current = null;
    if (reply.kind === 'stopped' && tty) process.stdout.write('(stopped)\n');
    if (reply.kind === 'error') {
      history.pop(); // the question was not answered: do not send it again
      exitCode = reply.exit;
      if (reply.exit === EXIT.usage) break; // nobody answers: no point in asking again
      continue;
    }
    // A stopped reply stays in the conversation as far as it was shown.
    history.push({ role: 'assistant', content: reply.text });
  }
  rl.close();
  return exitCode;
}

interface RequestOptions {
  url: string;
  headers: Record<string, string>;
  body: { max_tokens: number; temperature?: number; seed?: number; grammar?: string };
}

function requestOptions(flags: RunFlags): RequestOptions | number {
  const maxTokens = Number(flags.maxTokens ?? 1000);
  const temperature = flags.temperature === undefined ? undefined : Number(flags.temperature);
  const seed = flags.seed === undefined ? undefined : Number(flags.seed);
  if (!Number.isInteger(maxTokens) || maxTokens < 1) return usage(`--max-tokens must be a positive integer (got "${flags.maxTokens}")`);
  if (temperature !== undefined && !(temperature >= 0)) return usage(`--temperature must be a number >= 0 (got "${flags.temperature}")`);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0)) return usage(`--seed must be an integer >= 0 (got "${flags.seed}")`);
  const apiKey = flags.apiKey ?? process.env.INFERD_API_KEY;
  return {
    url: baseUrl(flags),
    headers: {
      'content-type': 'application/json',
      accept: 'application/x-ndjson',
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
    },
    body: {
      max_tokens: maxTokens,
      ...(temperature === undefined ? {} : { temperature }),
      ...(seed === undefined ? {} : { seed }),
      ...(flags.grammar ? { grammar: flags.grammar } : {}),
    },
  };
}

function baseUrl(flags: RunFlags): string {
  if (flags.url) return flags.url.replace(/\/+$/, '');
  const config = flags.host && flags.port ? null : loadConfigOrExit(flags.config).config;
  let host = flags.host ?? config!.host;
  if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${flags.port ?? config!.port}`;
}

function usage(message: string): number {
  process.stderr.write(`inferd: ${message}\n`);
  return EXIT.usage;
}

/** Sends the conversation and writes the reply to stdout as it streams. */
async function ask(options: RequestOptions, messages: V1Message[], signal: AbortSignal): Promise<Reply> {
  let text = '';
  const fail = (message: string, exit: number): Reply => {
    if (text) process.stdout.write('\n');
    process.stderr.write(`inferd: ${message}\n`);
    return { kind: 'error', text, message, exit };
  };
  let res;
  try {
    res = await request(`${options.url}/infer`, {
      method: 'POST',
      headers: options.headers,
      body: JSON.stringify({ messages, ...options.body }),
      signal,
      bodyTimeout: 0,
    });
  } catch (err) {
    if (signal.aborted) return { kind: 'stopped', text };
    return fail(`no inferd answers at ${options.url}: ${(err as Error).message}`, EXIT.usage);
  }
  try {
    if (!(res.headers['content-type'] ?? '').includes('ndjson')) {
      const body = await res.body.text();
      return fail(`${options.url}/infer answered HTTP ${res.statusCode}: ${describeError(body)}`, EXIT.failed);
    }
    for await (const item of readNdjson(res.body)) {
      if (item.kind === 'error') throw item.error;
      const frame = item.value as V1Frame;
      if (frame.type === 'token') {
        text += frame.content;
        process.stdout.write(frame.content);
      } else if (frame.type === 'done') {
        process.stdout.write('\n');
        return { kind: frame.stop_reason === 'cancelled' ? 'stopped' : 'done', text };
      } else {
        return fail(`${frame.code}: ${frame.message}`, EXIT.failed);
      }
    }
    return fail('the reply ended without a done frame', EXIT.failed);
  } catch (err) {
    if (signal.aborted) {
      if (text) process.stdout.write('\n');
      return { kind: 'stopped', text };
    }
    return fail(`the reply broke off: ${(err as Error).message}`, EXIT.failed);
  } finally {
    // We stop reading at the done frame, before the body's end. Destroying a body that has not
    // ended makes undici emit an abort error on it a tick later; with nobody listening that error
    // killed the process (exit 1) right after a finished reply in a chat. It means nothing here.
    res.body.on('error', () => undefined);
    res.body.destroy();
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The message of a JSON error body, or the body itself. */
function describeError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { code?: string; message?: string; error?: { message?: string } };
    if (parsed.code && parsed.message) return `${parsed.code}: ${parsed.message}`;
    return parsed.message ?? parsed.error?.message ?? body;
  } catch {
    return body.slice(0, 200);
  }
}
