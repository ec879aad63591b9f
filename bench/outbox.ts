/**
 * `npm run bench:outbox`: the registry outbox flushing 20,000 waiting records to a private
 * Mosquitto with the simulated registry answering every one, against raw MQTT.js QoS 1 publish
 * loops of the same payloads to the same broker, in the same run:
 * - pipelined: every publish issued at once, timed until the last PUBACK (the broker's intake
 *   rate; nothing reaches a subscriber, nothing is acknowledged by a registry);
 * - the publish loop: each publish awaits its PUBACK before the next (the baseline the target,
 *   at least half its rate, is judged against: docs/registry.md says why);
 * - windowed through the registry: the same flow as the outbox (at most `window` records awaiting
 *   the registry's ack) without the outbox, which separates the cost of the outbox from the cost
 *   of the round trip through the registry;
 * - a burst to the registry: every record published at once to the topic the registry hears,
 *   counting the answers, since a broker drops what overflows a subscriber's queue.
 * The outbox's time runs from `start()` (which reads the 20,000 records back from the disk) until
 * the registry's last ack; the time from the link coming up is shown too.
 *
 * The registry simulator runs in a child process, as a real registry is elsewhere: in this
 * process it would take its validation and fsyncs out of the line's share of the CPU.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createMosquitto } from '../simulators/broker/mosquitto.js';
import { engravedRecord } from '../simulators/registry/sample.js';
import { Outbox } from '../src/registry/outbox.js';
import { RegistryReporter } from '../src/registry/reporter.js';

const COUNT = Number(process.env.BENCH_OUTBOX_COUNT ?? 20_000);
const WINDOW = Number(process.env.BENCH_OUTBOX_WINDOW ?? 500);
const ISSUER = 1234;
const LINE = 'bench-line';
const RAW_LINE = 'bench-raw';

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Cpu {
  line: number;
  registry: number;
  broker: number;
}

function measureCpu(registryPid: number | undefined, brokerPid: number | undefined): () => Cpu {
  const self = process.cpuUsage();
  const registry = cpuSeconds(registryPid);
  const broker = cpuSeconds(brokerPid);
  return () => {
    const used = process.cpuUsage(self);
    return {
      line: (used.user + used.system) / 1e6,
      registry: cpuSeconds(registryPid) - registry,
      broker: cpuSeconds(brokerPid) - broker,
    };
  };
}

function cpuText(cpu: Cpu): string {
  return `${cpu.line.toFixed(1)} / ${cpu.registry.toFixed(1)} / ${cpu.broker.toFixed(1)}`;
}

function cpuModel(): string {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  return /model name\s*:\s*(.+)/.exec(info)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

async function rawPublish(
  url: string,
  version: 4 | 5,
  payloads: Buffer[],
  pipelined: boolean,
): Promise<number> {
  // Same payloads, same broker; nobody subscribes to the topic, so only publish and PUBACK count.
  const client = await mqtt.connectAsync(url, {
    protocolVersion: version,
    clientId: `bench-raw-${version}`,
    clean: true,
  });
  const started = performance.now();
  if (pipelined) {
    await Promise.all(payloads.map((p) => client.publishAsync('bench/raw', p, { qos: 1 })));
  } else {
    for (const p of payloads) await client.publishAsync('bench/raw', p, { qos: 1 });
  }
  const elapsed = performance.now() - started;
  await client.endAsync();
  return elapsed;
}

/** Publishes with at most WINDOW awaiting the registry's ack, until every record is acknowledged. */
async function rawThroughRegistry(url: string, version: 4 | 5, payloads: Buffer[]): Promise<number> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: version,
    clientId: `bench-raw-registry-${version}`,
  });
  const records = `microstamp/v1/${ISSUER}/${RAW_LINE}/records`;
  await client.subscribeAsync(`microstamp/v1/${ISSUER}/${RAW_LINE}/acks`, { qos: 1 });
  let sent = 0;
  let acked = 0;
  let scheduled = false;
  const pump = () => {
    scheduled = false;
    while (sent - acked < WINDOW && sent < payloads.length)
      client.publish(records, payloads[sent++]!, { qos: 1 });
  };
  const started = performance.now();
  await new Promise<void>((resolve) => {
    client.on('message', () => {
      if (++acked === payloads.length) resolve();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(pump);
      }
    });
    pump();
  });
  const elapsed = performance.now() - started;
  await client.endAsync();
  return elapsed;
}

/**
 * Publishes every record at once to the registry, with no window, and counts the acks that come
 * back until none has come for two seconds: how much of a burst reaches a subscriber at all.
 */
async function rawBurstThroughRegistry(
  url: string,
  version: 4 | 5,
  payloads: Buffer[],
): Promise<{ acked: number; ms: number }> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: version,
    clientId: `bench-raw-burst-${version}`,
  });
  const records = `microstamp/v1/${ISSUER}/${RAW_LINE}/records`;
  await client.subscribeAsync(`microstamp/v1/${ISSUER}/${RAW_LINE}/acks`, { qos: 1 });
  let acked = 0;
  const started = performance.now();
  let last = started;
  await new Promise<void>((resolve) => {
    let quiet = setTimeout(resolve, 2_000);
    client.on('message', () => {
      last = performance.now();
      if (++acked === payloads.length) {
        clearTimeout(quiet);
        resolve();
        return;
      }
      clearTimeout(quiet);
      quiet = setTimeout(resolve, 2_000);
    });
    for (const p of payloads) client.publish(records, p, { qos: 1 });
  });
  await client.endAsync();
  return { acked, ms: last - started };
}

async function startRegistry(url: string, version: 4 | 5, file: string): Promise<ChildProcess> {
  const script = `
    const { SimulatedRegistry } = await import(${JSON.stringify(new URL('../simulators/registry/registry.ts', import.meta.url).href)});
    const registry = new SimulatedRegistry({ mqtt: { url: ${JSON.stringify(url)}, protocolVersion: ${version}, clientId: 'bench-registry-${version}' }, file: ${JSON.stringify(file)} });
    await registry.start();
    process.stdout.write('ready\\n');
    process.on('SIGTERM', async () => { await registry.stop(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`registry simulator exited with ${code}`)));
  });
  return child;
}

/** Puts the records in an outbox while no link runs, as they would pile up while the broker is away. */
async function fillOutbox(dataDir: string, records: ReturnType<typeof engravedRecord>[]): Promise<void> {
  const filling = new Outbox({ dir: join(dataDir, 'outbox') });
  await filling.start();
  for (let i = 0; i < records.length; i += 1_000) await filling.enqueue(records.slice(i, i + 1_000));
  await filling.stop();
}

async function flushOutbox(
  url: string,
  version: 4 | 5,
  dataDir: string,
): Promise<{ ms: number; fromUpMs: number; startMs: number; resent: number }> {
  const reporter = new RegistryReporter({
    dataDir,
    issuer: ISSUER,
    line: LINE,
    version: 'bench',
    mqtt: { url, protocolVersion: version, clientId: `bench-line-${version}` },
    window: WINDOW,
    resendAfterMs: 30_000,
  });
  const done = new Promise<void>((resolve) => {
    reporter.outbox.on('acked', () => {
      if (reporter.outbox.depth() === 0) resolve();
    });
  });
  let upAt = 0;
  reporter.on('link', ({ up }) => {
    if (up && upAt === 0) upAt = performance.now();
  });
  const started = performance.now();
  await reporter.start();
  const startMs = performance.now() - started;
  await done;
  const finished = performance.now();
  const { resent } = reporter.outbox.stats();
  await reporter.stop();
  return { ms: finished - started, fromUpMs: finished - upAt, startMs, resent };
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v mosquitto']).status !== 0) {
    process.stderr.write('bench:outbox needs mosquitto (apt-get install mosquitto)\n');
    process.exitCode = 1;
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'stampline-bench-outbox-'));
  const broker = await createMosquitto({ dir: join(dir, 'mosquitto') });
  await broker.start();
  const rows: string[] = [];
  const verdicts: string[] = [];
  try {
    for (const version of [4, 5] as const) {
      const records = Array.from({ length: COUNT }, () => engravedRecord({ issuer: ISSUER, line: LINE }));
      const payloads = records.map((r) => Buffer.from(JSON.stringify(r)));
      const rawRecords = Array.from({ length: COUNT }, () =>
        engravedRecord({ issuer: ISSUER, line: RAW_LINE }),
      );
      const rawPayloads = rawRecords.map((r) => Buffer.from(JSON.stringify(r)));
      const registry = await startRegistry(broker.url, version, join(dir, `registry-v${version}.jsonl`));
      try {
        // Warm-up, untimed: the registry's and this process's code paths get compiled first.
        const warmUp = Array.from({ length: 2_000 }, () =>
          engravedRecord({ issuer: ISSUER, line: RAW_LINE }),
        );
        await rawThroughRegistry(
          broker.url,
          version,
          warmUp.map((r) => Buffer.from(JSON.stringify(r))),
        );
        const mqttName = version === 4 ? '3.1.1' : '5';
        let cpu = measureCpu(registry.pid, broker.pid);
        const pipelined = await rawPublish(broker.url, version, payloads, true);
        const pipelinedCpu = cpu();
        cpu = measureCpu(registry.pid, broker.pid);
        const sequential = await rawPublish(broker.url, version, payloads, false);
        const sequentialCpu = cpu();
        cpu = measureCpu(registry.pid, broker.pid);
        const windowed = await rawThroughRegistry(broker.url, version, rawPayloads);
        const windowedCpu = cpu();
        const burstPayloads = Array.from({ length: COUNT }, () =>
          Buffer.from(JSON.stringify(engravedRecord({ issuer: ISSUER, line: RAW_LINE }))),
        );
        const burst = await rawBurstThroughRegistry(broker.url, version, burstPayloads);
        const dataDir = join(dir, `line-v${version}`);
        await fillOutbox(dataDir, records);
        cpu = measureCpu(registry.pid, broker.pid);
        const outbox = await flushOutbox(broker.url, version, dataDir);
        const outboxCpu = cpu();
        const rate = (ms: number) => COUNT / (ms / 1000);
        const pipelinedRate = rate(pipelined);
        const sequentialRate = rate(sequential);
        const row = (what: string, ms: number, used: Cpu) =>
          `| ${mqttName} | ${what} | ${(ms / 1000).toFixed(2)} s | ${Math.round(rate(ms))} /s | ${(rate(ms) / pipelinedRate).toFixed(2)} | ${(rate(ms) / sequentialRate).toFixed(2)} | ${cpuText(used)} |`;
        const flushRate = rate(outbox.ms);
        const loopRatio = flushRate / sequentialRate;
        verdicts.push(
          `MQTT ${mqttName}: a burst of ${COUNT} records published at once to the subscribed registry: ${burst.acked} answered (${COUNT - burst.acked} dropped by the broker), the last after ${(burst.ms / 1000).toFixed(2)} s`,
        );
        verdicts.push(
          `MQTT ${mqttName}: outbox flush ${loopRatio.toFixed(2)}x the QoS 1 publish loop (target >= 0.5: ${loopRatio >= 0.5 ? 'met' : 'NOT met'}); ${(flushRate / pipelinedRate).toFixed(2)}x the pipelined burst; ${(flushRate / rate(windowed)).toFixed(2)}x the bare windowed client through the registry`,
        );
        rows.push(
          row('raw publish loop, pipelined (PUBACK)', pipelined, pipelinedCpu),
          row('raw QoS 1 publish loop, each PUBACK awaited', sequential, sequentialCpu),
          row('raw windowed publish through the registry (registry ack), no outbox', windowed, windowedCpu),
          row(
            `outbox flush, registry ack, incl. start-up ${Math.round(outbox.startMs)} ms`,
            outbox.ms,
            outboxCpu,
          ),
          `| ${mqttName} | outbox flush, from link up (${outbox.resent} resent) | ${(outbox.fromUpMs / 1000).toFixed(2)} s | ${Math.round(rate(outbox.fromUpMs))} /s | ${(rate(outbox.fromUpMs) / pipelinedRate).toFixed(2)} | ${(rate(outbox.fromUpMs) / sequentialRate).toFixed(2)} | |`,
        );
      } finally {
        registry.kill('SIGTERM');
        await once(registry, 'exit');
      }
    }
  } finally {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  console.log(
    `Registry outbox: ${COUNT} records, window ${WINDOW}, Mosquitto, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(`nproc ${nproc}, ${cpuModel()}, node ${process.version}\n`);
  console.log(
    '| MQTT | what | time | rate | ratio to pipelined | ratio to the publish loop | CPU s: line / registry / broker |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log('');
  for (const verdict of verdicts) console.log(verdict);
}

await main();
