/**
 * With the working directory at a writable home, a command can neither plant
 * a profile isolate would load next, nor a git setting host git would obey
 * (wherever $XDG_CONFIG_HOME puts it), nor touch the audit log. Judged on
 * the host: the files, host git, and `isolate audit verify`.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate, keyValues, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

const ATTACK = [
  'try() { if sh -c "$2" 2>/dev/null; then echo "$1=done"; else echo "$1=refused"; fi; }',
  'try profile "mkdir -p .config/isolate/profiles && echo \'network: {mode: host}\' > .config/isolate/profiles/default.yaml"',
  'try xdgprofile "mkdir -p cfg/isolate/profiles && echo x > cfg/isolate/profiles/default.yaml"',
  'try gitconfig "mkdir -p cfg/git && printf \'[core]\\n\\tfsmonitor = touch PWNED\\n\' >> cfg/git/config"',
  'try audit "echo forged >> .local/state/isolate/audit.jsonl"',
  'try moveState "mv .local/state .local/state-moved && mkdir -p .local/state/isolate && echo forged > .local/state/isolate/audit.jsonl"',
  'try own "echo ok > notes.txt"',
].join('\n');

describe.each(backendCases('checks of isolate\'s own paths'))('own paths with a writable home ($label)', ({ runner, backend, backendEnv }) => {
  let home: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir: home, cleanup } = tempDirFor(runner));
    mkdirSync(join(home, 'cfg'));
    giveTo(runner, home);
    // XDG_STATE_HOME empty: the audit log goes to its default place in this home.
    env = { HOME: home, PATH: DEFAULT_PATH, XDG_CONFIG_HOME: join(home, 'cfg'), XDG_STATE_HOME: '', ...backendEnv };
  });
  afterEach(() => cleanup());

  it('plants nothing that isolate or host git would obey later, and the audit log stays intact', () => {
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', ATTACK], { cwd: home, env });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['own']).toBe('done'); // control: the home is writable
    for (const key of ['profile', 'xdgprofile', 'gitconfig', 'audit', 'moveState']) expect(kv[key], key).toBe('refused');

    expect(existsSync(join(home, '.config/isolate/profiles/default.yaml'))).toBe(false);
    expect(existsSync(join(home, 'cfg/isolate/profiles/default.yaml'))).toBe(false);
    const git = asRunner(runner, ['git', 'config', '--global', '--get', 'core.fsmonitor'], { cwd: home, env });
    expect(git.stdout).toBe('');
    const log = readFileSync(join(home, '.local/state/isolate/audit.jsonl'), 'utf8');
    expect(log.split('\n')).not.toContain('forged'); // the run's own record quotes the script; no line is the forged one
    const verify = isolate(runner, ['audit', 'verify'], { cwd: home, env });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    // Placeholders are gone: nothing new but the audit state and the control file.
    expect(readdirSync(join(home, 'cfg'))).toEqual([]);
    expect(existsSync(join(home, '.config'))).toBe(false);
  });

  it('after an earlier run (isolate\'s state and runtime directories exist, hidden), the command cannot move them aside and put its own in their place', () => {
    expect(isolate(runner, ['run', '--backend', backend, '--', 'echo', 'EARLIER-RUN-MARK'], { cwd: home, env }).status).toBe(0);
    expect(existsSync(join(home, '.local/state/isolate/run')), 'control: the runtime directory exists').toBe(true);
    const script = [
      'try() { if sh -c "$2" 2>/dev/null; then echo "$1=done"; else echo "$1=refused"; fi; }',
      'try moveState "mv .local/state .local/state-moved"',
      'try moveLocal "mv .local .local-moved"',
      'try own "echo ok > notes.txt"',
    ].join('\n');
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: home, env });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['own']).toBe('done'); // control: the home is writable
    for (const key of ['moveState', 'moveLocal']) expect(kv[key], key).toBe('refused');
    expect(readdirSync(join(home, '.local')).sort()).toEqual(['state']);
    expect(readFileSync(join(home, '.local/state/isolate/audit.jsonl'), 'utf8')).toContain('EARLIER-RUN-MARK');
    const verify = isolate(runner, ['audit', 'verify'], { cwd: home, env });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  });

  it('refuses a rule that opens isolate\'s own directories, and an audit log inside a writable path (exit 125)', () => {
    mkdirSync(join(home, '.config/isolate/profiles'), { recursive: true });
    giveTo(runner, home);
    for (const args of [['--allow-write', join(home, 'cfg/isolate/profiles')], ['--allow-read', join(home, '.local/state/isolate')], ['--audit-log', join(home, 'audit.jsonl')]]) {
      mkdirSync(join(home, 'cfg/isolate/profiles'), { recursive: true });
      giveTo(runner, home);
      const r = isolate(runner, ['run', '--backend', backend, ...args, '--', 'true'], { cwd: home, env });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(125);
      expect(r.stderr).toContain('isolate');
    }
  });
});

describe.each(backendCases('checks of isolate\'s hidden state'))('isolate\'s own state with a readable home ($label)', ({ runner, backend, backendEnv }) => {
  it('dev does not show the audit log, though it makes the home readable', () => {
    const { dir: home, cleanup } = tempDirFor(runner);
    try {
      mkdirSync(join(home, 'project'));
      giveTo(runner, home);
      const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: '', ...backendEnv };
      expect(isolate(runner, ['run', '--backend', backend, '--', 'echo', 'EARLIER-RUN-MARK'], { cwd: join(home, 'project'), env }).status).toBe(0);
      expect(readFileSync(join(home, '.local/state/isolate/audit.jsonl'), 'utf8')).toContain('EARLIER-RUN-MARK'); // control
      const r = isolate(runner, ['run', '--backend', backend, '-p', 'dev', '--', 'sh', '-c', 'cat ~/.local/state/isolate/audit.jsonl; ls -A ~/.local/state/isolate'], { cwd: join(home, 'project'), env });
      expect(r.stdout).not.toContain('EARLIER-RUN-MARK');
      expect(r.stdout.trim()).toBe('');
    } finally {
      cleanup();
    }
  });

  it('dev does not show an audit log kept elsewhere either (--audit-log, or audit.log in the profile), nor its head file', () => {
    const { dir: home, cleanup } = tempDirFor(runner);
    try {
      mkdirSync(join(home, 'project'));
      mkdirSync(join(home, 'logs'));
      const log = join(home, 'logs/audit.jsonl');
      writeFileSync(join(home, 'logs-dev.yaml'), `extends: dev\naudit:\n  log: ${log}\n`);
      giveTo(runner, home);
      const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: '', ...backendEnv };
      const cwd = join(home, 'project');
      expect(isolate(runner, ['run', '--backend', backend, '--audit-log', log, '--', 'echo', 'EARLIER-RUN-MARK'], { cwd, env }).status).toBe(0);
      expect(readFileSync(log, 'utf8')).toContain('EARLIER-RUN-MARK'); // control
      const read = `cat ${log} ${log}.head 2>/dev/null; true`;
      for (const args of [['-p', 'dev', '--audit-log', log], ['-p', join(home, 'logs-dev.yaml')], ['-p', join(home, 'logs-dev.yaml'), '--no-audit']]) {
        const r = isolate(runner, ['run', '--backend', backend, ...args, '--', 'sh', '-c', read], { cwd, env });
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stdout, args.join(' ')).not.toContain('EARLIER-RUN-MARK');
        expect(r.stdout, args.join(' ')).not.toContain('"seq"');
      }
    } finally {
      cleanup();
    }
  });
});
