import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderSettingsReference, replaceGenerated } from '../../src/config/docs.js';
import { loadConfig } from '../../src/config/load.js';
import { SETTINGS } from '../../src/config/settings.js';
import { ERP_TOKEN, failure, filledTemplate, KEY, problems, TEMPLATE_SET_PATHS, tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const defaultFile = `${root}config/default.yaml`;
const demoFile = `${root}config/demo.yaml`;
const docFile = `${root}docs/configuration.md`;

describe('config/default.yaml', () => {
  it('started as shipped, names every value still SET and every secret to give, by path', async () => {
    const err = await failure(() => loadConfig({ file: defaultFile, env: {} }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(problems(err).map((p) => p.path)).toEqual([...TEMPLATE_SET_PATHS, 'issuer.key', 'auth.erpToken']);
    const byPath = new Map(problems(err).map((p) => [p.path, p.message]));
    expect(byPath.get('line.id')).toBe(
      "still SET, as in the template: give this line's value (in the file, or with STAMPLINE_LINE_ID)",
    );
    expect(byPath.get('issuer.licence')).toBe("still SET, as in the template: give this line's value");
    expect(byPath.get('issuer.key')).toBe('required: set it in the file, or with STAMPLINE_ISSUER_KEY');
  });

  it('marks with a SET comment exactly the values it ships as SET', () => {
    const text = readFileSync(defaultFile, 'utf8');
    expect(text.match(/^\s+# SET:/gm)).toHaveLength(TEMPLATE_SET_PATHS.length);
    expect(text.match(/^\s+\w+: SET$/gm)).toHaveLength(TEMPLATE_SET_PATHS.length);
  });

  it('refuses a SET left in place even when every other value is given', async () => {
    const filled = filledTemplate(readFileSync(defaultFile, 'utf8'), '/var/lib/stampline');
    const oneLeft = filled.replace('licence: "9-99-999-99-9Z-99999"', 'licence: SET');
    const tmp = tempDir();
    try {
      const file = tmp.write('line.yaml', oneLeft);
      const err = await failure(() =>
        loadConfig({ file, env: { STAMPLINE_ISSUER_KEY: KEY, STAMPLINE_ERP_TOKEN: ERP_TOKEN } }),
      );
      expect(problems(err)).toEqual([
        {
          path: 'issuer.licence',
          message: "still SET, as in the template: give this line's value",
          line: expect.any(Number),
          column: expect.any(Number),
        },
      ]);
    } finally {
      tmp.remove();
    }
  });

  it('is a valid real line once every SET is given and the secrets come from the environment', async () => {
    const tmp = tempDir();
    try {
      const file = tmp.write(
        'line.yaml',
        filledTemplate(readFileSync(defaultFile, 'utf8'), '/var/lib/stampline'),
      );
      const config = await loadConfig({
        file,
        env: { STAMPLINE_ISSUER_KEY: KEY, STAMPLINE_ERP_TOKEN: ERP_TOKEN },
      });
      expect(config.line.dataDir).toBe('/var/lib/stampline');
      expect(config.issuer).toMatchObject({ number: 17, licence: '9-99-999-99-9Z-99999' });
      expect(Object.values(config.simulators).map((s) => s.enabled)).toEqual([
        false,
        false,
        false,
        false,
        false,
      ]);
      expect(config.engraver.url.startsWith('modbus-tcp://127.')).toBe(false);
    } finally {
      tmp.remove();
    }
  });

  it('mentions every setting of the schema', () => {
    const text = readFileSync(defaultFile, 'utf8');
    const missing = SETTINGS.filter((s) => !new RegExp(`\\b${s.segments.at(-1)}:`).test(text)).map(
      (s) => s.path,
    );
    expect(missing).toEqual([]);
  });
});

describe('config/demo.yaml', () => {
  it('is valid on its own, with every simulator on and the demo data folder', async () => {
    const config = await loadConfig({ file: demoFile, env: {} });
    expect(Object.values(config.simulators).map((s) => s.enabled)).toEqual([true, true, true, true, true]);
    expect(config.line.dataDir).toBe(`${root}data/demo`);
    expect(new URL(config.engraver.url).hostname).toBe('127.0.0.1');
    expect(new URL(config.mqtt.url).hostname).toBe('127.0.0.1');
  });

  it('marks its published secrets as demo only', () => {
    const lines = readFileSync(demoFile, 'utf8').split('\n');
    for (const key of ['key:', 'erpToken:']) {
      const at = lines.findIndex((l) => l.trim().startsWith(key));
      expect(lines.slice(Math.max(0, at - 2), at).join('\n')).toContain('DEMO ONLY');
    }
  });
});

describe('docs/configuration.md', () => {
  it('holds the settings reference generated from the schema (npm run docs:config)', () => {
    const doc = readFileSync(docFile, 'utf8');
    expect(doc).toBe(replaceGenerated(doc, renderSettingsReference()));
  });

  it('describes every setting', () => {
    expect(SETTINGS.filter((s) => s.description.trim() === '').map((s) => s.path)).toEqual([]);
  });

  it('lists every environment variable and the precedence', () => {
    const doc = readFileSync(docFile, 'utf8');
    for (const v of [
      'STAMPLINE_CONFIG',
      'STAMPLINE_DATA_DIR',
      'STAMPLINE_HTTP_PORT',
      'STAMPLINE_MQTT_URL',
      'STAMPLINE_ENGRAVER_URL',
      'STAMPLINE_ISSUER',
      'STAMPLINE_ISSUER_KEY',
      'STAMPLINE_LINE_ID',
      'STAMPLINE_INDEX_BLOCK',
      'STAMPLINE_ERP_TOKEN',
      'STAMPLINE_OPERATOR_TOKEN',
      'STAMPLINE_QA_TOKEN',
    ]) {
      expect(doc).toMatch(new RegExp(`\\| \`${v}\` +\\|`));
    }
    expect(doc).toContain('## Where settings come from');
  });
});
