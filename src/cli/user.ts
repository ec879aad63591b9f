/**
 * `stampline user add|list|passwd|disable|enable`: the users of a line, managed on the line PC
 * itself. This is how the first admin comes to be (there is no default password), and it works
 * beside a running daemon: the users file has a short lock of its own, and the daemon notices a
 * changed file within a second.
 *
 * Each change reaches the audit trail with the actor `cli:<system user>`. The running daemon
 * holds the trail, so the change waits in the users file and the daemon moves it to the trail;
 * when no daemon runs, the command records it itself.
 */
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { checkNewPassword, hashPassword } from '../api/auth/passwords.js';
import { movePending } from '../api/auth/pending.js';
import { USER_ROLES, type UserRole } from '../api/auth/types.js';
import { addUser, changeUser, findUser } from '../api/auth/users.js';
import { UsersFile, type UserView, userNameProblem, viewOf } from '../api/auth/users-file.js';
import { isStamplineError, StamplineError } from '../errors.js';
import { AuditTrail } from '../store/audit.js';
import { dataToRead, type WhereOptions, where } from './where.js';

interface PasswordOptions extends WhereOptions {
  passwordStdin?: boolean;
}

/** The actor of the audit trail for a change made here. */
export function cliActor(): string {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
  return `cli:${name || 'unknown'}`;
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.split(/\r?\n/, 1)[0] ?? '';
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  const out = process.stderr;
  return new Promise((done, fail) => {
    let value = '';
    const finish = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      out.write('\n');
      if (err) fail(err);
      else done(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && value === '')) {
          return finish(new StamplineError('INVALID_INPUT', 'cancelled: nothing was changed'));
        }
        if (ch === '\u0004') return finish();
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\u0015') value = '';
        // An escape sequence (an arrow key) is not part of a password.
        else if (ch === '\u001b') break;
        else if (ch >= ' ') value += ch;
      }
    };
    // Echo goes off before the prompt shows, so nothing typed after seeing it is ever shown.
    input.setEncoding('utf8');
    input.setRawMode(true);
    out.write(prompt);
    input.resume();
    input.on('data', onData);
  });
}

/** A new password: from standard input with --password-stdin, else typed twice on the terminal. */
async function newPassword(opts: PasswordOptions, name: string): Promise<string> {
  let password: string;
  if (opts.passwordStdin) {
    password = await readStdinLine();
  } else if (process.stdin.isTTY) {
    password = await promptHidden(`New password for ${name}: `);
    checkNewPassword(password);
    const again = await promptHidden(`The same password again: `);
    if (again !== password)
      throw new StamplineError('INVALID_INPUT', 'the two passwords differ: nothing was changed');
  } else {
    throw new StamplineError(
      'INVALID_INPUT',
      'standard input is not a terminal: give the password on standard input with --password-stdin',
    );
  }
  checkNewPassword(password);
  return password;
}

function checkName(name: string): void {
  const problem = userNameProblem(name);
  if (problem) throw new StamplineError('INVALID_INPUT', `the user name ${JSON.stringify(name)} ${problem}`);
}

/**
 * Records the changes waiting in the users file in the audit trail, when this command can:
 * the trail exists, belongs to this system user (a trail file made by root would lock out the
 * daemon) and no daemon holds it.
 */
async function recordNow(file: UsersFile): Promise<'recorded' | 'waiting'> {
  const dir = join(file.dataDir, 'audit');
  const found = await stat(dir).catch(() => undefined);
  if (!found?.isDirectory()) return 'waiting';
  if (typeof process.getuid === 'function' && found.uid !== process.getuid()) return 'waiting';
  const trail = new AuditTrail({ dataDir: file.dataDir });
  try {
    await trail.start();
  } catch (err) {
    if (!isStamplineError(err, 'STORE_LOCKED')) {
      process.stderr.write(`stampline: cannot open the audit trail (${(err as Error).message})\n`);
    }
    return 'waiting';
  }
  try {
    const result = await movePending(file, trail);
    return result.left === 0 ? 'recorded' : 'waiting';
  } finally {
    await trail.stop();
  }
}

async function report(file: UsersFile, what: string): Promise<void> {
  const where = await recordNow(file);
  const audit =
    where === 'recorded'
      ? 'recorded in the audit trail'
      : 'the daemon records it in the audit trail (at once while it runs, else when it starts)';
  process.stdout.write(`${what}; ${audit}\n`);
}

function table(users: UserView[]): string {
  const rows = [
    ['NAME', 'ROLE', 'STATE', 'CREATED', 'BY', 'PASSWORD CHANGED'],
    ...users.map((u) => [
      u.name,
      u.role,
      u.disabled ? 'disabled' : 'enabled',
      u.createdAt,
      u.createdBy,
      u.passwordChangedAt,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function setState(name: string, opts: WhereOptions, disabled: boolean): Promise<void> {
  checkName(name);
  const file = new UsersFile(await dataToRead(opts));
  const { result } = await file.update((doc) => changeUser(doc, name, { disabled }, cliActor(), new Date()));
  const changed = disabled ? result.disabled : result.enabled;
  if (!changed) {
    process.stdout.write(`${name} is already ${disabled ? 'disabled' : 'enabled'}; nothing changed\n`);
    return;
  }
  await report(
    file,
    disabled ? `disabled ${name}; their sessions on the running daemon end` : `enabled ${name}`,
  );
}

/** Registers `stampline user ...`. */
export function register(program: Command): void {
  const user = program
    .command('user')
    .description('manage the people who log in to the line (run on the line PC, beside the daemon or not)');

  where(
    user
      .command('add <name>')
      .description('add a user; the password is asked twice on a terminal, or read from standard input')
      .addOption(
        new Option('--role <role>', 'what the user may do').choices([...USER_ROLES]).makeOptionMandatory(),
      )
      .option('--password-stdin', 'read the password from the first line of standard input (for scripts)'),
  ).action(async (name: string, opts: PasswordOptions & { role: UserRole }) => {
    checkName(name);
    const file = new UsersFile(await dataToRead(opts));
    const { doc } = await file.read();
    if (doc.users.some((u) => u.name === name)) {
      throw new StamplineError('USER_EXISTS', `a user named ${name} already exists`, { name });
    }
    const password = await hashPassword(await newPassword(opts, name));
    await file.update((d) => addUser(d, { name, role: opts.role, password }, cliActor(), new Date()));
    await report(file, `added ${name} (${opts.role}) to ${file.path}`);
  });

  where(user.command('list').description('list the users').option('--json', 'print a JSON array')).action(
    async (opts: WhereOptions & { json?: boolean }) => {
      const file = new UsersFile(await dataToRead(opts));
      const users = (await file.read()).doc.users.map(viewOf);
      if (opts.json) process.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
      else if (users.length === 0) {
        process.stdout.write(
          `no users in ${file.path}; add the first admin with: stampline user add NAME --role admin\n`,
        );
      } else process.stdout.write(`${table(users)}\n`);
    },
  );

  where(
    user
      .command('passwd <name>')
      .description("set a user's password; their sessions on the running daemon end")
      .option('--password-stdin', 'read the password from the first line of standard input (for scripts)'),
  ).action(async (name: string, opts: PasswordOptions) => {
    checkName(name);
    const file = new UsersFile(await dataToRead(opts));
    findUser((await file.read()).doc, name);
    const password = await hashPassword(await newPassword(opts, name));
    await file.update((doc) => changeUser(doc, name, { password }, cliActor(), new Date()));
    await report(file, `set the password of ${name}`);
  });

  where(
    user.command('disable <name>').description('stop a user from logging in; ends their sessions'),
  ).action(async (name: string, opts: WhereOptions) => setState(name, opts, true));

  where(user.command('enable <name>').description('let a disabled user log in again')).action(
    async (name: string, opts: WhereOptions) => setState(name, opts, false),
  );
}
