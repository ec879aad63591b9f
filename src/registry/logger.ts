/**
 * The part of a pino logger the registry code uses, so that a test or a tool can pass anything
 * that looks like one (or nothing) without pulling in pino.
 */
export interface RegistryLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): RegistryLogger;
}

const noop = (): void => {};

export const silentLogger: RegistryLogger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
