import type { Command } from 'commander';

/** `stampline engraver ...` and `stampline sim engraver`. */
export function registerEngraverCommands(_program: Command, _sim: Command): void {}
