/**
 * One error class for the whole line, with stable codes grouped by subsystem.
 *
 * The catalogue is the single place that says, for every code, the HTTP status an API answer
 * carries and whether the failure is transient (worth retrying: a timeout, a lost link) or
 * permanent (retrying changes nothing: a rejected job, a bad input). Recovery code branches on
 * `transient`, never on message text.
 */

interface CatalogueEntry {
  readonly status: number;
  readonly transient: boolean;
  readonly summary: string;
}

function entry(status: number, transient: boolean, summary: string): CatalogueEntry {
  return { status, transient, summary };
}

export const ERROR_CATALOGUE = {
  // Generic input problems (any subsystem)
  INVALID_INPUT: entry(400, false, 'The input is not valid'),
  NOT_FOUND: entry(404, false, 'No such thing'),
  CONFLICT: entry(409, false, 'The request conflicts with what is stored'),
  INTERNAL: entry(500, false, 'Unexpected internal error'),

  // codes/
  CODE_BAD_KEY: entry(400, false, 'The issuer key is not 32 hex digits'),
  CODE_BAD_ISSUER: entry(400, false, 'The issuer is not an integer 0..4095'),
  CODE_BAD_INDEX: entry(400, false, 'The index is not an integer 0..268435455'),
  CODE_BAD_READ: entry(400, false, 'A text or gear read is malformed'),
  CODE_BAD_SYMBOLS: entry(400, false, 'A codeword or symbol list is malformed'),
  CODE_BAD_ISSUED: entry(400, false, 'An issued-codes file has a line that is not a code'),

  // engraver/
  ENGRAVER_BAD_URL: entry(400, false, 'The engraver URL is not valid'),
  ENGRAVER_BAD_PROFILE: entry(400, false, 'The engraver profile is not valid'),
  ENGRAVER_TIMEOUT: entry(504, true, 'The engraver did not answer in time'),
  ENGRAVER_LINK_DOWN: entry(503, true, 'The link to the engraver is down'),
  ENGRAVER_BUSY: entry(409, true, 'The engraver is busy'),
  ENGRAVER_REJECTED: entry(422, false, 'The engraver rejected the job'),
  ENGRAVER_FAULT: entry(409, false, 'The engraver is in fault'),
  ENGRAVER_PROTOCOL: entry(502, true, 'The engraver sent something the protocol does not allow'),
  ENGRAVER_BAD_JOB: entry(400, false, 'The job cannot be sent to the engraver'),
  ENGRAVER_JOB_LOST: entry(
    409,
    false,
    'The engraver no longer holds the job (power cycle, or another job started)',
  ),

  // config/
  CONFIG_INVALID: entry(400, false, 'The configuration is not valid'),
  CONFIG_UNREADABLE: entry(400, false, 'The configuration file cannot be read'),

  // store/
  STORE_UNAVAILABLE: entry(503, false, 'The store cannot be opened or written'),
  STORE_CORRUPT: entry(500, false, 'A stored document or log line is corrupt'),
  STORE_LOCKED: entry(409, false, 'Another running process holds the store'),
  AUDIT_CHAIN_BROKEN: entry(500, false, 'The audit trail does not verify'),
  STORE_MISSING: entry(500, false, 'A file the store accounts for is missing, cut short or replaced'),
  STORE_WITNESS_AHEAD: entry(
    500,
    false,
    'A record of the line holds a code index the allocator has not reserved',
  ),
  STORE_FORMAT_NEWER: entry(500, false, 'The data folder was written by a newer release of stampline'),

  // erp/ and line/
  ORDER_INVALID: entry(400, false, 'The order is not valid'),
  ORDER_EXISTS: entry(409, false, 'An order with this id already exists'),
  SERIAL_EXISTS: entry(409, false, 'A serial number is already held by the line'),
  ORDER_NOT_FOUND: entry(404, false, 'No such order'),
  ORDER_STATE: entry(409, false, 'The order cannot do that in its present state'),
  INDEX_BLOCK_EXHAUSTED: entry(409, false, 'The configured index block has no index left'),
  LINE_NOT_READY: entry(503, true, 'The line is not ready'),

  // erp/ (intake tools and the ERP simulator)
  ERP_UNREADABLE_FILE: entry(400, false, 'An order file cannot be read'),
  ERP_LINE_UNREACHABLE: entry(503, true, 'The line cannot be reached at the given URL'),

  // registry/
  REGISTRY_LINK_DOWN: entry(503, true, 'The registry broker is not connected'),
  REGISTRY_REJECTED: entry(422, false, 'The registry rejected a record'),
  REGISTRY_BAD_RECORD: entry(400, false, 'A registry record does not match the contract'),
  REGISTRY_BAD_CONFIG: entry(400, false, 'The registry connection settings are not valid'),
  REGISTRY_RECORD_NOT_FOUND: entry(404, false, 'No such record in the outbox'),
  REGISTRY_RECORD_STATE: entry(409, false, 'The outbox record cannot do that in its present state'),
  REGISTRY_OUTBOX_STOPPED: entry(503, true, 'The registry outbox is not running'),
  REGISTRY_BROKER_FAILED: entry(500, false, 'The embedded MQTT broker cannot start'),

  // qa/
  QA_INVALID_READ: entry(400, false, 'The case read is not valid'),
  QA_NOT_ENGRAVED: entry(409, false, 'The firearm has no engraved pin to verify'),
  QA_UNKNOWN_FIREARM: entry(404, false, 'No firearm on this line has that serial or code'),
  QA_ALREADY_DECIDED: entry(409, false, 'The verification of this code is already decided'),
  QA_DUPLICATE_ROUND: entry(409, false, 'A read of that round is already stored'),
  QA_VOID_UNCONFIRMED: entry(
    409,
    false,
    'The read would fail the firearm and void its code: confirm it first',
  ),
  IDENTIFY_INVALID_READS: entry(400, false, 'The reads to identify are not valid'),
  IMAGE_UNREADABLE: entry(400, false, 'The file is not a PNG, JPEG or TIFF image that can be decoded'),
  IMAGE_TOO_LARGE: entry(413, false, 'The image is larger than the reader accepts'),
  IMAGE_NO_STAMP: entry(422, false, 'No stamp impression was found in the image'),

  // alarms/
  ALARM_NOT_FOUND: entry(404, false, 'No active alarm has that id'),
  ALARM_ACKNOWLEDGED: entry(409, false, 'The alarm is already acknowledged'),

  // api/ routes
  FIREARM_NO_CODE: entry(409, false, 'The firearm has no code now (queued for a new one, or cancelled)'),

  // api/ access
  AUTH_REQUIRED: entry(401, false, 'Authentication is required'),
  AUTH_FORBIDDEN: entry(403, false, 'This role may not do that'),
  AUTH_THROTTLED: entry(429, true, 'Too many failed logins; wait and try again'),
  AUTH_BAD_LOGIN: entry(401, false, 'Unknown user or wrong password'),
  AUTH_JSON_REQUIRED: entry(
    415,
    false,
    'A change sent with a session cookie must be JSON (Content-Type: application/json)',
  ),
  USER_EXISTS: entry(409, false, 'A user of that name exists'),
  USER_NOT_FOUND: entry(404, false, 'No user of that name'),
  USER_LAST_ADMIN: entry(409, false, 'The last enabled admin cannot be disabled or demoted'),

  // api/ requests refused before any route
  REQUEST_TOO_LARGE: entry(431, false, 'The request line or headers are too large (a URL over 16 KB)'),
  API_BUSY: entry(503, true, 'Too many requests are waiting for the line; try again shortly'),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export type ErrorContext = Record<string, unknown>;

export class StamplineError extends Error {
  override readonly name = 'StamplineError';
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.context = context;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  get transient(): boolean {
    return ERROR_CATALOGUE[this.code].transient;
  }

  toJSON(): { code: ErrorCode; message: string; context: ErrorContext } {
    return { code: this.code, message: this.message, context: this.context };
  }
}

export function isStamplineError(err: unknown, code?: ErrorCode): err is StamplineError {
  return err instanceof StamplineError && (code === undefined || err.code === code);
}

/** True when retrying may help. Unknown errors are treated as permanent so they surface. */
export function isTransient(err: unknown): boolean {
  return err instanceof StamplineError && err.transient;
}
