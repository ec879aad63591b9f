/**
 * Every setting of a line, in one zod schema that validates it, gives its default and documents
 * it: docs/configuration.md is generated from the descriptions here (`npm run docs:config`).
 *
 * Objects are strict: an unknown key is an error, because a misspelt key that is silently
 * ignored leaves a factory running on a default nobody chose.
 *
 * Metadata on a field: `secret` (masked in logs and `config show`), `fsPath` (a file or folder,
 * resolved against the configuration file's folder), `defaultText` (a default derived from
 * other settings, for the documentation).
 *
 * This file assembles the sections and runs the checks that span them; the engraver, MQTT and
 * simulator sections are in `schema-links.ts`, the recipes and QA in `schema-qa.ts`, and what
 * they share in `schema-base.ts`.
 */
import { z } from 'zod';
import { DEFAULT_PROFILE } from '../engraver/profile.js';
import { parseEngraverUrl } from '../engraver/url.js';
import {
  ABSENT,
  engraverScheme,
  engraverUrlProblem,
  INDEX_LIMIT,
  int,
  LOG_LEVELS,
  LOOPBACK_HOSTS,
  mqttUrlProblem,
  rate,
  setting,
  TLS_MQTT_SCHEMES,
  token,
} from './schema-base.js';
import { engraverSection, mqttSection, simulatorsSection } from './schema-links.js';
import { qaSection, recipesSection } from './schema-qa.js';

export {
  ENGRAVER_SCHEMES,
  type EngraverScheme,
  engraverScheme,
  engraverUrlProblem,
  GRADES,
  isProfilePath,
  LOG_LEVELS,
  MIN_GRADES,
  type MinGrade,
  MQTT_SCHEMES,
  mqttUrlProblem,
  recipeKey,
} from './schema-base.js';

const configObject = z.strictObject({
  line: z
    .strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, {
          error: 'must be 1..64 letters, digits, - or _ (it is part of MQTT topics)',
        })
        .describe('The line id, unique within the issuer; part of the registry topics and of every record.'),
      name: setting(z.string().min(1).max(100).optional(), 'Name shown to people in the UI and logs.', {
        defaultText: 'the line id',
      }),
      dataDir: setting(
        z.string().min(1).default('./data'),
        'Folder of the durable store (orders, jobs, codes, outbox, audit trail). Created when missing.',
        { fsPath: true },
      ),
    })
    .prefault(ABSENT)
    .describe('Which line this is and where it keeps its state.'),

  issuer: z
    .strictObject({
      number: int(0, 4095).describe(
        'Issuer number (0..4095) assigned by the registry; the first 12 bits of every code.',
      ),
      kind: z
        .enum(['manufacturer', 'engraver'])
        .default('manufacturer')
        .describe(
          '`manufacturer`, or `engraver` for a licensed third-party installer; reported as `certifiedBy.kind` in every record.',
        ),
      licence: z
        .string()
        .trim()
        .min(1)
        .max(64)
        .regex(/^[\x20-\x7e]*$/, { error: 'must be printable ASCII' })
        .describe(
          'The licence number of the maker or installer; reported as `certifiedBy.licence` in every record.',
        ),
      key: setting(
        z
          .string()
          .regex(/^[0-9a-fA-F]{32}$/, { error: 'must be 32 hex digits (16 bytes)' })
          .transform((k) => k.toLowerCase()),
        'The issuer key that permutes indexes into codes: 32 hex digits. Keep it secret; losing it makes codes unreadable to the line.',
        { secret: true },
      ),
      indexBlock: z
        .strictObject({
          start: int(0, INDEX_LIMIT - 1).describe('First index of the block (0..268435455).'),
          size: int(1, INDEX_LIMIT).describe('Number of indexes in the block.'),
        })
        .superRefine((b, ctx) => {
          if (b.start + b.size > INDEX_LIMIT) {
            ctx.addIssue({
              code: 'custom',
              message: `start + size must be at most ${INDEX_LIMIT}`,
              path: ['size'],
            });
          }
        })
        .prefault(ABSENT)
        .describe(
          'The indexes this line may use, assigned by the issuer so that no two lines overlap. Never give two lines overlapping blocks.',
        ),
    })
    .prefault(ABSENT)
    .describe('Who issues the codes: the registry-assigned issuer, its licence and its secret key.'),

  http: z
    .strictObject({
      host: z
        .string()
        .min(1)
        .default('127.0.0.1')
        .describe('Address the API and UI listen on. 0.0.0.0 to serve the whole network.'),
      port: int(0, 65535).default(8080).describe('Port of the API and UI; 0 picks a free port (for tests).'),
      trustProxy: z
        .union([z.boolean(), int(1, 100), z.array(z.string().min(1)).min(1)], {
          error: 'must be true, false, a number of proxy hops (1..100) or a list of proxy addresses',
        })
        .default(false)
        .describe(
          "Whether to trust X-Forwarded-* headers: false, true, a number of proxy hops, or a list of the proxies' addresses or CIDR ranges.",
        ),
    })
    .prefault({})
    .describe('The HTTP API and operator UI.'),

  auth: z
    .strictObject({
      erpToken: setting(token(), 'Bearer token of the ERP for `POST /api/v1/orders`; 16..256 characters.', {
        secret: true,
      }),
      operatorToken: setting(
        token().optional(),
        'Bearer token for machine access to the operator routes (start, pause, resume, abort); 16..256 characters. Absent: those routes need a user session.',
        { secret: true },
      ),
      qaToken: setting(
        token().optional(),
        'Bearer token of a QA machine (a camera or reader at the QA station) for `POST /api/v1/qa/reads`; 16..256 characters. Absent: reads are entered by users only.',
        { secret: true },
      ),
      sessionTtlMinutes: int(1, 10_080)
        .default(480)
        .describe(
          'How long a user session lasts without activity, in minutes; each request starts the time again. Sessions are kept in memory, so a restart of the daemon logs everyone out.',
        ),
    })
    .superRefine((a, ctx) => {
      if (a.erpToken === a.operatorToken) {
        ctx.addIssue({
          code: 'custom',
          message: 'must differ from auth.erpToken, or the ERP could start and abort orders',
          path: ['operatorToken'],
        });
      }
      if (a.qaToken !== undefined && a.qaToken === a.erpToken) {
        ctx.addIssue({
          code: 'custom',
          message: 'must differ from auth.erpToken, or the ERP could enter QA reads',
          path: ['qaToken'],
        });
      }
      if (a.qaToken !== undefined && a.qaToken === a.operatorToken) {
        ctx.addIssue({
          code: 'custom',
          message: 'must differ from auth.operatorToken: each machine role needs its own token',
          path: ['qaToken'],
        });
      }
    })
    .prefault(ABSENT)
    .describe('API tokens and sessions.'),

  engraver: engraverSection,

  recipes: recipesSection,

  mqtt: mqttSection,

  erp: z
    .strictObject({
      dropFolder: z
        .strictObject({
          path: setting(
            z.string().min(1),
            'Folder the ERP drops CSV orders into; `processed/` and `rejected/` are made inside it.',
            { fsPath: true },
          ),
          pollMs: int(100, 3_600_000).default(2000).describe('How often the folder is scanned, in ms.'),
          settleMs: int(0, 3_600_000)
            .default(2000)
            .describe(
              'A file is read only once its size and time have not changed for this long, in ms, so that a file still being written is not read early.',
            ),
          completion: z
            .enum(['settle', 'done-file'])
            .default('settle')
            .describe(
              'How a file is known to be complete. settle: unchanged for settleMs (for ERPs that write under a temporary name and rename). done-file: only once `<name>.done` stands beside it, written by the ERP after closing the file; no pause of the writer can then cut an order.',
            ),
        })
        .nullable()
        .default(null)
        .describe('The CSV drop folder. Absent or null: orders come by HTTP only.'),
    })
    .prefault({})
    .describe('Order intake from the ERP besides `POST /api/v1/orders`.'),

  qa: qaSection,

  alarms: z
    .strictObject({
      qaWindow: int(1, 10_000)
        .default(50)
        .describe('The QA failure alarm looks at this many of the latest verdicts (pass or fail).'),
      qaMinVerdicts: int(1, 10_000)
        .default(20)
        .describe('The QA failure alarm is judged only once that many verdicts are in the window.'),
      qaFailShare: rate(1, 0.2).describe(
        'The QA failure alarm is raised when the share of failed verdicts in the window is above this, and cleared when it is at or below it.',
      ),
      codesLeftBelow: int(0, INDEX_LIMIT)
        .default(1000)
        .describe(
          "The codes-low alarm is raised when fewer codes than this are left in the issuer's index block (0: never).",
        ),
    })
    .prefault({})
    .describe('Thresholds of the alarms (docs/alarms.md). The other alarms need no setting.'),

  simulators: simulatorsSection,

  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info').describe('Least severe level written.'),
      pretty: z.boolean().default(false).describe('One readable line per entry instead of JSON lines.'),
    })
    .prefault({})
    .describe('Logging (pino).'),
});

type Parsed = z.output<typeof configObject>;

/** Checks that span sections: they run even when other settings have problems, on what parsed. */
function crossChecks(c: Parsed, ctx: z.RefinementCtx): void {
  if (typeof c !== 'object' || c === null) return;
  const sim = c.simulators;
  const engraverUrl = typeof c.engraver?.url === 'string' ? c.engraver.url : undefined;
  if (engraverUrl && !engraverUrlProblem(engraverUrl) && typeof c.engraver.profile === 'string') {
    const parsed = parseEngraverUrl(engraverUrl);
    if ('profile' in parsed && parsed.profile !== undefined && parsed.profile !== c.engraver.profile) {
      ctx.addIssue({
        code: 'custom',
        message: `differs from the profile=${parsed.profile} of engraver.url; name the profile in one place`,
        path: ['engraver', 'profile'],
      });
    }
  }
  if (sim?.engraver?.enabled && engraverUrl && !engraverUrlProblem(engraverUrl)) {
    const scheme = engraverScheme(engraverUrl);
    if (scheme !== sim.engraver.transport) {
      ctx.addIssue({
        code: 'custom',
        message: `is ${sim.engraver.transport} but engraver.url is ${scheme}://`,
        path: ['simulators', 'engraver', 'transport'],
      });
    } else if (scheme === 'modbus-tcp') {
      const u = new URL(engraverUrl);
      if (!LOOPBACK_HOSTS.has(u.hostname) || Number(u.port || 502) !== sim.engraver.port) {
        ctx.addIssue({
          code: 'custom',
          message: `the simulated engraver listens on 127.0.0.1:${sim.engraver.port}, so engraver.url must be modbus-tcp://127.0.0.1:${sim.engraver.port}`,
          path: ['engraver', 'url'],
        });
      }
    } else if (sim.engraver.device === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `required for the ${scheme} transport`,
        path: ['simulators', 'engraver', 'device'],
      });
    }
  }
  const mqttUrl = typeof c.mqtt?.url === 'string' ? c.mqtt.url : undefined;
  if (mqttUrl && !mqttUrlProblem(mqttUrl)) {
    const u = new URL(mqttUrl);
    const scheme = u.protocol.slice(0, -1);
    const tls = c.mqtt.tls;
    if (
      tls &&
      !TLS_MQTT_SCHEMES.has(scheme) &&
      (tls.ca !== undefined ||
        tls.cert !== undefined ||
        tls.key !== undefined ||
        tls.rejectUnauthorized === false)
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `TLS settings need an mqtts:// or wss:// URL, but mqtt.url is ${scheme}://`,
        path: ['mqtt', 'tls'],
      });
    }
    if (sim?.broker?.enabled) {
      if (
        scheme !== 'mqtt' ||
        !LOOPBACK_HOSTS.has(u.hostname) ||
        Number(u.port || 1883) !== sim.broker.port
      ) {
        ctx.addIssue({
          code: 'custom',
          message: `the embedded broker listens on 127.0.0.1:${sim.broker.port}, so mqtt.url must be mqtt://127.0.0.1:${sim.broker.port}`,
          path: ['mqtt', 'url'],
        });
      }
      if (c.mqtt.protocolVersion === 5) {
        ctx.addIssue({
          code: 'custom',
          message: 'the embedded broker (aedes) speaks MQTT 3.1.1 only: set 4, or use an external broker',
          path: ['mqtt', 'protocolVersion'],
        });
      }
    }
  }
}

function withDerived(c: Parsed) {
  const fromUrl = parseEngraverUrl(c.engraver.url);
  const urlProfile = 'profile' in fromUrl ? fromUrl.profile : undefined;
  return {
    ...c,
    line: { ...c.line, name: c.line.name ?? c.line.id },
    engraver: {
      ...c.engraver,
      id: c.engraver.id ?? `${c.line.id}-engraver`,
      profile: c.engraver.profile ?? urlProfile ?? DEFAULT_PROFILE,
    },
    mqtt: { ...c.mqtt, clientId: c.mqtt.clientId ?? `stampline-${c.issuer.number}-${c.line.id}` },
    simulators: {
      ...c.simulators,
      registry: {
        ...c.simulators.registry,
        // joined, not resolved: the loader resolves it with dataDir against the file's folder
        file: c.simulators.registry.file ?? joinPath(c.line.dataDir, 'simulated-registry.jsonl'),
      },
    },
  };
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') || dir.endsWith('\\') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The whole configuration: validation, defaults, cross-section checks and derived defaults. */
export const configSchema = configObject
  .superRefine(crossChecks, { when: () => true })
  .transform(withDerived);

/** What a configuration file (or an override) may contain. */
export type ConfigInput = z.input<typeof configSchema>;
/** A valid configuration, every default filled in and every path absolute (after `loadConfig`). */
export type Config = z.output<typeof configSchema>;
export type QaPolicy = Config['qa']['policy'];
export type QaRegistry = Config['qa']['registry'];
export type RecipeSettings = Config['recipes']['default'];
export type ModelRecipe = Config['recipes']['models'][number];
