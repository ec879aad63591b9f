/** `stampline config check` and `config show`, run as processes through bin/stampline.js. */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ERP_TOKEN, filledTemplate, KEY, minimal, TEMPLATE_SET_PATHS, tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}bin/stampline.js`;

/** Environment without any STAMPLINE_* variable of the developer's shell. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STAMPLINE_')));
  return { ...env, ...extra };
}

const run = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

describe('stampline config', { timeout: 240_000 }, () => {
  it('config check exits 0 with a summary for a valid file', () => {
    const r = run(['config', 'check', 'config/demo.yaml'], cleanEnv());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('config/demo.yaml: valid');
    expect(r.stdout).toMatch(
      /simulated\s+engraver \(modbus-tcp\), broker, registry, sample order, test fire/,
    );
  });

  it('config check exits 2 naming every value still SET and every missing secret of the shipped default', () => {
    const r = run(['config', 'check'], cleanEnv());
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = (r.stderr as string).trimEnd().split('\n');
    expect(lines[0]).toBe('stampline: config/default.yaml: invalid configuration, 9 problems:');
    expect(lines.slice(1).map((l) => l.trim().split(':')[0])).toEqual([
      ...TEMPLATE_SET_PATHS,
      'issuer.key',
      'auth.erpToken',
    ]);
    expect(lines[1]).toMatch(
      /^ {2}line\.id: still SET, as in the template: .*STAMPLINE_LINE_ID\) \(line \d+\)$/,
    );
  });

  it('config check reads the environment like start, unless --no-env', () => {
    const file = tmp.write(
      'line.yaml',
      filledTemplate(readFileSync(`${root}config/default.yaml`, 'utf8'), join(tmp.dir, 'data')),
    );
    const env = cleanEnv({ STAMPLINE_ISSUER_KEY: KEY, STAMPLINE_ERP_TOKEN: ERP_TOKEN });
    const r = run(['config', 'check', file], env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/from env\s+STAMPLINE_ISSUER_KEY, STAMPLINE_ERP_TOKEN/);
    expect(run(['config', 'check', '--no-env', file], env).status).toBe(2);
  });

  it('config check exits 2 naming the line of bad YAML', () => {
    const file = tmp.write('bad.yaml', 'line:\n  id: [a\n');
    const r = run(['config', 'check', file], cleanEnv());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not valid YAML:\n {2}line \d+, column \d+: /);
  });

  it('config show prints the effective configuration with secrets masked', () => {
    const doc = minimal();
    doc.mqtt = { url: 'mqtts://registry.example.org', username: 'u', password: 'broker-password' };
    const file = tmp.write('line.yaml', stringify(doc));
    chmodSync(file, 0o600);
    const r = run(['config', 'show', '--json', file], cleanEnv({ STAMPLINE_HTTP_PORT: '9191' }));
    expect(r.status).toBe(0);
    const shown = JSON.parse(r.stdout as string);
    expect(shown.http.port).toBe(9191);
    expect(shown.issuer.key).toBe('********');
    expect(shown.mqtt.password).toBe('********');
    expect(shown.engraver.reconnect).toEqual({ initialMs: 250, maxMs: 10_000 });
    expect(r.stdout).not.toContain(KEY);
    expect(r.stdout).not.toContain('broker-password');
    const yaml = run(['config', 'show', file], cleanEnv());
    expect(yaml.status).toBe(0);
    expect(yaml.stdout).toContain('key: "********"');
  });
});
