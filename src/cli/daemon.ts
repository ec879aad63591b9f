import type { Command } from 'commander';
import { readConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Daemon } from '../daemon.js';
import { createLogger } from '../logger.js';

function simulatorsWanted(config: Config): boolean {
  const s = config.simulators;
  return s.engraver.enabled || s.broker.enabled || s.registry.enabled || s.sampleOrder.enabled;
}

/** Runs the daemon until SIGTERM or SIGINT, then stops it in order. */
async function runDaemon(file: string | undefined, demo = false): Promise<void> {
  const { config, file: used, variables, warnings } = await readConfig(file ? { file } : {});
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
    .action(async (opts: { config: string }) => runDaemon(opts.config, true));
}

async function demoPeople(config: Config) {
  const { prepareDemoUsers } = await import('../../simulators/demo-users.js');
  return prepareDemoUsers(config.line.dataDir);
}
