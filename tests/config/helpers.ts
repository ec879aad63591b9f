import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigProblem } from '../../src/config/problems.js';
import { isStamplineError, type StamplineError } from '../../src/errors.js';

export const KEY = '00112233445566778899aabbccddeeff';
export const ERP_TOKEN = 'erp-token-0123456789';
export const OPERATOR_TOKEN = 'operator-token-0123456789';

/** The smallest valid configuration: only the settings without defaults. */
export function minimal(): Record<string, Record<string, unknown>> {
  return {
    line: { id: 'line-7' },
    issuer: { number: 42, licence: 'LIC-1', key: KEY, indexBlock: { start: 1000, size: 500 } },
    auth: { erpToken: ERP_TOKEN },
    engraver: { url: 'modbus-tcp://10.0.0.5:502?unit=1' },
    mqtt: { url: 'mqtt://broker.local:1883' },
  };
}

export function tempDir(): { dir: string; write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'stampline-config-'));
  return {
    dir,
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The error thrown by `fn`, which must be a StamplineError. */
export async function failure(fn: () => unknown): Promise<StamplineError> {
  try {
    await fn();
  } catch (err) {
    if (isStamplineError(err)) return err;
    throw err;
  }
  throw new Error('expected a StamplineError, got success');
}

export function problems(err: StamplineError): ConfigProblem[] {
  return err.context.problems as ConfigProblem[];
}

/** The settings a line must give itself, as `stampline config check` names them in config/default.yaml. */
export const TEMPLATE_SET_PATHS = [
  'line.id',
  'line.dataDir',
  'issuer.number',
  'issuer.licence',
  'issuer.indexBlock',
  'engraver.url',
  'mqtt.url',
];

/** config/default.yaml's text with every `SET` given a value, as a person filling it in would. */
export function filledTemplate(text: string, dataDir: string): string {
  const values: Record<string, string> = {
    id: 'line-3',
    dataDir,
    number: '17',
    licence: '"9-99-999-99-9Z-99999"',
    indexBlock: '{ start: 5000, size: 1000 }',
  };
  let url = 0;
  return text.replace(/^(\s+)(\w+): SET$/gm, (_, indent: string, key: string) => {
    if (key === 'url')
      return `${indent}url: ${url++ === 0 ? 'modbus-tcp://10.0.0.5:502?unit=1' : 'mqtts://registry.example.org:8883'}`;
    const v = values[key];
    if (v === undefined) throw new Error(`no value for SET key ${key}`);
    return `${indent}${key}: ${v}`;
  });
}
