// The process logger: pino on stderr. Human lines (pino-pretty, through pino's transport, so
// formatting runs off the main thread) when stderr is a terminal or `log_format` is `pretty`;
// JSON lines otherwise, which is what log collectors and `inferd serve 2>file` want.
import { pino, type Logger } from 'pino';
import type { InferdConfig } from '../config/schema.js';
import { safeLoggerOptions } from '../guard/log-safety.js';

export type LogFormat = 'pretty' | 'json';

/** `auto` picks pretty on a terminal. The logs go to stderr, so that is the stream checked. */
export function resolveLogFormat(setting: InferdConfig['log_format'], isTty = process.stderr.isTTY === true): LogFormat {
  if (setting === 'auto') return isTty ? 'pretty' : 'json';
  return setting;
}

export function createLogger(config: Pick<InferdConfig, 'log_level' | 'log_format'>): Logger {
  // Keys and tickets never reach the log, whatever the format.
  const options = { level: config.log_level, name: 'inferd', ...safeLoggerOptions };
  if (resolveLogFormat(config.log_format) === 'json') return pino(options, pino.destination(2));
  return pino({
    ...options,
    transport: {
      target: 'pino-pretty',
      options: { destination: 2, colorize: process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' },
    },
  });
}
