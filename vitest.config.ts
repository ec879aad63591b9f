import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Integration tests open real ports and pseudo-terminals; files run in separate processes.
    pool: 'forks',
    // Two files at a time whatever the machine (vitest's default is one fewer than the cores: a
    // single file at a time on CI's two cores). Most files wait on sockets, ptys and the disk,
    // not the processor, so two halve the suite's time without starving its timing tests.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
