/**
 * Who may do what. Users (people, logged in with a session) have one role each; machines (the
 * ERP, a QA camera, a supervisory system) use bearer tokens from the configuration. The actor
 * written to the audit trail is the user's name, or the token's role for a machine.
 */
export const USER_ROLES = ['operator', 'qa', 'supervisor', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const MACHINE_ROLES = ['erp', 'operator', 'qa'] as const;
export type MachineRole = (typeof MACHINE_ROLES)[number];

/**
 * User names that would be confused with a machine actor in the audit trail: the token roles,
 * the line itself, the command line, the test-fire station and the demo's order source.
 */
export const RESERVED_USER_NAMES: ReadonlySet<string> = new Set([
  'erp',
  'operator',
  'qa',
  'system',
  'cli',
  'testfire',
  'demo',
]);

export type Permission =
  /** read the line, orders, records, statistics, outbox, certificates */
  | 'view'
  /** create an order (ERP, or the receiving screen of a third-party engraver) */
  | 'orders.submit'
  /** start, pause, resume, abort an order */
  | 'orders.control'
  | 'engraver.reset'
  /** enter the reads of test-fired cases */
  | 'qa.read'
  /** identify a cartridge case against the codes this line issued (an investigation, not a verification) */
  | 'identify'
  | 'outbox.retry'
  | 'outbox.dismiss'
  /** acknowledge an active alarm */
  | 'alarms.ack'
  | 'audit.read'
  /** take a backup of the line's data (it holds the users file) */
  | 'backup'
  | 'users.manage';

export interface Identity {
  kind: 'user' | 'token';
  /** the audit actor: the user name, or the machine role for a token */
  name: string;
  role: UserRole | MachineRole;
}

type Who = `user:${UserRole}` | `token:${MachineRole}`;

const GRANTS: Record<Permission, readonly Who[]> = {
  view: [
    'user:operator',
    'user:qa',
    'user:supervisor',
    'user:admin',
    'token:erp',
    'token:operator',
    'token:qa',
  ],
  'orders.submit': ['user:operator', 'user:supervisor', 'user:admin', 'token:erp', 'token:operator'],
  'orders.control': ['user:operator', 'user:supervisor', 'user:admin', 'token:operator'],
  'engraver.reset': ['user:operator', 'user:supervisor', 'user:admin', 'token:operator'],
  'qa.read': ['user:qa', 'user:supervisor', 'user:admin', 'token:qa'],
  identify: ['user:qa', 'user:supervisor', 'user:admin'],
  'outbox.retry': ['user:operator', 'user:supervisor', 'user:admin', 'token:operator'],
  'outbox.dismiss': ['user:supervisor', 'user:admin'],
  'alarms.ack': ['user:operator', 'user:supervisor', 'user:admin', 'token:operator'],
  'audit.read': ['user:supervisor', 'user:admin'],
  backup: ['user:supervisor', 'user:admin', 'token:operator'],
  'users.manage': ['user:admin'],
};

export function allows(identity: Identity, permission: Permission): boolean {
  return GRANTS[permission].includes(`${identity.kind}:${identity.role}` as Who);
}

/** Who holds a permission, in words, for the message of a refusal. */
export function holdersOf(permission: Permission): string[] {
  return GRANTS[permission].map((w) => w.replace(':', ' '));
}
