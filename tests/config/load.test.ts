import { chmodSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig, parseConfig, readConfig, resolveConfigFile } from '../../src/config/load.js';
import { ERP_TOKEN, failure, KEY, minimal, OPERATOR_TOKEN, problems, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

function writeConfig(doc: unknown, name = 'line.yaml'): string {
  return tmp.write(name, stringify(doc));
}

describe('reading the file', () => {
  it('resolves relative paths against the folder of the file', async () => {
    mkdirSync(join(tmp.dir, 'etc'));
    const ca = tmp.write('ca.pem', 'x');
    const doc = minimal();
    doc.line!.dataDir = 'state';
    doc.mqtt = { url: 'mqtts://registry.example.org', tls: { ca: '../ca.pem' } };
    doc.erp = { dropFolder: { path: '/srv/erp/in' } };
    doc.simulators = { engraver: { journal: 'journal.jsonl' } };
    const file = writeConfig(doc, 'etc/line.yaml');
    const config = await loadConfig({ file, env: {}, cwd: '/' });
    expect(config.line.dataDir).toBe(join(tmp.dir, 'etc/state'));
    expect(config.mqtt.tls.ca).toBe(ca);
    expect(config.erp.dropFolder?.path).toBe('/srv/erp/in');
    expect(config.simulators.engraver.journal).toBe(join(tmp.dir, 'etc/journal.jsonl'));
    expect(config.simulators.registry.file).toBe(join(tmp.dir, 'etc/state/simulated-registry.jsonl'));
  });

  it('takes an empty value or an empty section as not set', async () => {
    const file = tmp.write(
      'line.yaml',
      `${stringify(minimal())}\nhttp:\nlog:\n  level:\nerp:\n  dropFolder:\nsimulators:\n  # engraver:\n  #   enabled: true\n`,
    );
    const config = await loadConfig({ file, env: {} });
    expect(config.http.port).toBe(8080);
    expect(config.log.level).toBe('info');
    expect(config.erp.dropFolder).toBeNull();
    expect(config.simulators.engraver.enabled).toBe(false);
  });

  it('names the file of STAMPLINE_CONFIG, and prefers the file it is given', async () => {
    const named = writeConfig(minimal(), 'named.yaml');
    const other = minimal();
    other.line!.id = 'other';
    const given = writeConfig(other, 'given.yaml');
    const env = { STAMPLINE_CONFIG: 'named.yaml' };
    expect(resolveConfigFile({ env, cwd: tmp.dir })).toBe(named);
    expect((await readConfig({ env, cwd: tmp.dir })).file).toBe(named);
    expect((await loadConfig({ env, cwd: tmp.dir })).line.id).toBe('line-7');
    expect((await loadConfig({ file: given, env, cwd: tmp.dir })).line.id).toBe('other');
    expect(resolveConfigFile({ env: {}, cwd: tmp.dir })).toBe(join(tmp.dir, 'config/default.yaml'));
  });

  it('reports a missing file as CONFIG_UNREADABLE naming it and who named it', async () => {
    const err = await failure(() => loadConfig({ env: { STAMPLINE_CONFIG: 'nope.yaml' }, cwd: tmp.dir }));
    expect(err.code).toBe('CONFIG_UNREADABLE');
    expect(err.message).toContain('nope.yaml');
    expect(err.message).toContain('STAMPLINE_CONFIG');
    expect(err.message).toContain('no such file');
    expect(err.context.file).toBe(join(tmp.dir, 'nope.yaml'));
    const dir = await failure(() => loadConfig({ file: tmp.dir, env: {} }));
    expect(dir.code).toBe('CONFIG_UNREADABLE');
    expect(dir.message).toContain('folder');
  });

  it('reports bad YAML as CONFIG_UNREADABLE with the line and column', async () => {
    const file = tmp.write('bad.yaml', 'line:\n  id: a\nissuer:\n  number: [1, 2\n');
    const err = await failure(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('CONFIG_UNREADABLE');
    expect(err.message).toContain('bad.yaml');
    expect(err.message).toMatch(/not valid YAML:\n {2}line \d+, column \d+: /);
    expect(err.context.line).toBeGreaterThanOrEqual(4);
    expect(err.context.column).toBeGreaterThan(0);
  });

  it('reports a key given twice with the line of the second one', async () => {
    const file = tmp.write('dup.yaml', 'line:\n  id: a\n  id: b\n');
    const err = await failure(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('CONFIG_UNREADABLE');
    expect(err.context.line).toBe(3);
    expect(err.message).toMatch(/unique/i);
  });

  it('lists every problem with the line it is on', async () => {
    const file = tmp.write(
      'line.yaml',
      [
        'line:',
        '  id: line-7',
        'issuer:',
        '  number: 9999',
        '  licence: L',
        `  key: "${KEY}"`,
        '  indexBlock: { start: 0, size: 10 }',
        'auth:',
        `  erpToken: ${ERP_TOKEN}`,
        'engraver:',
        '  url: http://laser',
        '  mirorr: true',
        'mqtt:',
        '  url: mqtt://broker',
        '',
      ].join('\n'),
    );
    const err = await failure(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(problems(err)).toEqual([
      { path: 'issuer.number', message: 'must be at most 4095', line: 4, column: 3 },
      {
        path: 'engraver.url',
        message: 'must start with modbus-tcp://, modbus-rtu:// or ascii-serial://',
        line: 11,
        column: 3,
      },
      { path: 'engraver.mirorr', message: 'unknown setting; did you mean mirror?', line: 12, column: 3 },
    ]);
    expect(err.message).toBe(
      [
        'line.yaml: invalid configuration, 3 problems:',
        '  issuer.number: must be at most 4095 (line 4)',
        '  engraver.url: must start with modbus-tcp://, modbus-rtu:// or ascii-serial:// (line 11)',
        '  engraver.mirorr: unknown setting; did you mean mirror? (line 12)',
      ]
        .join('\n')
        .replace('line.yaml', file),
    );
  });

  it('says a file that is not a mapping must be one', async () => {
    const file = tmp.write('list.yaml', '- a\n- b\n');
    const err = await failure(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(problems(err)[0]!.message).toContain('must be a mapping');
  });
});

describe('environment overrides', () => {
  const cases: [string, string, (c: Awaited<ReturnType<typeof loadConfig>>) => unknown, unknown][] = [
    ['STAMPLINE_DATA_DIR', 'var/line', (c) => c.line.dataDir, '(cwd)/var/line'],
    ['STAMPLINE_HTTP_PORT', '9090', (c) => c.http.port, 9090],
    [
      'STAMPLINE_MQTT_URL',
      'mqtts://registry.example.org:8883',
      (c) => c.mqtt.url,
      'mqtts://registry.example.org:8883',
    ],
    [
      'STAMPLINE_ENGRAVER_URL',
      'ascii-serial:///dev/ttyS1',
      (c) => c.engraver.url,
      'ascii-serial:///dev/ttyS1',
    ],
    ['STAMPLINE_ISSUER', '4095', (c) => c.issuer.number, 4095],
    ['STAMPLINE_ISSUER_KEY', 'ffffffffffffffffffffffffffffffff', (c) => c.issuer.key, 'f'.repeat(32)],
    ['STAMPLINE_LINE_ID', 'line-9', (c) => c.line.id, 'line-9'],
    ['STAMPLINE_INDEX_BLOCK', '2000:300', (c) => c.issuer.indexBlock, { start: 2000, size: 300 }],
    ['STAMPLINE_ERP_TOKEN', 'another-erp-token-123', (c) => c.auth.erpToken, 'another-erp-token-123'],
    ['STAMPLINE_OPERATOR_TOKEN', OPERATOR_TOKEN, (c) => c.auth.operatorToken, OPERATOR_TOKEN],
    ['STAMPLINE_QA_TOKEN', 'a-qa-station-token-42', (c) => c.auth.qaToken, 'a-qa-station-token-42'],
  ];

  it.each(cases)('%s overrides its setting', async (variable, value, read, expected) => {
    const file = writeConfig(minimal());
    const cwd = join(tmp.dir, 'cwd');
    const before = await loadConfig({ file, env: {}, cwd });
    const config = await loadConfig({ file, env: { [variable]: value }, cwd });
    const want = typeof expected === 'string' ? expected.replace('(cwd)', cwd) : expected;
    expect(read(before)).not.toEqual(want);
    expect(read(config)).toEqual(want);
    expect((await readConfig({ file, env: { [variable]: value }, cwd })).variables).toEqual([variable]);
  });

  it('replaces one setting and keeps the rest of its section from the file', async () => {
    const doc = minimal();
    doc.http = { host: '0.0.0.0', port: 8000 };
    const config = await loadConfig({ file: writeConfig(doc), env: { STAMPLINE_HTTP_PORT: '8001' } });
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 8001 });
  });

  it('supplies settings missing from the file', async () => {
    const doc = minimal();
    delete doc.issuer!.key;
    delete doc.auth;
    const env = { STAMPLINE_ISSUER_KEY: KEY, STAMPLINE_ERP_TOKEN: ERP_TOKEN };
    const config = await loadConfig({ file: writeConfig(doc), env });
    expect(config.issuer.key).toBe(KEY);
    expect(config.auth.erpToken).toBe(ERP_TOKEN);
  });

  it('takes an empty variable as unset, and trims spaces', async () => {
    const config = await loadConfig({
      file: writeConfig(minimal()),
      env: { STAMPLINE_HTTP_PORT: '', STAMPLINE_LINE_ID: '  line-8 \n' },
    });
    expect(config.http.port).toBe(8080);
    expect(config.line.id).toBe('line-8');
  });

  it('reports each bad value by the name of its variable, with the other problems', async () => {
    const doc = minimal();
    doc.engraver = { url: 'tcp://laser' };
    const err = await failure(() =>
      loadConfig({
        file: writeConfig(doc),
        env: {
          STAMPLINE_HTTP_PORT: 'eighty',
          STAMPLINE_INDEX_BLOCK: '5',
          STAMPLINE_ISSUER: '5000',
          STAMPLINE_MQTT_URL: 'amqp://broker',
        },
      }),
    );
    expect(problems(err)).toEqual([
      {
        variable: 'STAMPLINE_INDEX_BLOCK',
        path: 'issuer.indexBlock',
        message: expect.stringContaining('START:SIZE'),
      },
      {
        variable: 'STAMPLINE_HTTP_PORT',
        path: 'http.port',
        message: 'must be a whole number (got "eighty")',
      },
      { variable: 'STAMPLINE_ISSUER', path: 'issuer.number', message: 'must be at most 4095' },
      {
        path: 'engraver.url',
        message: expect.stringContaining('must start with'),
        line: expect.any(Number),
        column: 3,
      },
      { variable: 'STAMPLINE_MQTT_URL', path: 'mqtt.url', message: expect.stringContaining('mqtt://') },
    ]);
    expect(err.message).toContain(
      '\n  STAMPLINE_HTTP_PORT (http.port): must be a whole number (got "eighty")',
    );
    expect(err.message).toContain('\n  STAMPLINE_ISSUER (issuer.number): must be at most 4095');
  });

  it('never repeats the value of a secret variable', async () => {
    const secretish = 'NOT-HEX-BUT-SECRET-VALUE-1234567';
    const err = await failure(() =>
      loadConfig({
        file: writeConfig(minimal()),
        env: { STAMPLINE_ISSUER_KEY: secretish, STAMPLINE_OPERATOR_TOKEN: 'short-secret' },
      }),
    );
    expect(problems(err).map((p) => p.variable)).toEqual([
      'STAMPLINE_ISSUER_KEY',
      'STAMPLINE_OPERATOR_TOKEN',
    ]);
    expect(JSON.stringify(err.context)).not.toContain(secretish);
    expect(err.message).not.toContain(secretish);
    expect(err.message).not.toContain('short-secret');
  });
});

describe('overrides from the program', () => {
  it('win over the environment and the file, and null restores the default', async () => {
    const doc = minimal();
    doc.http = { port: 8000, host: '0.0.0.0' };
    const config = await loadConfig({
      file: writeConfig(doc),
      env: { STAMPLINE_HTTP_PORT: '8001' },
      overrides: { http: { port: 8002, host: null }, line: { dataDir: 'rel' } },
      cwd: '/work/x',
    });
    expect(config.http.port).toBe(8002);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.line.dataDir).toBe(resolve('/work/x', 'rel'));
  });

  it('are checked like the file, without a line number', async () => {
    const err = await failure(() => parseConfig(minimal(), { overrides: { http: { port: -1 } } }));
    expect(problems(err)).toEqual([{ path: 'http.port', message: 'must be at least 0' }]);
  });

  it('are not read from the environment by parseConfig unless it is given one', () => {
    const before = process.env.STAMPLINE_HTTP_PORT;
    process.env.STAMPLINE_HTTP_PORT = '1234';
    try {
      expect(parseConfig(minimal()).http.port).toBe(8080);
      expect(parseConfig(minimal(), { env: process.env }).http.port).toBe(1234);
    } finally {
      if (before === undefined) delete process.env.STAMPLINE_HTTP_PORT;
      else process.env.STAMPLINE_HTTP_PORT = before;
    }
  });
});

describe('warnings', () => {
  it('warns of a file with secrets that other users can read', async () => {
    if (process.platform === 'win32') return;
    const file = writeConfig(minimal());
    chmodSync(file, 0o644);
    const open = await readConfig({ file, env: {} });
    expect(open.warnings.join('\n')).toMatch(/issuer\.key, auth\.erpToken.*other users can read it/);
    chmodSync(file, 0o600);
    expect((await readConfig({ file, env: {} })).warnings).toEqual([]);
  });

  it('warns of unchecked certificates and of a password sent in clear', async () => {
    const doc = minimal();
    doc.mqtt = { url: 'mqtt://registry.example.org', username: 'u', password: 'p' };
    const file = writeConfig(doc);
    chmodSync(file, 0o600);
    expect((await readConfig({ file, env: {} })).warnings).toEqual([
      'mqtt.password is sent unencrypted to registry.example.org: use mqtts:// or wss://',
    ]);
    doc.mqtt = { url: 'mqtts://registry.example.org', tls: { rejectUnauthorized: false } };
    const tls = writeConfig(doc, 'tls.yaml');
    chmodSync(tls, 0o600);
    expect((await readConfig({ file: tls, env: {} })).warnings).toEqual([
      "mqtt.tls.rejectUnauthorized is false: the broker's certificate is not checked",
    ]);
  });
});
