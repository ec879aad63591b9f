/**
 * The sections of the configuration schema (`schema.ts`) for the line's links and the simulated
 * devices: the engraver, the MQTT connection to the registry, and the embedded simulators.
 */
import { z } from 'zod';
import {
  ABSENT,
  ENGRAVER_SCHEMES,
  engraverUrlProblem,
  int,
  isProfilePath,
  mqttUrlProblem,
  portNumber,
  rate,
  setting,
} from './schema-base.js';

export const engraverSection = z
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
  .describe('The laser engraver and how the line talks to it.');

export const mqttSection = z
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
  .describe('The MQTT connection to the registry.');

export const simulatorsSection = z
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
  .describe('Simulated devices for the embedded demo and for tests. All disabled on a real line.');
