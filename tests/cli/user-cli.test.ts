import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { verifyPassword } from '../../src/api/auth/passwords.js';
import { UsersFile } from '../../src/api/auth/users-file.js';
import { register } from '../../src/cli/user.js';
import { isStamplineError } from '../../src/errors.js';
import { AuditTrail } from '../../src/store/audit.js';
import { login, startAuthApp, tempDataDir } from '../api/auth-support.js';
import { requireCommands } from '../support/tools.js';

const root = resolve(import.meta.dirname, '..', '..');
const runner = join(root, 'tests', 'cli', 'user-cli-run.ts');
const ME = `cli:${userInfo().username}`;
const PW = 'a long first password';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function stampline(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const env = { ...process.env, ...opts.env };
    if (opts.env && 'STAMPLINE_DATA_DIR' in opts.env && opts.env.STAMPLINE_DATA_DIR === undefined) {
      delete env.STAMPLINE_DATA_DIR;
    }
    const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], {
      cwd: root,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function dataDir(): Promise<string> {
  const d = await tempDataDir();
  cleanups.push(d.remove);
  return d.dir;
}

const user = (dir: string, ...args: string[]) => ['user', ...args, '--data-dir', dir];

async function addAdmin(dir: string, name = 'ada'): Promise<void> {
  const r = await stampline(user(dir, 'add', name, '--role', 'admin', '--password-stdin'), {
    input: `${PW}\n`,
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

async function runningAuth(dir: string, audit?: AuditTrail) {
  const running = await startAuthApp(dir, { audit });
  cleanups.push(running.close);
  return running;
}

describe('stampline user', () => {
  it('add takes the password from standard input, and list shows the user without the hash', async () => {
    const dir = await dataDir();
    await addAdmin(dir);
    const list = await stampline(user(dir, 'list', '--json'));
    expect(list.code).toBe(0);
    const users = JSON.parse(list.stdout);
    expect(users).toEqual([
      expect.objectContaining({ name: 'ada', role: 'admin', disabled: false, createdBy: ME }),
    ]);
    expect(list.stdout).not.toContain('scrypt');
    const text = await stampline(user(dir, 'list'));
    expect(text.stdout).toMatch(/^NAME\s+ROLE/);
    expect(text.stdout).toMatch(/ada\s+admin\s+enabled/);
  }, 60_000);

  it.each([
    [
      'a weak password',
      ['add', 'bob', '--role', 'qa', '--password-stdin'],
      'short\n',
      'at least 12 characters',
    ],
    ['no password at all', ['add', 'bob', '--role', 'qa', '--password-stdin'], '', 'at least 12 characters'],
    ['no terminal and no --password-stdin', ['add', 'bob', '--role', 'qa'], '', '--password-stdin'],
  ])(
    'add refuses %s with exit code 2 and changes nothing',
    async (_what, args, input, message) => {
      const dir = await dataDir();
      const r = await stampline(user(dir, ...args), { input });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect((await new UsersFile(dir).read()).doc.users).toEqual([]);
    },
    60_000,
  );

  // Refused before any password is read, so they run in this process (commander as the CLI builds it).
  it.each([
    ['a bad name', ['add', 'Bob!', '--role', 'qa'], 'a-z 0-9'],
    ['a reserved name', ['add', 'system', '--role', 'qa'], 'reserved'],
    ['an unknown role', ['add', 'bob', '--role', 'boss'], 'boss'],
    ['no role', ['add', 'bob'], '--role'],
    ['a bad name to disable', ['disable', '../etc'], 'a-z 0-9'],
  ])('refuses %s as an input error before asking for anything', async (_what, args, message) => {
    const dir = await dataDir();
    const program = new Command('stampline')
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    register(program);
    const err = await program
      .parseAsync(['node', 'stampline', ...user(dir, ...args)])
      .catch((e: unknown) => e);
    if (err instanceof CommanderError) expect(err.exitCode).not.toBe(0);
    else expect(isStamplineError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toContain(message);
    expect((await new UsersFile(dir).read()).doc.users).toEqual([]);
  });

  it('refuses a second user of the same name', async () => {
    const dir = await dataDir();
    await addAdmin(dir);
    const r = await stampline(user(dir, 'add', 'ada', '--role', 'qa', '--password-stdin'), {
      input: `${PW}\n`,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('already exists');
  }, 60_000);

  it('passwd, disable and enable change the user; the last admin cannot be disabled', async () => {
    const dir = await dataDir();
    await addAdmin(dir);
    const last = await stampline(user(dir, 'disable', 'ada'));
    expect(last.code).toBe(2);
    expect(last.stderr).toContain('last enabled admin');

    await stampline(user(dir, 'add', 'quinn', '--role', 'qa', '--password-stdin'), { input: `${PW}\n` });
    const off = await stampline(user(dir, 'disable', 'quinn'));
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('disabled quinn');
    const again = await stampline(user(dir, 'disable', 'quinn'));
    expect(again.stdout).toContain('already disabled');
    expect((await stampline(user(dir, 'enable', 'quinn'))).code).toBe(0);

    const before = (await new UsersFile(dir).read()).doc.users.find((u) => u.name === 'quinn');
    const pw = await stampline(user(dir, 'passwd', 'quinn', '--password-stdin'), {
      input: 'another long password\n',
    });
    expect(pw.code).toBe(0);
    const after = (await new UsersFile(dir).read()).doc.users.find((u) => u.name === 'quinn');
    expect(after?.password.hash).not.toBe(before?.password.hash);

    const unknown = await stampline(user(dir, 'disable', 'nobody'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no user named nobody');

    const actions = (await new UsersFile(dir).read()).doc.pending.map((p) => [p.actor, p.action, p.subject]);
    expect(actions).toEqual([
      [ME, 'user.create', 'user:ada'],
      [ME, 'user.create', 'user:quinn'],
      [ME, 'user.disable', 'user:quinn'],
      [ME, 'user.enable', 'user:quinn'],
      [ME, 'user.password', 'user:quinn'],
    ]);
  }, 120_000);

  it('adds a user while the daemon runs, and the daemon lets them in without a restart', async () => {
    const dir = await dataDir();
    const { app } = await runningAuth(dir);
    await addAdmin(dir);
    const cookie = await login(app, 'ada', PW);
    const me = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect(me.json().identity).toEqual({ kind: 'user', name: 'ada', role: 'admin' });

    // and a user disabled there is out at once
    await addAdmin(dir, 'bea');
    const bea = await login(app, 'bea', PW);
    expect((await stampline(user(dir, 'disable', 'bea'))).code).toBe(0);
    const out = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: bea } });
    expect(out.statusCode).toBe(401);
  }, 120_000);

  it('leaves its changes for the running daemon, which moves them to the audit trail', async () => {
    const dir = await dataDir();
    const trail = new AuditTrail({ dataDir: dir });
    await trail.start();
    cleanups.push(() => trail.stop());
    await runningAuth(dir, trail);

    const r = await stampline(user(dir, 'add', 'ada', '--role', 'admin', '--password-stdin'), {
      input: `${PW}\n`,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('the daemon records it');

    // The daemon writes the trail first and empties the pending list just after: wait for both.
    await vi.waitFor(
      async () => {
        const entries = await trail.query({ action: 'user.create' });
        expect(entries).toHaveLength(1);
        expect((await new UsersFile(dir).read()).doc.pending).toEqual([]);
      },
      { timeout: 20_000, interval: 100 },
    );
    const [entry] = await trail.query({ action: 'user.create' });
    expect(entry).toMatchObject({ actor: ME, subject: 'user:ada', after: { role: 'admin' } });
    expect((await trail.verify()).ok).toBe(true);
  }, 60_000);

  it('records its change in the audit trail itself when no daemon runs', async () => {
    const dir = await dataDir();
    const seed = new AuditTrail({ dataDir: dir });
    await seed.start();
    await seed.record({ actor: 'line', action: 'line.start', subject: 'line' });
    await seed.stop();

    const r = await stampline(user(dir, 'add', 'ada', '--role', 'admin', '--password-stdin'), {
      input: `${PW}\n`,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('recorded in the audit trail');
    expect((await new UsersFile(dir).read()).doc.pending).toEqual([]);

    const trail = new AuditTrail({ dataDir: dir, readOnly: true });
    await trail.start();
    try {
      const [entry] = await trail.query({ action: 'user.create' });
      expect(entry).toMatchObject({ actor: ME, subject: 'user:ada', seq: 2 });
      expect((await trail.verify()).ok).toBe(true);
    } finally {
      await trail.stop();
    }
  }, 60_000);

  it('before the daemon ever ran, its change waits and the daemon records it when it starts', async () => {
    const dir = await dataDir();
    await addAdmin(dir);
    expect((await new UsersFile(dir).read()).doc.pending).toHaveLength(1);
    const trail = new AuditTrail({ dataDir: dir });
    await trail.start();
    cleanups.push(() => trail.stop());
    await runningAuth(dir, trail);
    const entries = await trail.query({});
    expect(entries.map((e) => [e.actor, e.action, e.subject])).toEqual([[ME, 'user.create', 'user:ada']]);
    expect((await new UsersFile(dir).read()).doc.pending).toEqual([]);
  }, 60_000);

  it('finds the data folder from --config, relative to the file, even when other settings are missing', async () => {
    const dir = await dataDir();
    await mkdir(join(dir, 'etc'));
    const config = join(dir, 'etc', 'line.yaml');
    await writeFile(config, 'line:\n  id: line-1\n  dataDir: ../var\n');
    const r = await stampline(
      ['user', 'add', 'ada', '--role', 'admin', '--password-stdin', '--config', config],
      {
        input: `${PW}\n`,
        env: { STAMPLINE_DATA_DIR: undefined },
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'var', 'auth', 'users.json'), 'utf8')).users[0].name).toBe(
      'ada',
    );
  }, 60_000);

  it('finds the data folder from STAMPLINE_DATA_DIR', async () => {
    const dir = await dataDir();
    const r = await stampline(['user', 'list'], { env: { STAMPLINE_DATA_DIR: dir } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(join(dir, 'auth', 'users.json'));
    expect(r.stdout).toContain('stampline user add NAME --role admin');
  }, 60_000);

  describe.runIf(requireCommands('script'))('on a terminal', () => {
    /** Runs the command on a pseudo-terminal (util-linux `script`) and answers each prompt as a person would. */
    function typed(dir: string, answers: string[]): Promise<Run> {
      return new Promise((done, fail) => {
        const cmd = ['node', '--import', 'tsx', runner, ...user(dir, 'add', 'ada', '--role', 'admin')]
          .map((a) => `'${a}'`)
          .join(' ');
        const child = spawn('script', ['-qec', cmd, '/dev/null'], {
          cwd: root,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let prompts = 0;
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString();
          const seen = (stdout.match(/password for ada: |same password again: /g) ?? []).length;
          while (prompts < seen && prompts < answers.length) child.stdin.write(`${answers[prompts++]}\r`);
        });
        child.on('error', fail);
        child.on('close', (code) => done({ code, stdout, stderr: '' }));
      });
    }

    it('asks for the password twice without showing it', async () => {
      const dir = await dataDir();
      const r = await typed(dir, ['typed on the terminal', 'typed on the terminal']);
      expect(r.stdout).toContain('added ada (admin)');
      expect(r.stdout).not.toContain('typed on the terminal');
      const [ada] = (await new UsersFile(dir).read()).doc.users;
      expect(await verifyPassword('typed on the terminal', ada!.password)).toBe(true);
    }, 60_000);

    it('changes nothing when the two differ', async () => {
      const dir = await dataDir();
      const r = await typed(dir, ['typed on the terminal', 'typed on the terminaL']);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain('the two passwords differ');
      expect((await new UsersFile(dir).read()).doc.users).toEqual([]);
    }, 60_000);
  });
});
