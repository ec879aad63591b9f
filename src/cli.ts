/**
 * The `stampline` command. Each subsystem registers its own sub-commands; this file only
 * assembles them and turns failures into exit codes and one clear line on standard error.
 */
import { Command, CommanderError } from 'commander';
import { registerAuditCommands } from './cli/audit.js';
import { registerBackupCommands } from './cli/backup.js';
import { registerCodeCommands } from './cli/code.js';
import { registerConfigCommands } from './cli/config.js';
import { registerDaemonCommands } from './cli/daemon.js';
import { registerEngraverCommands } from './cli/engraver.js';
import { registerErpCommands } from './cli/erp.js';
import { registerIdentifyCommand } from './cli/identify.js';
import { registerImageCommands } from './cli/image.js';
import { registerRegistryCommands } from './cli/registry.js';
import { registerStoreCommands } from './cli/store.js';
import { register as registerUserCommands } from './cli/user.js';
import { StamplineError } from './errors.js';
import { VERSION } from './version.js';

/** Exit codes: 0 ok, 1 the command ran and reports a negative result, 2 usage or input error, 3 runtime failure. */
export const EXIT = { OK: 0, NEGATIVE: 1, USAGE: 2, FAILURE: 3 } as const;

export function buildProgram(): Command {
  const program = new Command('stampline')
    .description('Controller of a firearm microstamping line')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  const sim = program.command('sim').description('simulations and simulated devices for testing and demos');
  registerDaemonCommands(program);
  registerConfigCommands(program);
  registerCodeCommands(program, sim);
  registerImageCommands(program.commands.find((c) => c.name() === 'code')!, sim);
  registerEngraverCommands(program, sim);
  registerErpCommands(program, sim);
  registerRegistryCommands(program, sim);
  registerAuditCommands(program);
  registerIdentifyCommand(program);
  registerUserCommands(program);
  registerStoreCommands(program);
  registerBackupCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message; help and version are not failures
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof StamplineError) {
      process.stderr.write(`stampline: ${err.message}\n`);
      return err.status < 500 ? EXIT.USAGE : EXIT.FAILURE;
    }
    process.stderr.write(`stampline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.FAILURE;
  }
}
