/**
 * The settings reference of docs/configuration.md, generated from the schema's descriptions so
 * that the documentation cannot drift from what the loader accepts.
 */
import { ENV_OVERRIDES } from './env.js';
import { SETTINGS, type SettingInfo } from './settings.js';

export const BEGIN_MARKER = '<!-- BEGIN GENERATED: settings (npm run docs:config) -->';
export const END_MARKER = '<!-- END GENERATED: settings -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function defaultOf(s: SettingInfo): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default !== undefined) {
    const v = typeof s.default === 'string' ? s.default : JSON.stringify(s.default);
    return `\`${v}\``;
  }
  if (s.required) return '**required**';
  return s.section ? '' : 'not set';
}

function descriptionOf(s: SettingInfo): string {
  const parts = [s.description];
  if (s.secret) parts.push('Secret: masked in logs and `config show`.');
  if (s.fsPath) parts.push("Relative to the configuration file's folder.");
  const env = ENV_OVERRIDES.find((o) => o.path.join('.') === s.path);
  if (env) parts.push(`Environment: \`${env.variable}\`.`);
  return parts.join(' ');
}

function row(s: SettingInfo): string[] {
  const name = `\`${s.path}\`${s.variant ? ` (${s.variant})` : ''}`;
  return [name, s.type, defaultOf(s), descriptionOf(s)].map(cell);
}

/** A table with its columns padded, as the repository's formatter (Biome) writes Markdown tables. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The reference: one table per top-level section, in schema order, then the environment variables. */
export function renderSettingsReference(): string {
  const out: string[] = [];
  for (const section of SETTINGS.filter((s) => s.segments.length === 1)) {
    out.push(`### \`${section.path}\``, '', section.description, '');
    const rows = SETTINGS.filter((s) => s.segments[0] === section.path && s.segments.length > 1).map(row);
    out.push(...table(['Setting', 'Type', 'Default', 'Meaning'], rows), '');
  }
  out.push('### Environment variables', '');
  const variables = [
    ['`STAMPLINE_CONFIG`', '(the file)', 'path of the configuration file; relative to the working directory'],
    ...ENV_OVERRIDES.map((o) => [`\`${o.variable}\``, `\`${o.path.join('.')}\``, cell(o.format)]),
  ];
  out.push(...table(['Variable', 'Setting', 'Value'], variables));
  return `${out.join('\n').trimEnd()}\n`;
}

/** `doc` with the text between the markers replaced by `generated`. */
export function replaceGenerated(doc: string, generated: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`the markers ${BEGIN_MARKER} and ${END_MARKER} are missing`);
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n\n${generated}\n${doc.slice(end)}`;
}
