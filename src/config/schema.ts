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
 */
import { z } from 'zod';
import { DEFAULT_PROFILE } from '../engraver/profile.js';
import { parseEngraverUrl } from '../engraver/url.js';
import { isStamplineError } from '../errors.js';

export const ENGRAVER_SCHEMES = ['modbus-tcp', 'modbus-rtu', 'ascii-serial'] as const;
export type EngraverScheme = (typeof ENGRAVER_SCHEMES)[number];

export const MQTT_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'] as const;
const TLS_MQTT_SCHEMES = new Set(['mqtts', 'wss']);

export const GRADES = ['A', 'B', 'C', 'D', 'F'] as const;
/** Grades a policy may demand. F is no identification at all, so it cannot be a minimum. */
export const MIN_GRADES = ['A', 'B', 'C', 'D'] as const;
export type MinGrade = (typeof MIN_GRADES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const INDEX_LIMIT = 2 ** 28;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

interface SettingMeta {
  /** Masked in logs and in `config show`. */
  secret?: true;
  /** A file or folder: a relative path is resolved against the configuration file's folder. */
  fsPath?: true;
  /** A default derived from other settings, as the documentation states it. */
  defaultText?: string;
}

function setting<T extends z.ZodType>(schema: T, description: string, meta: SettingMeta): T {
  return schema.meta({ description, ...meta });
}

/**
 * What an absent section with required settings parses as, so that each missing setting is
 * reported by its own path (`issuer.key: required`) rather than the section as a whole.
 */
const ABSENT = {} as never;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** A share between 0 and `max`, with a default. */
const rate = (max: number, dflt: number) => z.number().min(0).max(max).default(dflt);

const portNumber = (description: string) => int(1, 65535).describe(description);

const token = () =>
  z
    .string()
    .min(16, { error: 'must be at least 16 characters' })
    .max(256, { error: 'must be at most 256 characters' })
    .regex(/^[\x21-\x7e]*$/, { error: 'must be printable characters without spaces' });

/**
 * Why an engraver URL is not usable, or undefined. The driver's own parser decides, so that
 * `config check` catches what the driver would refuse at start (a bad unit, baud or parameter).
 */
export function engraverUrlProblem(url: string): string | undefined {
  if (!engraverScheme(url)) return 'must start with modbus-tcp://, modbus-rtu:// or ascii-serial://';
  try {
    parseEngraverUrl(url);
    return undefined;
  } catch (err) {
    if (isStamplineError(err, 'ENGRAVER_BAD_URL')) return String(err.context.problem ?? err.message);
    throw err;
  }
}

export function engraverScheme(url: string): EngraverScheme | undefined {
  return ENGRAVER_SCHEMES.find((s) => url.startsWith(`${s}://`));
}

/** Why an MQTT URL is not usable, or undefined. */
export function mqttUrlProblem(url: string): string | undefined {
  if (!MQTT_SCHEMES.some((s) => url.startsWith(`${s}://`))) {
    return 'must start with mqtt://, mqtts://, ws:// or wss://';
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  if (!parsed.hostname) return 'needs a host, e.g. mqtts://registry.example.org:8883';
  if (parsed.username || parsed.password) {
    return 'must not carry a user name or password: set mqtt.username and mqtt.password, which are kept out of logs';
  }
  return undefined;
}

/** A profile is a bare name (shipped in config/profiles/) or a path to a file. */
export function isProfilePath(profile: string): boolean {
  return /[/\\]/.test(profile) || /\.(ya?ml|json)$/i.test(profile);
}

const recipeFields = {
  power: int(1, 1000).describe(
    'Laser power in 0.1 % (1..1000). 0 is refused: it would mark nothing and still record a pin as engraved.',
  ),
  frequency: int(1, 65535).describe('Pulse frequency, kHz.'),
  speed: int(1, 65535).describe('Mark speed, mm/s.'),
  passes: int(1, 20).describe('Number of passes, 1..20.'),
};

const defaultRecipe = z
  .strictObject({
    power: recipeFields.power.default(800),
    frequency: recipeFields.frequency.default(30),
    speed: recipeFields.speed.default(200),
    passes: recipeFields.passes.default(3),
  })
  .prefault({})
  .describe('The recipe for any firearm that no entry of `models` matches.');

const modelRecipe = z
  .strictObject({
    make: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .describe('Firearm make, as in orders; matched without regard to case.'),
    model: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'Firearm model, as in orders; matched without regard to case. Absent: every model of the make that has no entry of its own.',
      ),
    recipe: z
      .strictObject({
        power: recipeFields.power.optional(),
        frequency: recipeFields.frequency.optional(),
        speed: recipeFields.speed.optional(),
        passes: recipeFields.passes.optional(),
      })
      .describe('The values that differ from `recipes.default`; the others are taken from it.'),
  })
  .describe('A recipe for one make and model (or one make).');

const minGrade = (dflt?: MinGrade) => {
  const grade = z.enum(MIN_GRADES);
  return dflt ? grade.default(dflt) : grade.optional();
};

const qaPolicy = z
  .discriminatedUnion('kind', [
    z
      .strictObject({
        kind: z.literal('every-case').describe('Each case must decode on its own.'),
        cases: int(1, 100).default(3).describe('Cases test-fired and read per firearm.'),
        minGrade: minGrade('C').describe('Lowest grade (A..D) each case must reach.'),
      })
      .describe(
        '`every-case`: each of `cases` cases must decode on its own to the expected code with at least `minGrade`.',
      ),
    z
      .strictObject({
        kind: z.literal('ca-4075').describe("Modelled on California's rule for examining a test fire."),
        rounds: int(4, 10_000)
          .default(100)
          .describe('Rounds in the test fire; the first two and last two cases are examined.'),
        minGrade: minGrade().describe(
          'Lowest grade (A..D) each examined case must reach besides identifying the firearm. Absent: identifying the firearm against the registry of `qa.registry` is enough, whatever the grade.',
        ),
      })
      .describe(
        "`ca-4075`: of a test fire of `rounds` rounds, the first two and the last two cases must each identify the firearm on its own against the registry's issued codes (`qa.registry`).",
      ),
    z
      .strictObject({
        kind: z.literal('pooled').describe('The reads of all cases are decoded together.'),
        cases: int(1, 100).default(3).describe('Cases test-fired and read per firearm.'),
        minGrade: minGrade('C').describe('Lowest grade (A..D) the pooled decode must reach.'),
      })
      .describe(
        '`pooled`: the reads of all `cases` cases, decoded together, must give the expected code with at least `minGrade`.',
      ),
  ])
  .prefault({ kind: 'every-case' })
  .describe('The QA policy that decides pass or fail, chosen by `kind`.');

const qaImageFolder = z
  .strictObject({
    path: setting(
      z.string().min(1),
      "Folder a microscope's software saves case images to (PNG, JPEG, TIFF); `processed/` and `failed/` are made inside it.",
      { fsPath: true },
    ),
    pollMs: int(100, 3_600_000).default(1000).describe('How often the folder is scanned, in ms.'),
    settleMs: int(0, 3_600_000)
      .default(2000)
      .describe(
        'An image is read only once its size and time have not changed for this long, in ms, so that an image still being written is not read early.',
      ),
    completion: z
      .enum(['settle', 'done-file'])
      .default('settle')
      .describe(
        'How an image is known to be complete. settle: unchanged for settleMs. done-file: only once `<name>.done` stands beside it, written after the image (and its sidecar) are closed.',
      ),
    nameIs: z
      .enum(['serial', 'code'])
      .default('serial')
      .describe(
        "What the first part of an image's name (up to `_`) is, when no sidecar names the firearm: its serial or its code.",
      ),
    brand: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .describe("The bench's ammunition (brand and load), for images whose sidecar does not say."),
    lacquered: z
      .boolean()
      .default(false)
      .describe(
        "Whether the bench's ammunition has lacquered primers, for images whose sidecar does not say.",
      ),
    station: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .default('image folder')
      .describe('The station recorded with each read, unless a sidecar says.'),
  })
  .nullable()
  .default(null)
  .describe(
    'A watched folder of case images (docs/reading.md). Absent or null: images come through the QA station and the API only.',
  );

const qaRegistry = z
  .strictObject({
    issuedCodes: int(1, 2 ** 40)
      .default(10_000_000)
      .describe(
        "Codes the registry holds, all issuers together: a state's microstamped pistols over decades are of the order of 10,000,000. The more there are, the more a case must show to single one out.",
      ),
    issuers: int(1, 4096)
      .optional()
      .describe(
        'Issuers (manufacturers and licensed engravers) with codes at the registry. Absent: any of the 4096 may hold a rival code.',
      ),
  })
  .prefault({})
  .describe(
    'The registry a case will be identified against, for policies that judge a case as the registry would (`ca-4075`).',
  );

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

  engraver: z
    .strictObject({
      url: z
        .string()
        .superRefine((url, ctx) => {
          const problem = engraverUrlProblem(url);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .describe(
          'The engraver: `modbus-tcp://HOST:PORT?unit=1`, `modbus-rtu:///dev/ttyUSB0?baud=19200&unit=1` or `ascii-serial:///dev/ttyUSB0?baud=115200`.',
        ),
      id: setting(
        z.string().trim().min(1).max(64).optional(),
        "The engraver's id, reported in every `engraved` record (an asset tag or serial number of the laser is a good choice).",
        { defaultText: 'LINE-engraver, from the line id' },
      ),
      profile: setting(
        z
          .string()
          .min(1)
          .refine((p) => isProfilePath(p) || /^[A-Za-z0-9_.-]+$/.test(p), {
            error: 'must be a profile name (letters, digits, ., - and _) or a path to a profile file',
          })
          .optional(),
        'Modbus register map: the name of a profile in config/profiles/, or a path to a profile file (relative to the configuration file). Checked when the configuration is loaded. Not used by ascii-serial.',
        { defaultText: "the URL's `profile=` parameter, else `sl1-modbus`" },
      ),
      requestTimeoutMs: int(50, 60_000)
        .default(1000)
        .describe('Each request to the engraver fails after this long, in ms.'),
      reconnect: z
        .strictObject({
          initialMs: int(10, 60_000)
            .default(250)
            .describe('First delay before reconnecting a lost link, in ms.'),
          maxMs: int(100, 600_000)
            .default(10_000)
            .describe('Longest delay between reconnect attempts (exponential backoff with jitter), in ms.'),
        })
        .superRefine((r, ctx) => {
          if (r.initialMs > r.maxMs) {
            ctx.addIssue({ code: 'custom', message: 'must be at most reconnect.maxMs', path: ['initialMs'] });
          }
        })
        .prefault({})
        .describe('Reconnecting after the link is lost.'),
      jobTimeoutMs: int(1000, 3_600_000)
        .default(30_000)
        .describe('How long a job may stay BUSY before the line treats it as a fault, in ms.'),
      mirror: z
        .boolean()
        .default(true)
        .describe('Engrave mirrored, so that the impression on a cartridge case reads the right way round.'),
      target: z
        .enum(['firing-pin', 'breech-face'])
        .default('firing-pin')
        .describe('What is marked when an order does not say: `firing-pin` or `breech-face`.'),
    })
    .prefault(ABSENT)
    .describe('The laser engraver and how the line talks to it.'),

  recipes: z
    .strictObject({
      default: defaultRecipe,
      models: z
        .array(modelRecipe)
        .default([])
        .describe(
          'Recipes per firearm make and model. Make and model match without regard to case or surrounding spaces; an entry with a model wins over an entry for the whole make.',
        ),
    })
    .superRefine((r, ctx) => {
      const seen = new Map<string, number>();
      r.models.forEach((m, i) => {
        const key = recipeKey(m.make, m.model);
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else
          ctx.addIssue({
            code: 'custom',
            message: `same make and model as recipes.models[${first}]`,
            path: ['models', i],
          });
      });
    })
    .prefault({})
    .describe(
      'Laser recipes: how the pin is marked, per firearm make and model, since a stamp transfers well only when the marking is tuned to the pin.',
    ),

  mqtt: z
    .strictObject({
      url: z
        .string()
        .superRefine((url, ctx) => {
          const problem = mqttUrlProblem(url);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .describe(
          'The broker that carries records to the registry: `mqtt://`, `mqtts://` (TLS), `ws://` or `wss://` (TLS).',
        ),
      protocolVersion: z.literal([4, 5]).default(4).describe('MQTT protocol: 4 (3.1.1) or 5.'),
      clientId: setting(
        z.string().min(1).max(128).optional(),
        'MQTT client id; must be stable across restarts and unique on the broker.',
        { defaultText: 'stampline-ISSUER-LINE' },
      ),
      username: z.string().min(1).optional().describe('User name for the broker.'),
      password: setting(z.string().min(1).optional(), 'Password for the broker.', { secret: true }),
      tls: z
        .strictObject({
          ca: setting(
            z.string().min(1).optional(),
            'PEM file of the CA that signed the broker certificate. Absent: the system CAs.',
            {
              fsPath: true,
            },
          ),
          cert: setting(
            z.string().min(1).optional(),
            'PEM file of the client certificate, for brokers that authenticate clients by certificate.',
            { fsPath: true },
          ),
          key: setting(z.string().min(1).optional(), 'PEM file of the key of the client certificate.', {
            fsPath: true,
          }),
          rejectUnauthorized: z
            .boolean()
            .default(true)
            .describe(
              'Refuse a broker whose certificate does not verify. Turn off only to diagnose, never on a line in service.',
            ),
        })
        .superRefine((t, ctx) => {
          if ((t.cert === undefined) !== (t.key === undefined)) {
            ctx.addIssue({
              code: 'custom',
              message: 'cert and key go together',
              path: [t.cert === undefined ? 'cert' : 'key'],
            });
          }
        })
        .prefault({})
        .describe('TLS for `mqtts://` and `wss://`.'),
      keepaliveSeconds: int(5, 3600)
        .default(30)
        .describe('MQTT keep-alive, in seconds: how soon a dead connection is noticed.'),
      reconnectMs: int(100, 600_000)
        .default(2000)
        .describe('Delay between attempts to reconnect to the broker, in ms.'),
      resendAfterMs: int(1000, 86_400_000)
        .default(60_000)
        .describe('A record with no ack from the registry after this long is sent again, in ms.'),
      window: int(1, 65_535)
        .default(500)
        .describe(
          "Most records sent and not yet acknowledged by the registry at once. Keep it under the broker's queue limit per client (Mosquitto: 1000), or records beyond it are dropped by the broker and only arrive on resend.",
        ),
    })
    .superRefine((m, ctx) => {
      if (m.password !== undefined && m.username === undefined && m.protocolVersion === 4) {
        ctx.addIssue({
          code: 'custom',
          message: 'MQTT 3.1.1 sends a password only with a user name: set mqtt.username',
          path: ['password'],
        });
      }
    })
    .prefault(ABSENT)
    .describe('The MQTT connection to the registry.'),

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

  qa: z
    .strictObject({ policy: qaPolicy, registry: qaRegistry, imageFolder: qaImageFolder })
    .prefault({})
    .describe('Verification of test-fired cases at the QA station.'),

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

  simulators: z
    .strictObject({
      engraver: z
        .strictObject({
          enabled: z.boolean().default(false).describe('Run a simulated engraver in the daemon.'),
          transport: z
            .enum(ENGRAVER_SCHEMES)
            .default('modbus-tcp')
            .describe('The link it serves; must match the scheme of `engraver.url`.'),
          port: portNumber(
            'TCP port it listens on at 127.0.0.1, for modbus-tcp; must match `engraver.url`.',
          ).default(1502),
          device: z
            .string()
            .min(1)
            .optional()
            .describe(
              'For modbus-rtu and ascii-serial: the serial device it serves, one end of a serial link (a socat pseudo-terminal pair); `engraver.url` names the other end.',
            ),
          markingTimeMs: int(0, 600_000).default(1500).describe('How long marking one pin takes, in ms.'),
          journal: setting(
            z.string().min(1).optional(),
            'File that gets a JSON line for every job the simulator marks. Absent: kept in memory only.',
            { fsPath: true },
          ),
        })
        .prefault({})
        .describe('A simulated reference engraver.'),
      broker: z
        .strictObject({
          enabled: z
            .boolean()
            .default(false)
            .describe('Run an embedded MQTT broker (aedes, MQTT 3.1.1 only) in the daemon.'),
          port: portNumber('Port it listens on at 127.0.0.1; `mqtt.url` must point at it.').default(1883),
        })
        .prefault({})
        .describe('An embedded MQTT broker.'),
      registry: z
        .strictObject({
          enabled: z
            .boolean()
            .default(false)
            .describe('Run a simulated state registry that acknowledges records.'),
          file: setting(z.string().min(1).optional(), 'Where the simulated registry keeps its bindings.', {
            fsPath: true,
            defaultText: 'simulated-registry.jsonl in `line.dataDir`',
          }),
          identifyPort: int(0, 65535)
            .optional()
            .describe(
              "Serve the registry's desk for investigators, `POST /identify` (reads of cases in, the firearm or the candidates out), on this port at 127.0.0.1; 0: any free one. Absent: no desk.",
            ),
        })
        .prefault({})
        .describe('A simulated registry on the broker of `mqtt.url`.'),
      sampleOrder: z
        .strictObject({
          enabled: z
            .boolean()
            .default(false)
            .describe('Feed a sample order when the line starts with no orders.'),
          firearms: int(1, 100_000).default(10).describe('Firearms in the sample order.'),
          autoStart: z
            .boolean()
            .default(true)
            .describe(
              'Start every order as it arrives, as the demo does; false leaves it to an operator (`stampline demo --manual`).',
            ),
        })
        .prefault({})
        .describe('A sample order, as the ERP would send it.'),
      testfire: z
        .strictObject({
          enabled: z
            .boolean()
            .default(false)
            .describe('Test-fire engraved firearms and send the case reads to QA.'),
          delayMs: int(0, 600_000)
            .default(2000)
            .describe('How long after a firearm is engraved its case reads reach QA, in ms.'),
          charIllegible: rate(0.5, 0.03).describe(
            'Share of characters that cannot be read, on a plain primer.',
          ),
          charMisread: rate(0.5, 0.01).describe(
            'Share of characters read as another character, on a plain primer.',
          ),
          toothIllegible: rate(0.5, 0.04).describe(
            'Share of gear teeth that cannot be read, on a plain primer.',
          ),
          toothFlipped: rate(0.5, 0.005).describe('Share of gear teeth read flipped, on a plain primer.'),
          gearMissing: rate(1, 0.01).describe(
            'Share of cases whose gear ring is not read at all, on a plain primer.',
          ),
          lacqueredFactor: z
            .number()
            .min(1)
            .max(10)
            .default(2.5)
            .describe(
              'How many times worse each of those rates is on a lacquered primer (capped at half the marks).',
            ),
          lacqueredShare: rate(1, 0.2).describe('Share of test fires made with lacquered-primer ammunition.'),
          brands: z
            .array(z.string().trim().min(1).max(64))
            .min(1)
            .max(100)
            .default(['Federal HST', 'Winchester White Box', 'Remington UMC', 'Blazer Brass', 'Fiocchi'])
            .describe('Ammunition brands the test fires draw from; one brand per firearm.'),
          seed: int(0, 2_147_483_647)
            .default(1)
            .describe("Seed of the model's random draws; each code's cases come from their own stream."),
          imageLevel: int(0, 4)
            .nullable()
            .default(null)
            .describe(
              'Send case images instead of typed reads: each case is rendered by the case-image simulator at this degradation level (0 clean .. 4 severe, docs/reading.md), read by the image reader and recorded as a read from an image, so the demo shows engraved pin → fired case → image → read → verdict. The char/tooth/gear rates above then play no part. Null: typed reads. Rendering and reading a case each take up to about a second of CPU.',
            ),
        })
        .prefault({})
        .describe('A simulated test fire and QA station.'),
    })
    .prefault({})
    .describe('Simulated devices for the embedded demo and for tests. All disabled on a real line.'),

  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info').describe('Least severe level written.'),
      pretty: z.boolean().default(false).describe('One readable line per entry instead of JSON lines.'),
    })
    .prefault({})
    .describe('Logging (pino).'),
});

export function recipeKey(make: string, model: string | undefined): string {
  const norm = (s: string) => s.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  return model === undefined ? `${norm(make)}\u0000*` : `${norm(make)}\u0000${norm(model)}`;
}

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
