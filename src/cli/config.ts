import type { Command } from 'commander';
import { stringify } from 'yaml';
import { type LoadedConfig, readConfig } from '../config/load.js';
import { maskSecrets } from '../config/secrets.js';

interface EnvOption {
  /** False with --no-env. */
  env: boolean;
}

function load(file: string | undefined, opts: EnvOption): Promise<LoadedConfig> {
  return readConfig({ file, env: opts.env ? process.env : {} });
}

function simulated(loaded: LoadedConfig): string {
  const s = loaded.config.simulators;
  const on = [
    s.engraver.enabled && `engraver (${s.engraver.transport})`,
    s.broker.enabled && 'broker',
    s.registry.enabled && 'registry',
    s.sampleOrder.enabled && 'sample order',
    s.testfire.enabled && 'test fire',
  ].filter(Boolean);
  return on.length > 0 ? on.join(', ') : 'nothing';
}

function summary(label: string, loaded: LoadedConfig): string {
  const c = loaded.config;
  const block = c.issuer.indexBlock;
  const rows: [string, string][] = [
    ['line', `${c.line.id} (${c.line.name}), data in ${c.line.dataDir}`],
    [
      'issuer',
      `${c.issuer.number}, ${c.issuer.kind} ${c.issuer.licence}, indexes ${block.start}..${block.start + block.size - 1}`,
    ],
    ['engraver', `${c.engraver.url} (id ${c.engraver.id}, profile ${c.engraver.profile})`],
    [
      'registry',
      `${c.mqtt.url} (MQTT ${c.mqtt.protocolVersion === 5 ? '5' : '3.1.1'}, client ${c.mqtt.clientId})`,
    ],
    ['http', `${c.http.host}:${c.http.port}`],
    ['qa policy', c.qa.policy.kind],
    ['simulated', simulated(loaded)],
    ['from env', loaded.variables.length > 0 ? loaded.variables.join(', ') : 'nothing'],
  ];
  return `${label}: valid\n${rows.map(([k, v]) => `  ${k.padEnd(10)} ${v}`).join('\n')}\n`;
}

function warn(loaded: LoadedConfig): void {
  for (const w of loaded.warnings) process.stderr.write(`stampline: warning: ${w}\n`);
}

/** `stampline config check [FILE]` and `stampline config show [FILE]`. */
export function registerConfigCommands(program: Command): void {
  const config = program
    .command('config')
    .description('check or show a line configuration (the file, then the STAMPLINE_* environment variables)');

  config
    .command('check')
    .argument('[file]', 'configuration file (default: $STAMPLINE_CONFIG, else config/default.yaml)')
    .option('--no-env', 'ignore STAMPLINE_* environment variables: check the file alone')
    .description('validate a configuration as `stampline start` reads it; exits 2 listing every problem')
    .action(async (file: string | undefined, opts: EnvOption) => {
      const loaded = await load(file, opts);
      process.stdout.write(summary(loaded.file, loaded));
      warn(loaded);
    });

  config
    .command('show')
    .argument('[file]', 'configuration file (default: $STAMPLINE_CONFIG, else config/default.yaml)')
    .option('--no-env', 'ignore STAMPLINE_* environment variables')
    .option('--json', 'print JSON instead of YAML')
    .description('print the effective configuration, every default filled in, with secrets masked')
    .action(async (file: string | undefined, opts: EnvOption & { json?: boolean }) => {
      const loaded = await load(file, opts);
      const masked = maskSecrets(loaded.config);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(masked, null, 2)}\n`);
      } else {
        process.stdout.write(
          `# Effective configuration from ${loaded.file}; secrets masked.\n${stringify(masked)}`,
        );
      }
      warn(loaded);
    });
}
