import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderSettingsReference, replaceGenerated } from '../../src/config/docs.js';
import { loadConfig } from '../../src/config/load.js';
import { SETTINGS } from '../../src/config/settings.js';
import { ERP_TOKEN, failure, KEY, problems } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const defaultFile = `${root}config/default.yaml`;
const demoFile = `${root}config/demo.yaml`;
const docFile = `${root}docs/configuration.md`;

describe('config/default.yaml', () => {
  it('started as shipped, lists exactly the secrets to set and where', async () => {
    const err = await failure(() => loadConfig({ file: defaultFile, env: {} }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(problems(err)).toEqual([
      { path: 'issuer.key', message: 'required: set it in the file, or with STAMPLINE_ISSUER_KEY' },
      { path: 'auth.erpToken', message: 'required: set it in the file, or with STAMPLINE_ERP_TOKEN' },
    ]);
  });

  it('is a valid real line once the secrets come from the environment', async () => {
    const config = await loadConfig({
      file: defaultFile,
      env: { STAMPLINE_ISSUER_KEY: KEY, STAMPLINE_ERP_TOKEN: ERP_TOKEN },
    });
    expect(config.line.dataDir).toBe(`${root}data`);
    expect(Object.values(config.simulators).map((s) => s.enabled)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(config.engraver.url.startsWith('modbus-tcp://127.')).toBe(false);
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
