/**
 * Runs `stampline` with the audit commands registered, exactly as src/cli.ts's main() maps
 * results to exit codes, for as long as src/cli.ts does not register them itself.
 */
import { CommanderError } from 'commander';
import { registerAuditCommands } from '../../../src/cli/audit.js';
import { buildProgram } from '../../../src/cli.js';
import { StamplineError } from '../../../src/errors.js';

const program = buildProgram();
if (!program.commands.some((c) => c.name() === 'audit')) registerAuditCommands(program);
try {
  await program.parseAsync(process.argv);
  process.exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else if (err instanceof StamplineError) {
    process.stderr.write(`stampline: ${err.message}\n`);
    process.exitCode = err.status < 500 ? 2 : 3;
  } else {
    process.stderr.write(`stampline: ${String(err)}\n`);
    process.exitCode = 3;
  }
}
