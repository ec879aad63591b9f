/**
 * Runs `stampline user ...` in a process of its own, as `bin/stampline.js` does with the
 * commands of src/cli.ts: the same exit codes and the same one line on standard error.
 */
import { Command, CommanderError } from 'commander';
import { register } from '../../src/cli/user.js';
import { StamplineError } from '../../src/errors.js';

const program = new Command('stampline').exitOverride();
register(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else if (err instanceof StamplineError) {
    process.stderr.write(`stampline: ${err.message}\n`);
    process.exitCode = err.status < 500 ? 2 : 3;
  } else {
    process.stderr.write(`stampline: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 3;
  }
}
