/**
 * The daemon's logger: pino, JSON lines on standard output for log collectors, or a readable
 * single line per event when `log.pretty` is set (the demo), without an extra dependency.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export interface LogSettings {
  level: string;
  pretty: boolean;
}

function prettyLine(obj: Record<string, unknown>): string {
  const { time, level, msg, pid: _pid, hostname: _host, ...rest } = obj;
  const names: Record<number, string> = {
    10: 'TRACE',
    20: 'DEBUG',
    30: 'INFO ',
    40: 'WARN ',
    50: 'ERROR',
    60: 'FATAL',
  };
  const at = new Date(Number(time)).toISOString().slice(11, 23);
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  return `${at} ${names[Number(level)] ?? level} ${String(msg ?? '')}${extra}\n`;
}

export function createLogger(
  settings: LogSettings,
  destination: NodeJS.WritableStream = process.stdout,
): Logger {
  if (!settings.pretty) return pino({ level: settings.level, base: { pid: process.pid } }, destination);
  const stream = {
    write(line: string) {
      try {
        destination.write(prettyLine(JSON.parse(line)));
      } catch {
        destination.write(line);
      }
    },
  };
  return pino({ level: settings.level }, stream);
}
