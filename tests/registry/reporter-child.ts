/**
 * A line's registry reporter in a process of its own, for tests that must kill it abruptly
 * (SIGKILL) to see the broker publish its last will. Options come as JSON in argv[2]; it writes
 * `up` on standard output once the link is up.
 */
import { RegistryReporter, type RegistryReporterOptions } from '../../src/registry/reporter.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as RegistryReporterOptions;
const reporter = new RegistryReporter(opts);
reporter.on('link', ({ up }) => {
  if (up) process.stdout.write('up\n');
});
await reporter.start();
