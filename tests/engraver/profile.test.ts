import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_PROFILE,
  loadProfile,
  parseProfile,
  resolveProfilePath,
} from '../../src/engraver/profile.js';
import { isStamplineError, type StamplineError } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'stampline-profile-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function refusal(load: () => unknown): StamplineError {
  try {
    load();
  } catch (err) {
    expect(isStamplineError(err, 'ENGRAVER_BAD_PROFILE')).toBe(true);
    return err as StamplineError;
  }
  throw new Error('the profile was accepted');
}

const MINIMAL = {
  name: 'minimal',
  registers: {
    state: 1,
    fault: 2,
    activeJob: 4,
    jobId: 10,
    text: 13,
    gear: 21,
    flags: 28,
    power: 30,
    frequency: 31,
    speed: 32,
    passes: 33,
  },
  commands: { start: { coil: 0 }, abort: { coil: 1 }, reset: { coil: 2 } },
};

describe('register-map profiles', () => {
  it('ships sl1-modbus as the default, matching the spec table exactly', () => {
    const p = loadProfile();
    expect(p.name).toBe(DEFAULT_PROFILE);
    expect(p.registers).toEqual({
      interface: 0,
      state: 1,
      fault: 2,
      completed: 3,
      activeJob: 4,
      jobId: 10,
      textLength: 12,
      text: 13,
      gear: 21,
      gearLength: 27,
      flags: 28,
      power: 30,
      frequency: 31,
      speed: 32,
      passes: 33,
    });
    expect(p.uint32WordOrder).toBe('high-first');
    expect(p.text).toEqual({ maxLength: 16, byteOrder: 'high-first' });
    expect(p.gear).toEqual({ maxBits: 96, bitOrder: 'msb-first' });
    expect(p.flags).toEqual({ mirror: 0, breechFace: 1 });
    expect(p.commands).toEqual({
      start: { coil: 0, release: false },
      abort: { coil: 1, release: false },
      reset: { coil: 2, release: false },
    });
    expect(p.stateCodes).toEqual({ READY: 0, BUSY: 1, DONE: 2, FAULT: 3 });
    expect(p.recipe).toEqual({ power: [0, 1000], frequency: [0, 65535], speed: [0, 65535], passes: [1, 20] });
    expect(p.busyExceptions).toEqual([6]);
    expect(p.interfaceVersion).toBe(1);
  });

  it('fills the optional parts with the reference values', () => {
    const p = parseProfile(MINIMAL, 'inline');
    expect(p.registers).toMatchObject({
      interface: null,
      completed: null,
      textLength: null,
      gearLength: null,
    });
    expect(p.text.maxLength).toBe(16);
    expect(p.jobWrite).toBe('one-block');
  });

  it('reads JSON and YAML files, by path', () => {
    const json = file('acme.json', JSON.stringify({ ...MINIMAL, name: 'acme' }));
    expect(loadProfile(json)).toMatchObject({ name: 'acme', source: json });
    const yaml = file(
      'acme.yaml',
      'name: acme-yaml\nregisters:\n  state: 1\n  fault: 2\n  activeJob: 4\n  jobId: 10\n  text: 13\n  gear: 21\n  flags: 28\n  power: 30\n  frequency: 31\n  speed: 32\n  passes: 33\ncommands:\n  start: { register: 40, value: 1 }\n  abort: { register: 40, value: 2 }\n  reset: { register: 40, value: 3, releaseValue: 0 }\n',
    );
    expect(loadProfile(yaml).commands.reset).toEqual({ register: 40, value: 3, releaseValue: 0 });
  });

  it('names the file and the field of a bad profile', () => {
    const path = file('bad.yaml', 'name: bad\nregisters:\n  state: -1\ncommands: {}\n');
    const err = refusal(() => loadProfile(path));
    expect(err.message).toContain(path);
    expect(err.message).toContain('registers.state');
    expect(err.message).toContain('registers.fault');
    expect(err.message).toContain('commands.start');
  });

  it('refuses an unknown field, so a typo is not silently ignored', () => {
    const err = refusal(() => parseProfile({ ...MINIMAL, uint32WordOder: 'low-first' }, 'typo.json'));
    expect(err.message).toMatch(/uint32WordOder/);
  });

  it('refuses registers used twice, naming both fields', () => {
    const err = refusal(() =>
      parseProfile({ ...MINIMAL, registers: { ...MINIMAL.registers, gear: 20 } }, 'overlap.json'),
    );
    expect(err.message).toMatch(/register 20 is used by both text and gear/);
  });

  it('refuses a state code given to two states', () => {
    const err = refusal(() =>
      parseProfile({ ...MINIMAL, stateCodes: { READY: [0, 4], BUSY: 1, DONE: 2, FAULT: 4 } }, 'states.json'),
    );
    expect(err.message).toMatch(/code 4 is given to both READY and FAULT/);
  });

  it('says which file could not be parsed or read', () => {
    const broken = file('broken.json', '{ "name": ');
    expect(refusal(() => loadProfile(broken)).message).toMatch(/broken\.json is not valid JSON/);
    expect(refusal(() => loadProfile('/nonexistent/engraver.yaml')).message).toMatch(/cannot be read/);
    expect(refusal(() => loadProfile('no-such-engraver')).message).toMatch(
      /not found in .*tried \.yaml, \.yml, \.json/,
    );
  });

  it('takes a bare name from config/profiles and anything with a slash or extension as a path', () => {
    expect(resolveProfilePath('sl1-modbus')).toMatch(/config\/profiles\/sl1-modbus\.yaml$/);
    expect(resolveProfilePath('./mine.yaml')).toBe(join(process.cwd(), 'mine.yaml'));
    expect(resolveProfilePath('/etc/stampline/x.json')).toBe('/etc/stampline/x.json');
  });
});
