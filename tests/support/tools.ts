/**
 * Some tests need a real program beside Node (socat for serial pseudo-terminals, mosquitto,
 * mbpoll, chromium). `.ci/run` installs them, so under CI a missing tool is a failure; on a
 * developer's machine without one the test is skipped with a message saying what to install.
 */
import { spawnSync } from 'node:child_process';

const cache = new Map<string, boolean>();

export function hasCommand(name: string): boolean {
  let found = cache.get(name);
  if (found === undefined) {
    found = spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
    cache.set(name, found);
  }
  return found;
}

/**
 * Returns true when every named command is present. Under CI a missing command throws, so a
 * broken install step cannot turn into silently skipped tests.
 */
export function requireCommands(...names: string[]): boolean {
  const missing = names.filter((n) => !hasCommand(n));
  if (missing.length === 0) return true;
  const msg = `missing ${missing.join(', ')}: install with apt-get (see .ci/run)`;
  if (process.env.CI) throw new Error(`CI must provide ${missing.join(', ')}; ${msg}`);
  process.stderr.write(`[skip] ${msg}\n`);
  return false;
}
