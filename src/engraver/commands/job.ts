/**
 * A job as a command profile writes it: the load commands with their placeholders filled, and
 * why a job cannot be written at all (a text the marker's block cannot take, a gear string too
 * long), told before anything goes on the wire.
 */
import type { EngraveJob } from '../types.js';
import type { Outgoing } from './exchange.js';
import type { CommandProfile } from './profile.js';
import { render } from './template.js';

/** The value of every placeholder a command may carry, for this job. */
export function jobValues(profile: CommandProfile, job: EngraveJob): Record<string, string> {
  const { toothChar, gapChar } = profile.gear;
  return {
    program: profile.programs[job.target],
    text: job.text,
    gear: [...job.gear].map((bit) => (bit === '1' ? toothChar : gapChar)).join(''),
    jobId: String(job.jobId),
    mirror: job.mirror ? '1' : '0',
    power: String(job.recipe.power),
    frequency: String(job.recipe.frequency),
    speed: String(job.recipe.speed),
    passes: String(job.recipe.passes),
  };
}

export function jobCommands(profile: CommandProfile, job: EngraveJob): Outgoing[] {
  const values = jobValues(profile, job);
  return profile.compiled.load.map((exchange, i) => ({
    label: `load ${i}`,
    line: render(exchange.send, values),
    exchange,
  }));
}

/** Why the job cannot be sent to this marker, or undefined when it can. */
export function jobProblem(profile: CommandProfile, job: EngraveJob): string | undefined {
  if (typeof job !== 'object' || job === null) return 'is not a job';
  if (!Number.isInteger(job.jobId) || job.jobId < 1 || job.jobId > 0xffffffff) {
    return `jobId ${String(job.jobId)} is not an integer 1..4294967295`;
  }
  if (typeof job.text !== 'string' || !/^[\x20-\x7e]*$/.test(job.text)) {
    return 'text must be printable ASCII';
  }
  if (job.text.length > profile.text.maxLength) {
    return `text "${job.text}" has ${job.text.length} characters; the profile allows ${profile.text.maxLength}`;
  }
  const bad = [...job.text].find((ch) => profile.text.forbidden.includes(ch));
  if (bad !== undefined)
    return `text "${job.text}" holds "${bad}", which ${profile.name} cannot carry in a command`;
  if (typeof job.gear !== 'string' || !/^[01]*$/.test(job.gear)) return 'gear must be a string of 0 and 1';
  if (job.gear.length > profile.gear.maxBits) {
    return `gear has ${job.gear.length} bits; the profile allows ${profile.gear.maxBits}`;
  }
  if (!(job.target in profile.programs))
    return `target "${String(job.target)}" has no program in the profile`;
  return undefined;
}
