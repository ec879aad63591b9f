import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { recipeFor } from '../../src/config/recipes.js';
import { ERP_TOKEN, failure, KEY, minimal, problems } from './helpers.js';

const base = '/srv/line';
/** A file that exists, for settings that must name one. */
const someFile = fileURLToPath(import.meta.url);
const SHIPPED_PROFILE = fileURLToPath(new URL('../../config/profiles/sl1-modbus.yaml', import.meta.url));

function parsedWith(patch: Patch) {
  return parseConfig(patched(patch), { baseDir: base });
}

type Patch = Record<string, unknown>;
type Case = [string, Patch, string, string];

/** `minimal()` with `patch` merged in: mappings merge, anything else replaces. */
function patched(patch: Patch): Patch {
  const isMapping = (v: unknown): v is Patch => typeof v === 'object' && v !== null && !Array.isArray(v);
  const merge = (target: Patch, p: Patch): Patch => {
    for (const [k, v] of Object.entries(p)) {
      const t = target[k];
      target[k] = isMapping(v) && isMapping(t) ? merge(t, v) : v;
    }
    return target;
  };
  return merge(minimal(), patch);
}

async function problemsOf(input: unknown) {
  const err = await failure(() => parseConfig(input, { baseDir: base }));
  expect(err.code).toBe('CONFIG_INVALID');
  return problems(err);
}

describe('defaults', () => {
  it('fills in every setting that is not given', () => {
    const config = parseConfig(minimal(), { baseDir: base });
    expect(config).toEqual({
      line: { id: 'line-7', name: 'line-7', dataDir: resolve(base, 'data') },
      issuer: {
        number: 42,
        kind: 'manufacturer',
        licence: 'LIC-1',
        key: KEY,
        indexBlock: { start: 1000, size: 500 },
      },
      http: { host: '127.0.0.1', port: 8080, trustProxy: false },
      auth: { erpToken: ERP_TOKEN, sessionTtlMinutes: 480 },
      engraver: {
        url: 'modbus-tcp://10.0.0.5:502?unit=1',
        id: 'line-7-engraver',
        profile: 'sl1-modbus',
        requestTimeoutMs: 1000,
        reconnect: { initialMs: 250, maxMs: 10_000 },
        jobTimeoutMs: 30_000,
        mirror: true,
        target: 'firing-pin',
      },
      recipes: { default: { power: 800, frequency: 30, speed: 200, passes: 3 }, models: [] },
      mqtt: {
        url: 'mqtt://broker.local:1883',
        protocolVersion: 4,
        clientId: 'stampline-42-line-7',
        tls: { rejectUnauthorized: true },
        keepaliveSeconds: 30,
        reconnectMs: 2000,
        resendAfterMs: 60_000,
        window: 500,
      },
      erp: { dropFolder: null },
      qa: {
        policy: { kind: 'every-case', cases: 3, minGrade: 'C' },
        registry: { issuedCodes: 10_000_000 },
        imageFolder: null,
      },
      alarms: { qaWindow: 50, qaMinVerdicts: 20, qaFailShare: 0.2, codesLeftBelow: 1000 },
      simulators: {
        engraver: { enabled: false, transport: 'modbus-tcp', port: 1502, markingTimeMs: 1500 },
        broker: { enabled: false, port: 1883 },
        registry: { enabled: false, file: resolve(base, 'data/simulated-registry.jsonl') },
        sampleOrder: { enabled: false, firearms: 10, autoStart: true },
        testfire: {
          enabled: false,
          delayMs: 2000,
          charIllegible: 0.03,
          charMisread: 0.01,
          toothIllegible: 0.04,
          toothFlipped: 0.005,
          gearMissing: 0.01,
          lacqueredFactor: 2.5,
          lacqueredShare: 0.2,
          brands: ['Federal HST', 'Winchester White Box', 'Remington UMC', 'Blazer Brass', 'Fiocchi'],
          seed: 1,
          imageLevel: null,
        },
      },
      log: { level: 'info', pretty: false },
    });
  });

  it("takes the register map from the URL's profile= when the setting is absent", () => {
    const c = parsedWith({ engraver: { url: 'modbus-tcp://10.0.0.5:502?unit=1&profile=sl1-modbus' } });
    expect(c.engraver.profile).toBe('sl1-modbus');
    const file = parsedWith({ engraver: { profile: SHIPPED_PROFILE } });
    expect(file.engraver.profile).toBe(SHIPPED_PROFILE);
  });

  it('fills the defaults of the chosen QA policy', () => {
    const ca = parseConfig(patched({ qa: { policy: { kind: 'ca-4075' } } }));
    expect(ca.qa.policy).toEqual({ kind: 'ca-4075', rounds: 100 });
    const pooled = parseConfig(patched({ qa: { policy: { kind: 'pooled', minGrade: 'B' } } }));
    expect(pooled.qa.policy).toEqual({ kind: 'pooled', cases: 3, minGrade: 'B' });
  });

  it('takes the registry ca-4075 judges against, and refuses one that cannot be', () => {
    const c = parseConfig(patched({ qa: { registry: { issuedCodes: 1_000_000, issuers: 300 } } }));
    expect(c.qa.registry).toEqual({ issuedCodes: 1_000_000, issuers: 300 });
    expect(() => parseConfig(patched({ qa: { registry: { issuedCodes: 0 } } }))).toThrow(
      /qa\.registry\.issuedCodes/,
    );
    expect(() => parseConfig(patched({ qa: { registry: { issuers: 5000 } } }))).toThrow(
      /qa\.registry\.issuers/,
    );
  });

  it("takes the QA image folder with its defaults, refuses one without the bench's ammunition, and the test fire's image level", () => {
    expect(parsedWith({}).qa.imageFolder).toBeNull();
    const c = parsedWith({ qa: { imageFolder: { path: 'images', brand: 'Federal HST' } } });
    expect(c.qa.imageFolder).toEqual({
      path: '/srv/line/images',
      pollMs: 1000,
      settleMs: 2000,
      completion: 'settle',
      nameIs: 'serial',
      brand: 'Federal HST',
      lacquered: false,
      station: 'image folder',
    });
    expect(() => parsedWith({ qa: { imageFolder: { path: 'images' } } })).toThrow(/qa\.imageFolder\.brand/);
    expect(() => parsedWith({ qa: { imageFolder: { path: 'i', brand: 'x', nameIs: 'lot' } } })).toThrow(
      /qa\.imageFolder\.nameIs/,
    );
    expect(parsedWith({}).simulators.testfire.imageLevel).toBeNull();
    expect(parsedWith({ simulators: { testfire: { imageLevel: 2 } } }).simulators.testfire.imageLevel).toBe(
      2,
    );
    expect(() => parsedWith({ simulators: { testfire: { imageLevel: 5 } } })).toThrow(
      /simulators\.testfire\.imageLevel/,
    );
  });

  it('keeps the issuer key in lower case whatever case it was written in', () => {
    const c = parseConfig(patched({ issuer: { key: KEY.toUpperCase() } }));
    expect(c.issuer.key).toBe(KEY);
  });
});

describe('every problem, by its path', () => {
  it('lists every required setting of an empty configuration', async () => {
    const found = await problemsOf({});
    expect(found.map((p) => p.path)).toEqual([
      'line.id',
      'issuer.number',
      'issuer.licence',
      'issuer.key',
      'issuer.indexBlock.start',
      'issuer.indexBlock.size',
      'auth.erpToken',
      'engraver.url',
      'mqtt.url',
    ]);
    expect(found.every((p) => p.message.startsWith('required'))).toBe(true);
  });

  it('lists problems of different sections together, in one error', async () => {
    const err = await failure(() =>
      parseConfig(
        patched({
          engraver: { url: 'http://laser' },
          http: { port: 70000 },
          qa: { policy: { kind: 'ca-4075', rounds: 2 } },
          recipes: { default: { passes: 0 } },
        }),
      ),
    );
    const paths = problems(err).map((p) => p.path);
    expect(paths).toEqual(['http.port', 'engraver.url', 'recipes.default.passes', 'qa.policy.rounds']);
    for (const p of paths) expect(err.message).toContain(`\n  ${p}: `);
    expect(err.message).toContain('4 problems');
    expect(err.message).toContain(
      'engraver.url: must start with modbus-tcp://, modbus-rtu:// or ascii-serial://',
    );
  });

  it('rejects unknown keys at every level and suggests the nearest known one', async () => {
    const found = await problemsOf(
      patched({
        engraverr: {},
        engraver: { rul: 'x' },
        mqtt: { tls: { rejectUnathorized: false } },
        qa: { policy: { kind: 'ca-4075', cases: 3 } },
      }),
    );
    expect(found).toHaveLength(4);
    expect(found).toEqual(
      expect.arrayContaining([
        { path: 'engraverr', message: 'unknown setting; did you mean engraver?' },
        { path: 'engraver.rul', message: 'unknown setting; did you mean url?' },
        { path: 'mqtt.tls.rejectUnathorized', message: 'unknown setting; did you mean rejectUnauthorized?' },
        { path: 'qa.policy.cases', message: 'unknown setting (this section takes: kind, rounds, minGrade)' },
      ]),
    );
  });

  it('tells text that YAML read as a number to be quoted', async () => {
    const found = await problemsOf(patched({ issuer: { licence: 12345 } }));
    expect(found).toEqual([
      { path: 'issuer.licence', message: 'must be text, not a whole number (put it in quotes)' },
    ]);
  });
});

const invalid: Case[] = [
  ['a line id that is not topic-safe', { line: { id: 'line/1' } }, 'line.id', 'letters, digits'],
  ['an issuer above 4095', { issuer: { number: 4096 } }, 'issuer.number', 'at most 4095'],
  ['a negative issuer', { issuer: { number: -1 } }, 'issuer.number', 'at least 0'],
  ['a fractional issuer', { issuer: { number: 1.5 } }, 'issuer.number', 'whole number'],
  ['an unknown issuer kind', { issuer: { kind: 'importer' } }, 'issuer.kind', 'manufacturer, engraver'],
  ['a short key', { issuer: { key: KEY.slice(1) } }, 'issuer.key', '32 hex digits'],
  ['a key with non-hex digits', { issuer: { key: `${KEY.slice(1)}g` } }, 'issuer.key', '32 hex digits'],
  [
    'an index block past 2^28',
    { issuer: { indexBlock: { start: 268_435_000, size: 1000 } } },
    'issuer.indexBlock.size',
    'at most 268435456',
  ],
  ['an empty index block', { issuer: { indexBlock: { size: 0 } } }, 'issuer.indexBlock.size', 'at least 1'],
  ['a short ERP token', { auth: { erpToken: 'x'.repeat(15) } }, 'auth.erpToken', 'at least 16'],
  ['a token with a space', { auth: { erpToken: 'abcdefgh ijklmnop' } }, 'auth.erpToken', 'without spaces'],
  ['a short operator token', { auth: { operatorToken: 'short' } }, 'auth.operatorToken', 'at least 16'],
  ['the same token twice', { auth: { operatorToken: ERP_TOKEN } }, 'auth.operatorToken', 'must differ'],
  [
    'an http engraver URL',
    { engraver: { url: 'http://laser' } },
    'engraver.url',
    'must start with modbus-tcp://',
  ],
  ['a TCP engraver URL with no host', { engraver: { url: 'modbus-tcp://' } }, 'engraver.url', 'no host'],
  [
    'a serial URL with a host',
    { engraver: { url: 'modbus-rtu://dev/ttyUSB0' } },
    'engraver.url',
    'empty host',
  ],
  [
    'a unit id out of range',
    { engraver: { url: 'modbus-rtu:///dev/ttyUSB0?unit=300' } },
    'engraver.url',
    '1..247',
  ],
  [
    'an unknown URL parameter',
    { engraver: { url: 'modbus-tcp://10.0.0.5?uint=2' } },
    'engraver.url',
    'unknown parameter',
  ],
  [
    "a profile that contradicts the URL's",
    { engraver: { url: 'modbus-tcp://10.0.0.5?profile=sl1-modbus', profile: 'other' } },
    'engraver.profile',
    'differs from the profile=sl1-modbus',
  ],
  [
    'a profile name not shipped',
    { engraver: { profile: 'no-such-profile' } },
    'engraver.profile',
    'not found',
  ],
  ['a file that is not a register map', { engraver: { profile: someFile } }, 'engraver.profile', 'not valid'],
  ['a profile that is neither', { engraver: { profile: 'sl1 modbus' } }, 'engraver.profile', 'profile name'],
  [
    'a profile file that is missing',
    { engraver: { profile: '/nonexistent/p.yaml' } },
    'engraver.profile',
    'no such file',
  ],
  [
    'backoff that starts above its ceiling',
    { engraver: { reconnect: { initialMs: 5000, maxMs: 1000 } } },
    'engraver.reconnect.initialMs',
    'at most reconnect.maxMs',
  ],
  ['an unknown target', { engraver: { target: 'slide' } }, 'engraver.target', 'firing-pin, breech-face'],
  ['a mirror flag as text', { engraver: { mirror: 'yes' } }, 'engraver.mirror', 'true or false'],
  ['recipe power 0', { recipes: { default: { power: 0 } } }, 'recipes.default.power', 'at least 1'],
  [
    'recipe power above 1000',
    { recipes: { default: { power: 1001 } } },
    'recipes.default.power',
    'at most 1000',
  ],
  [
    '21 passes',
    { recipes: { models: [{ make: 'A', recipe: { passes: 21 } }] } },
    'recipes.models[0].recipe.passes',
    'at most 20',
  ],
  [
    'a model recipe with no make',
    { recipes: { models: [{ model: 'X', recipe: {} }] } },
    'recipes.models[0].make',
    'required',
  ],
  [
    'two recipes for one model, written differently',
    {
      recipes: {
        models: [
          { make: 'Acme', model: 'P1', recipe: {} },
          { make: ' ACME ', model: 'p1', recipe: {} },
        ],
      },
    },
    'recipes.models[1]',
    'same make and model as recipes.models[0]',
  ],
  [
    'an http broker URL',
    { mqtt: { url: 'http://broker' } },
    'mqtt.url',
    'mqtt://, mqtts://, ws:// or wss://',
  ],
  [
    'credentials in the broker URL',
    { mqtt: { url: 'mqtts://line:pw@broker' } },
    'mqtt.url',
    'mqtt.username and mqtt.password',
  ],
  ['MQTT 3', { mqtt: { protocolVersion: 3 } }, 'mqtt.protocolVersion', 'one of 4, 5'],
  ['a password without a user on 3.1.1', { mqtt: { password: 'pw' } }, 'mqtt.password', 'mqtt.username'],
  [
    'TLS settings on a plain URL',
    { mqtt: { tls: { rejectUnauthorized: false } } },
    'mqtt.tls',
    'mqtts:// or wss://',
  ],
  [
    'a client certificate without its key',
    { mqtt: { url: 'mqtts://b', tls: { cert: someFile } } },
    'mqtt.tls.key',
    'go together',
  ],
  [
    'a CA file that is missing',
    { mqtt: { url: 'mqtts://b', tls: { ca: '/nonexistent/ca.pem' } } },
    'mqtt.tls.ca',
    'no such file',
  ],
  ['a resend delay under a second', { mqtt: { resendAfterMs: 10 } }, 'mqtt.resendAfterMs', 'at least 1000'],
  ['a window of 0', { mqtt: { window: 0 } }, 'mqtt.window', 'at least 1'],
  ['a drop folder with no path', { erp: { dropFolder: { pollMs: 500 } } }, 'erp.dropFolder.path', 'required'],
  [
    'an unknown QA policy',
    { qa: { policy: { kind: 'random' } } },
    'qa.policy.kind',
    'every-case, ca-4075, pooled',
  ],
  ['a QA policy with no kind', { qa: { policy: { cases: 3 } } }, 'qa.policy.kind', 'required'],
  [
    'minimum grade F',
    { qa: { policy: { kind: 'every-case', minGrade: 'F' } } },
    'qa.policy.minGrade',
    'A, B, C, D',
  ],
  [
    'a ca-4075 test fire of 3 rounds',
    { qa: { policy: { kind: 'ca-4075', rounds: 3 } } },
    'qa.policy.rounds',
    'at least 4',
  ],
  ['no cases', { qa: { policy: { kind: 'pooled', cases: 0 } } }, 'qa.policy.cases', 'at least 1'],
  ['an HTTP port above 65535', { http: { port: 65_536 } }, 'http.port', 'at most 65535'],
  ['trustProxy as a word', { http: { trustProxy: 'yes' } }, 'http.trustProxy', 'number of proxy hops'],
  ['an unknown log level', { log: { level: 'verbose' } }, 'log.level', 'fatal, error'],
  ['a section that is not a mapping', { http: 8080 }, 'http', 'must be a mapping'],
  [
    'a simulated engraver on another transport',
    { simulators: { engraver: { enabled: true, transport: 'ascii-serial', device: '/tmp/x' } } },
    'simulators.engraver.transport',
    'engraver.url is modbus-tcp://',
  ],
  [
    'a simulated engraver the URL does not point at',
    {
      engraver: { url: 'modbus-tcp://127.0.0.1:1503' },
      simulators: { engraver: { enabled: true, port: 1502 } },
    },
    'engraver.url',
    'modbus-tcp://127.0.0.1:1502',
  ],
  [
    'a simulated serial engraver with no device',
    {
      engraver: { url: 'modbus-rtu:///dev/pts/9' },
      simulators: { engraver: { enabled: true, transport: 'modbus-rtu' } },
    },
    'simulators.engraver.device',
    'required',
  ],
  [
    'an embedded broker the URL does not point at',
    { simulators: { broker: { enabled: true, port: 11883 } } },
    'mqtt.url',
    'mqtt://127.0.0.1:11883',
  ],
  [
    'MQTT 5 on the embedded broker',
    { mqtt: { url: 'mqtt://127.0.0.1:1883', protocolVersion: 5 }, simulators: { broker: { enabled: true } } },
    'mqtt.protocolVersion',
    '3.1.1 only',
  ],
];

describe('each setting is checked', () => {
  it.each(invalid)('refuses %s', async (_, patch, path, fragment) => {
    const found = await problemsOf(patched(patch));
    expect(found.map((p) => p.path)).toEqual([path]);
    expect(found[0]!.message).toContain(fragment);
  });

  const valid: [string, Patch][] = [
    ['the last index alone', { issuer: { indexBlock: { start: 268_435_455, size: 1 } } }],
    ['the whole index space', { issuer: { indexBlock: { start: 0, size: 268_435_456 } } }],
    ['issuer 4095', { issuer: { number: 4095 } }],
    ['a third-party engraver', { issuer: { kind: 'engraver' } }],
    ['an RTU engraver', { engraver: { url: 'modbus-rtu:///dev/ttyUSB0?baud=19200&unit=1' } }],
    ['a profile file', { engraver: { profile: SHIPPED_PROFILE } }],
    [
      'a profile for an ascii-serial engraver, unused',
      { engraver: { url: 'ascii-serial:///dev/ttyS0', profile: 'unused' } },
    ],
    ['wss to the registry', { mqtt: { url: 'wss://registry.example.org/mqtt' } }],
    ['a password without a user on MQTT 5', { mqtt: { protocolVersion: 5, password: 'pw' } }],
    [
      'TLS files that exist',
      { mqtt: { url: 'mqtts://b', tls: { ca: someFile, cert: someFile, key: someFile } } },
    ],
    ['trustProxy as hops', { http: { trustProxy: 2 } }],
    ['trustProxy as addresses', { http: { trustProxy: ['10.0.0.1', '192.168.0.0/16'] } }],
    [
      'the demo simulators on matching URLs',
      {
        engraver: { url: 'modbus-tcp://127.0.0.1:1502?unit=1' },
        mqtt: { url: 'mqtt://localhost:11883' },
        simulators: { engraver: { enabled: true, port: 1502 }, broker: { enabled: true, port: 11883 } },
      },
    ],
  ];
  it.each(valid)('accepts %s', (_, patch) => {
    expect(() => parseConfig(patched(patch))).not.toThrow();
  });
});

describe('recipes per make and model', () => {
  const recipes = parseConfig(
    patched({
      recipes: {
        default: { power: 700, frequency: 40, speed: 150, passes: 2 },
        models: [
          { make: 'Acme Arms', model: 'P19', recipe: { power: 900, passes: 4 } },
          { make: 'Acme Arms', recipe: { speed: 120 } },
          { make: 'Beta', model: '1911', recipe: { frequency: 60 } },
        ],
      },
    }),
  ).recipes;

  it('takes the entry for the model, its missing values from the default', () => {
    expect(recipeFor(recipes, 'Acme Arms', 'P19')).toEqual({
      power: 900,
      frequency: 40,
      speed: 150,
      passes: 4,
    });
  });

  it('matches without regard to case, width or runs of spaces', () => {
    expect(recipeFor(recipes, '  ACME   arms ', 'p19')).toEqual(recipeFor(recipes, 'Acme Arms', 'P19'));
    expect(recipeFor(recipes, 'beta', '１９１１')).toEqual({
      power: 700,
      frequency: 60,
      speed: 150,
      passes: 2,
    });
  });

  it('falls back to the entry for the whole make, then to the default', () => {
    expect(recipeFor(recipes, 'Acme Arms', 'P10')).toEqual({
      power: 700,
      frequency: 40,
      speed: 120,
      passes: 2,
    });
    expect(recipeFor(recipes, 'Beta', '92')).toEqual({ power: 700, frequency: 40, speed: 150, passes: 2 });
    expect(recipeFor(recipes, 'Gamma', 'P19')).toEqual({ power: 700, frequency: 40, speed: 150, passes: 2 });
  });
});
