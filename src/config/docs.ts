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

function row(s: SettingInfo): string {
  const name = `\`${s.path}\`${s.variant ? ` (${s.variant})` : ''}`;
  return `| ${cell(name)} | ${cell(s.type)} | ${cell(defaultOf(s))} | ${cell(descriptionOf(s))} |`;
}

/** The reference: one table per top-level section, in schema order. */
export function renderSettingsReference(): string {
  const out: string[] = [];
  for (const section of SETTINGS.filter((s) => s.segments.length === 1)) {
    out.push(`### \`${section.path}\``, '', section.description, '');
    out.push('| Setting | Type | Default | Meaning |', '|---|---|---|---|');
    for (const s of SETTINGS) {
      if (s.segments[0] === section.path && s.segments.length > 1) out.push(row(s));
    }
    out.push('');
  }
  out.push('### Environment variables', '');
  out.push('| Variable | Setting | Value |', '|---|---|---|');
  out.push(
    '| `STAMPLINE_CONFIG` | (the file) | path of the configuration file; relative to the working directory |',
  );
  for (const o of ENV_OVERRIDES)
    out.push(`| \`${o.variable}\` | \`${o.path.join('.')}\` | ${cell(o.format)} |`);
  return `${out.join('\n').trimEnd()}\n`;
}

/** `doc` with the text between the markers replaced by `generated`. */
export function replaceGenerated(doc: string, generated: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`the markers ${BEGIN_MARKER} and ${END_MARKER} are missing`);
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n\n${generated}\n${doc.slice(end)}`;
}
