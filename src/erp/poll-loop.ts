/**
 * The poll loop of a watched folder (the ERP drop folder, the QA image folder): one scan at a
 * time, again every `pollMs` while running; a stop waits for the scan in flight. A folder that
 * cannot be read is logged once per new problem, not once per poll, and its return is logged.
 */
import type { IntakeLogger } from './drop-folder.js';
import { message } from './settled-files.js';

export class PollLoop {
  #timer: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #running = false;
  #stopping = false;
  #folderError: string | undefined;

  constructor(
    private readonly o: {
      dir: string;
      pollMs: number;
      /** how log lines name the folder: `drop folder`, `image folder` */
      label: string;
      logger: IntakeLogger;
      scan: () => Promise<void>;
    },
  ) {}

  /** True from a stop on: a scan in progress ends after the file it is taking. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Runs `prepare`, then the first scan at once and the next every `pollMs`; does nothing if running. */
  async start(prepare: () => Promise<void>): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    await prepare();
    this.#schedule(0);
  }

  /** Stops polling; waits for the scan in flight. Safe to call twice. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#scanning;
  }

  /** Scans once now, or joins the scan in flight. */
  scanNow(): Promise<void> {
    if (!this.#scanning) {
      this.#scanning = this.o.scan().finally(() => {
        this.#scanning = undefined;
      });
    }
    return this.#scanning;
  }

  #schedule(delay: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.scanNow().then(() => this.#schedule(this.o.pollMs));
    }, delay);
  }

  /** Logs a problem with the folder itself, once per new problem. */
  folderProblem(err: unknown, what: string): void {
    const msg = `${what}: ${message(err)}`;
    if (msg !== this.#folderError)
      this.o.logger.error({ dir: this.o.dir, err: message(err) }, `${this.o.label}: ${what}`);
    this.#folderError = msg;
  }

  /** The folder could be read: logs its return after a problem. */
  folderAvailable(): void {
    if (this.#folderError) this.o.logger.info({ dir: this.o.dir }, `${this.o.label}: folder available again`);
    this.#folderError = undefined;
  }
}
