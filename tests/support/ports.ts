/** Free TCP ports for tests that start real processes on their own ports. */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';

/** Distinct free ports: every listener is held open until all are chosen, so none repeats. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
    }
    return servers.map((s) => {
      const a = s.address();
      if (!a || typeof a === 'string') throw new Error('no port');
      return a.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
