/**
 * An `Engraver` wired straight to the simulated device, with no link in between. Line tests use
 * it to exercise the job state machine quickly and deterministically; link behaviour is covered
 * by the transport conformance suite.
 */

import type { EngraverDevice } from '../../simulators/engraver/device.js';
import type {
  EngraveJob,
  Engraver,
  EngraverStatus,
  JobOutcome,
  LinkEvent,
  WaitOptions,
} from '../../src/engraver/types.js';
import { StamplineError } from '../../src/errors.js';

export class DeviceEngraver implements Engraver {
  readonly url = 'device://in-process';
  connected = false;
  private readonly listeners = new Set<(e: LinkEvent) => void>();

  constructor(readonly device: EngraverDevice) {}

  async start(): Promise<void> {
    this.up();
  }

  async stop(): Promise<void> {
    this.down('stopped');
  }

  up(): void {
    this.connected = true;
    const status = this.device.status();
    for (const l of this.listeners) l({ kind: 'up', status });
  }

  down(reason: string): void {
    this.connected = false;
    for (const l of this.listeners) l({ kind: 'down', reason });
  }

  onLink(listener: (event: LinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async whenConnected(): Promise<void> {
    this.check();
  }

  private check(): void {
    if (!this.connected) throw new StamplineError('ENGRAVER_LINK_DOWN', 'link down');
  }

  async readStatus(): Promise<EngraverStatus> {
    this.check();
    return this.device.status();
  }

  async readInterfaceVersion(): Promise<number> {
    return 1;
  }

  async loadJob(job: EngraveJob): Promise<void> {
    this.check();
    const refusal = this.device.loadJob({
      jobId: job.jobId,
      text: job.text,
      gear: job.gear,
      mirror: job.mirror,
      breechFace: job.target === 'breech-face',
      recipe: job.recipe,
    });
    if (refusal === 'BUSY') throw new StamplineError('ENGRAVER_BUSY', 'busy');
    if (refusal) throw new StamplineError('ENGRAVER_REJECTED', refusal);
  }

  async startJob(jobId: number): Promise<void> {
    this.check();
    const refusal = this.device.go(jobId);
    if (refusal) throw new StamplineError('ENGRAVER_REJECTED', refusal);
  }

  async waitForEnd(jobId: number, options: WaitOptions): Promise<JobOutcome> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      this.check();
      const s = this.device.status();
      if (s.activeJob !== jobId) throw new StamplineError('ENGRAVER_REJECTED', `job ${jobId} is not active`);
      if (s.state === 'DONE') return { kind: 'done', jobId, completed: s.completed };
      if (s.state === 'FAULT') return { kind: 'fault', jobId, fault: s.fault };
      if (Date.now() > deadline) throw new StamplineError('ENGRAVER_TIMEOUT', `job ${jobId} still marking`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async abort(): Promise<void> {
    this.device.abort();
  }

  async reset(): Promise<void> {
    this.device.reset();
  }
}
