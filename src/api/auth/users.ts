/**
 * The changes a person can make to the users, the same from the API and from the command line:
 * each checks its rules, changes the document and adds the audit entry that describes it to
 * the document's pending list, so the change and its record are written together.
 */
import { StamplineError } from '../../errors.js';
import type { PasswordHash } from './passwords.js';
import type { UserRole } from './types.js';
import { newPendingId, type UserRecord, type UsersDoc, userNameProblem } from './users-file.js';

export interface NewUser {
  name: string;
  role: UserRole;
  password: PasswordHash;
}

export interface UserChange {
  role?: UserRole;
  disabled?: boolean;
  password?: PasswordHash;
}

/** What a change did, for the caller to act on (end sessions, say what happened). */
export interface ChangeOutcome {
  user: UserRecord;
  roleChanged: boolean;
  disabled: boolean;
  enabled: boolean;
  passwordChanged: boolean;
}

function note(
  doc: UsersDoc,
  now: Date,
  actor: string,
  action: string,
  name: string,
  before?: unknown,
  after?: unknown,
): void {
  doc.pending.push({
    id: newPendingId(),
    time: now.toISOString(),
    actor,
    action,
    subject: `user:${name}`,
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { after }),
  });
}

export function findUser(doc: UsersDoc, name: string): UserRecord {
  const user = doc.users.find((u) => u.name === name);
  if (!user) throw new StamplineError('USER_NOT_FOUND', `there is no user named ${name}`, { name });
  return user;
}

export function addUser(doc: UsersDoc, input: NewUser, actor: string, now: Date): UserRecord {
  const problem = userNameProblem(input.name);
  if (problem) {
    throw new StamplineError('INVALID_INPUT', `the user name ${problem}`, {
      problems: [{ path: 'name', reason: problem }],
    });
  }
  if (doc.users.some((u) => u.name === input.name)) {
    throw new StamplineError('USER_EXISTS', `a user named ${input.name} already exists`, {
      name: input.name,
    });
  }
  const at = now.toISOString();
  const user: UserRecord = {
    name: input.name,
    role: input.role,
    password: input.password,
    createdAt: at,
    createdBy: actor,
    passwordChangedAt: at,
    disabled: false,
  };
  doc.users.push(user);
  note(doc, now, actor, 'user.create', user.name, undefined, { role: user.role, disabled: false });
  return user;
}

function enabledAdmins(doc: UsersDoc): number {
  return doc.users.filter((u) => u.role === 'admin' && !u.disabled).length;
}

export function changeUser(
  doc: UsersDoc,
  name: string,
  change: UserChange,
  actor: string,
  now: Date,
): ChangeOutcome {
  const user = findUser(doc, name);
  const demoted = change.role !== undefined && change.role !== 'admin';
  if (
    user.role === 'admin' &&
    !user.disabled &&
    (demoted || change.disabled === true) &&
    enabledAdmins(doc) === 1
  ) {
    throw new StamplineError(
      'USER_LAST_ADMIN',
      `${name} is the last enabled admin: make another user admin first, or nobody could manage users`,
      { name },
    );
  }
  const outcome: ChangeOutcome = {
    user,
    roleChanged: false,
    disabled: false,
    enabled: false,
    passwordChanged: false,
  };
  if (change.role !== undefined && change.role !== user.role) {
    note(doc, now, actor, 'user.role', name, { role: user.role }, { role: change.role });
    user.role = change.role;
    outcome.roleChanged = true;
  }
  if (change.disabled !== undefined && change.disabled !== user.disabled) {
    note(
      doc,
      now,
      actor,
      change.disabled ? 'user.disable' : 'user.enable',
      name,
      { disabled: user.disabled },
      { disabled: change.disabled },
    );
    user.disabled = change.disabled;
    if (change.disabled) outcome.disabled = true;
    else outcome.enabled = true;
  }
  if (change.password !== undefined) {
    // Never the hash, old or new: the trail is read by people who must not get it.
    note(doc, now, actor, 'user.password', name);
    user.password = change.password;
    // Strictly later than before, even within one millisecond or after the clock stepped back:
    // the daemon tells a new password from a rehash of the old one by this time alone.
    const previous = Date.parse(user.passwordChangedAt);
    user.passwordChangedAt = new Date(Math.max(now.getTime(), previous + 1)).toISOString();
    outcome.passwordChanged = true;
  }
  return outcome;
}
