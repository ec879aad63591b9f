import type { Command } from 'commander';

/** `stampline code ...` and `stampline sim identify`. */
export function registerCodeCommands(_program: Command, _sim: Command): void {}
