/**
 * A command marker on a real link: the profile-driven simulator on one end (TCP on loopback, or a
 * socat pseudo-terminal pair), our driver on the other, for any profile.
 */
import { CommandMarkerServer } from '../../../simulators/engraver/command-server.js';
import { MarkerDevice } from '../../../simulators/engraver/marker-device.js';
import { openPtyPair } from '../../../simulators/engraver/pty-pair.js';
import { type CommandProfile, loadCommandProfile } from '../../../src/engraver/commands/profile.js';
import { createEngraver } from '../../../src/engraver/index.js';
import type { Engraver, LinkEvent } from '../../../src/engraver/types.js';
import { type Cleanup, REQUEST_TIMEOUT_MS } from '../support/rigs.js';

export const PROFILES = ['kv-marker', 'tl-marker'] as const;
export const LINKS = ['commands-tcp', 'commands-serial'] as const;

export interface MarkerRig {
  url: string;
  profile: CommandProfile;
  device: MarkerDevice;
  server: CommandMarkerServer;
  engraver: Engraver;
  events: LinkEvent[];
  /** A second driver on the same marker, as the daemon after a restart. */
  reopen(): Promise<{ engraver: Engraver; events: LinkEvent[] }>;
  close(): Promise<void>;
}

const SERIAL_DROP_MS = 6 * REQUEST_TIMEOUT_MS;

export async function openMarkerRig(
  profileName: string | CommandProfile,
  link: (typeof LINKS)[number],
  options: { markingTimeMs: number },
): Promise<MarkerRig> {
  const profile = typeof profileName === 'string' ? loadCommandProfile(profileName) : profileName;
  const device = new MarkerDevice({ markingTimeMs: options.markingTimeMs });
  const cleanups: Cleanup[] = [() => device.close()];
  const run = async () => {
    for (const task of cleanups.splice(0)) await Promise.resolve(task()).catch(() => undefined);
  };
  try {
    let server: CommandMarkerServer;
    let url: string;
    if (link === 'commands-tcp') {
      server = new CommandMarkerServer({ device, profile, link: { kind: 'tcp', port: 0 } });
      await server.start();
      url = `commands-tcp://127.0.0.1:${server.port}?profile=${profile.name}`;
    } else {
      const pair = await openPtyPair();
      cleanups.unshift(() => pair.close());
      server = new CommandMarkerServer({
        device,
        profile,
        link: { kind: 'serial', path: pair.a, baudRate: 9600, dropForMs: SERIAL_DROP_MS },
      });
      await server.start();
      url = `commands-serial://${pair.b}?profile=${profile.name}&baud=9600`;
    }
    cleanups.unshift(() => server.stop());
    const connect = async () => {
      const engraver = createEngraver(url, {
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        reconnect: { initialMs: 100, maxMs: 800 },
        pollIntervalMs: 50,
        commandProfile: profile,
      });
      const events: LinkEvent[] = [];
      engraver.onLink((event) => events.push(event));
      cleanups.unshift(() => engraver.stop());
      await engraver.start();
      await engraver.whenConnected(10_000);
      return { engraver, events };
    };
    const first = await connect();
    return { url, profile, device, server, ...first, reopen: connect, close: run };
  } catch (err) {
    await run();
    throw err;
  }
}

/** A profile like `name` with its counter of completed markings removed. */
export function withoutCounter(name: string): CommandProfile {
  const profile = loadCommandProfile(name);
  return {
    ...profile,
    name: `${profile.name}-no-counter`,
    counter: null,
    compiled: { ...profile.compiled, counter: undefined },
  };
}
