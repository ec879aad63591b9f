import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ConfigOverrides, type LoadedConfig, readConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Daemon } from '../daemon.js';
import { createLogger } from '../logger.js';

function simulatorsWanted(config: Config): boolean {
  const s = config.simulators;
  return s.engraver.enabled || s.broker.enabled || s.registry.enabled || s.sampleOrder.enabled;
}

/** What `stampline demo` may change of its configuration from the command line. */
export interface DemoOptions {
  httpPort?: number;
  engraverPort?: number;
  mqttPort?: number;
  registryPort?: number;
  /** No automatic start and no simulated test fire: a person drives the line. */
  manual?: boolean;
}

function portNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > 65535)
      throw new InvalidArgumentError(`not a port number ${min}..65535: ${value}`);
    return n;
  };
}

/** The same URL on another port, whatever its scheme (the demo's engraver and broker are on loopback). */
function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

/**
 * The demo's ports and manual mode as overrides of its file. A simulator's port appears twice,
 * as the simulator's own and in the URL the daemon connects to, so both move together.
 */
export function demoOverrides(loaded: LoadedConfig, o: DemoOptions): ConfigOverrides {
  const c = loaded.config;
  const overrides: ConfigOverrides = {};
  if (o.httpPort !== undefined) overrides.http = { port: o.httpPort };
  if (o.engraverPort !== undefined) {
    overrides.simulators = { ...overrides.simulators, engraver: { port: o.engraverPort } };
    overrides.engraver = { url: withPort(c.engraver.url, o.engraverPort) };
  }
  if (o.mqttPort !== undefined) {
    overrides.simulators = { ...overrides.simulators, broker: { port: o.mqttPort } };
    overrides.mqtt = { url: withPort(c.mqtt.url, o.mqttPort) };
  }
  if (o.registryPort !== undefined) {
    overrides.simulators = { ...overrides.simulators, registry: { identifyPort: o.registryPort } };
  }
  if (o.manual) {
    overrides.simulators = {
      ...overrides.simulators,
      sampleOrder: { autoStart: false },
      testfire: { enabled: false },
    };
  }
  return overrides;
}

async function readDaemonConfig(file: string | undefined, demo?: DemoOptions): Promise<LoadedConfig> {
  const first = await readConfig(file ? { file } : {});
  if (!demo) return first;
  const overrides = demoOverrides(first, demo);
  return Object.keys(overrides).length === 0 ? first : readConfig({ file, overrides });
}

/** Runs the daemon until SIGTERM or SIGINT, then stops it in order. */
async function runDaemon(file: string | undefined, demoOptions?: DemoOptions): Promise<void> {
  const demo = demoOptions !== undefined;
  const { config, file: used, variables, warnings } = await readDaemonConfig(file, demoOptions);
  const logger = createLogger(config.log);
  logger.info({ config: used, overriddenBy: variables }, 'stampline starting');
  for (const w of warnings) logger.warn(w);
  const people = demo ? await demoPeople(config) : [];
  const daemon = new Daemon(
    config,
    logger,
    simulatorsWanted(config)
      ? {
          beforeConnect: async (d) => {
            // Loaded only when asked for: a real line never pays for the simulators.
            const { startSimulators } = await import('../../simulators/embedded.js');
            await startSimulators(d);
          },
        }
      : {},
  );
  const stopped = new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) return;
      signalled = true;
      logger.info({ signal }, 'stopping');
      daemon.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  try {
    await daemon.start();
  } catch (err) {
    logger.error({ err }, 'cannot start');
    await daemon.stop();
    logger.flush();
    throw err;
  }
  logger.info({ url: daemon.address?.url }, 'line running');
  if (people.length > 0) {
    // Printed, not logged: the passwords are for the person at the terminal, not for log files.
    const lines = people.map((p) => `  ${p.name.padEnd(16)} ${p.role.padEnd(11)} ${p.password}`);
    process.stdout.write(
      `\nDemo: open ${daemon.address?.url}/ and log in as one of (new passwords at every start):\n${lines.join('\n')}\n\n`,
    );
  }
  await stopped;
  logger.flush();
}

/** `stampline start` and `stampline demo`. */
export function registerDaemonCommands(program: Command): void {
  program
    .command('start')
    .description('run the line daemon with a configuration file (STAMPLINE_CONFIG or config/default.yaml)')
    .option('-c, --config <file>', 'configuration file')
    .action(async (opts: { config?: string }) => runDaemon(opts.config));

  program
    .command('demo')
    .description(
      'run the line with its simulators: engraver, broker, registry and a sample order (config/demo.yaml)',
    )
    .option('-c, --config <file>', 'configuration file', 'config/demo.yaml')
    .addOption(
      new Option('--http-port <port>', 'port of the UI and API (0: any free port)')
        .env('STAMPLINE_HTTP_PORT')
        .argParser(portNumber(0)),
    )
    .addOption(
      new Option('--engraver-port <port>', "port of the simulated engraver (the demo's file: 1502)")
        .env('STAMPLINE_ENGRAVER_PORT')
        .argParser(portNumber(1)),
    )
    .addOption(
      new Option('--mqtt-port <port>', "port of the embedded MQTT broker (the demo's file: 11883)")
        .env('STAMPLINE_MQTT_PORT')
        .argParser(portNumber(1)),
    )
    .addOption(
      new Option(
        '--registry-port <port>',
        "port of the simulated registry's desk for investigators, POST /identify (the demo's file: 11884; 0: any free port)",
      )
        .env('STAMPLINE_REGISTRY_PORT')
        .argParser(portNumber(0)),
    )
    .option(
      '--manual',
      'no automatic start and no simulated test fire: start orders, read cases and rework by hand',
    )
    .action(async (opts: { config: string } & DemoOptions) => runDaemon(opts.config, opts));
}

async function demoPeople(config: Config) {
  const { prepareDemoUsers } = await import('../../simulators/demo-users.js');
  return prepareDemoUsers(config.line.dataDir);
}
