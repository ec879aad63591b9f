/**
 * Writes to a store as fast as it can and prints each write that was acknowledged, until it is
 * killed. The crash tests kill it with SIGKILL at an arbitrary moment and check that everything
 * it reported as acknowledged is there after a restart.
 *
 *   node --import tsx crash-writer.ts <log|audit|doc> <dir>
 */
import { AppendLog } from '../../../src/store/append-log.js';
import { AuditTrail } from '../../../src/store/audit.js';
import { DocumentStore } from '../../../src/store/documents.js';

const [mode, dir] = process.argv.slice(2);
const inFlight = 8;
let next = 0;

async function run(write: (n: number) => Promise<void>): Promise<void> {
  process.stdout.write('ready\n');
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (;;) {
        const n = next++;
        await write(n);
        process.stdout.write(`${n}\n`);
      }
    }),
  );
}

if (mode === 'log') {
  const log = new AppendLog<{ n: number; pad: string }>({
    dir: dir!,
    name: 'crash',
    maxSegmentBytes: 16 * 1024,
  });
  await log.start();
  await run((n) => log.append([{ n, pad: 'x'.repeat(n % 97) }]));
} else if (mode === 'audit') {
  const trail = new AuditTrail({ dataDir: dir!, maxSegmentBytes: 16 * 1024 });
  await trail.start();
  await run(async (n) => {
    await trail.record({ actor: 'line', action: 'crash.test', subject: `S${n}`, after: { n } });
  });
} else if (mode === 'doc') {
  const store = new DocumentStore({ dir: dir! });
  await store.start();
  const doc = await store.open('counter', () => ({ n: -1, history: [] as number[] }));
  await run((n) =>
    doc.update((d) => {
      d.n = Math.max(d.n, n);
      d.history.push(n);
      if (d.history.length > 50) d.history.shift();
    }),
  );
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
