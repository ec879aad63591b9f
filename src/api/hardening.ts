/**
 * What every answer of the API carries whatever route made it, and how the requests that never
 * reach a route are answered: a body the JSON parser refuses, and a request line or headers too
 * large for the HTTP parser. Both leave in the error catalogue's shape, so a client reads one
 * kind of refusal.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ERROR_CATALOGUE, type ErrorCode, StamplineError } from '../errors.js';
import { normalizeTextForm, textRuleProblem } from '../text-rule.js';

/**
 * The explorer at /docs runs swagger-ui's own scripts and styles from the line; it calls only the
 * line, and no other site may frame it (a framed explorer can be made to click "Execute").
 */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
  "frame-ancestors 'none'";

/** Keys that would set an object's prototype when a parsed body is copied or merged. */
const POISON_KEYS = new Set(['__proto__']);

/**
 * JSON.parse, refusing `__proto__` keys and `constructor.prototype`, as fastify's parser does, but
 * saying so. The reviver runs only when the text could hold such a key (spelled out or escaped),
 * so a large order pays nothing for it.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) {
    throw new StamplineError('INVALID_INPUT', 'the body is empty; send a JSON value (for nothing, {})', {
      detail: 'empty body',
    });
  }
  const suspicious = text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');
  try {
    if (!suspicious) return JSON.parse(text);
    return JSON.parse(text, function check(key, value) {
      if (POISON_KEYS.has(key)) throw new PoisonedKey(`a key named ${key} is not allowed`);
      if (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value) {
        throw new PoisonedKey('a key named constructor holding a prototype is not allowed');
      }
      return value;
    });
  } catch (err) {
    if (err instanceof PoisonedKey) {
      throw new StamplineError('INVALID_INPUT', `the body is refused: ${err.message}`, {
        detail: 'forbidden key',
      });
    }
    throw new StamplineError('INVALID_INPUT', `the body is not valid JSON: ${(err as Error).message}`, {
      detail: 'invalid JSON',
    });
  }
}

class PoisonedKey extends Error {}

/** Fields that are secrets, not text: a password is hashed as given and never shown. */
const NOT_TEXT = new Set(['password']);

/** `a.b` for a plain key, `a["odd key"]` otherwise, as the order intake writes paths. */
function child(base: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

/**
 * Checks every string of a parsed body against the text rule (src/text-rule.ts), naming each
 * field that breaks it, and puts the others in NFC where they are. Answers the problems.
 */
export function checkBodyText(
  value: unknown,
  path = '',
  problems: Array<{ path: string; reason: string }> = [],
): Array<{ path: string; reason: string }> {
  if (problems.length >= 100 || value === null || typeof value !== 'object') return problems;
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  for (const [key, v] of entries) {
    const at = typeof key === 'number' ? `${path}[${key}]` : child(path, key);
    if (typeof v === 'string') {
      if (typeof key === 'string' && NOT_TEXT.has(key)) continue;
      const problem = textRuleProblem(v);
      if (problem) problems.push({ path: at, reason: problem });
      else (value as Record<string | number, unknown>)[key] = normalizeTextForm(v);
    } else if (typeof key === 'string' && textRuleProblem(key)) {
      problems.push({ path: at, reason: `the key ${textRuleProblem(key)}` });
    } else checkBodyText(v, at, problems);
  }
  return problems;
}

/** Adds the JSON parser and the headers of every answer to the app. Call before any route. */
export function harden(app: FastifyInstance): void {
  // One rule for every text field of every body, whatever the route's schema says of it.
  app.addHook('preValidation', async (req) => {
    if (req.body === null || typeof req.body !== 'object') return;
    const problems = checkBodyText(req.body);
    if (problems.length === 0) return;
    const code: ErrorCode = req.routeOptions.config?.invalidInput ?? 'INVALID_INPUT';
    throw new StamplineError(
      code,
      `the request body is not valid: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`,
      { in: 'body', problems },
    );
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addHook('onSend', async (req, reply) => {
    // No answer of the line is ever to be read as something other than what it says it is.
    reply.header('x-content-type-options', 'nosniff');
    if (req.url === '/docs' || req.url.startsWith('/docs/') || req.url.startsWith('/docs?')) {
      reply.header('content-security-policy', DOCS_CSP);
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
    }
  });
}

/**
 * Answers what the HTTP parser refused before fastify saw a request: 431 for a request line or
 * headers over the limit (a URL over 16 KB), 408 for a client too slow, 400 for anything else,
 * each with a body in the catalogue's shape.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status: number;
  let code: keyof typeof ERROR_CATALOGUE;
  let message: string;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = ERROR_CATALOGUE.REQUEST_TOO_LARGE.status;
    code = 'REQUEST_TOO_LARGE';
    message =
      'the request line and headers are larger than 16 KB; a URL must be shorter (send long input as a JSON body)';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    code = 'INVALID_INPUT';
    message = 'the request did not arrive in time';
  } else {
    status = 400;
    code = 'INVALID_INPUT';
    message = 'the request is not valid HTTP';
  }
  const body = JSON.stringify({ error: { code, message, context: { detail: err.code ?? null } } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
