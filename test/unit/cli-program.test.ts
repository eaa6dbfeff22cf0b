/**
 * The command-line contract, parsed in-process by the real command tree:
 * where the sandboxed command starts, how options are read, environment
 * defaults, and usage errors (E_USAGE, exit 125) with "did you mean". No
 * command's module is loaded: the dispatch records what would run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError, type Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BACKEND_CHOICES } from '../../src/backends/index.js';
import { IsolateError } from '../../src/errors.js';
import { PLAIN, type Output } from '../../src/cli/output.js';
import { allCommands, buildProgram, invocationOf, type Invocation } from '../../src/cli/program.js';
import { commandPath, configureProgram } from '../../src/cli/usage.js';

interface Parsed {
  /** The command that would run, e.g. "isolate run". */
  command: string;
  inv: Invocation;
  out: string;
}

type Dispatched = Omit<Parsed, 'out'>;

/** The real command tree, writing to `output` (built as main builds it for `only`); seen() is the command it dispatched. */
function tree(output: Output, only?: string): { program: Command; seen: () => Dispatched | undefined } {
  let seen: Dispatched | undefined;
  const program = buildProgram(
    '9.9.9',
    async (cmd) => {
      seen = { command: commandPath(cmd), inv: invocationOf(cmd) };
    },
    only,
  );
  configureProgram(program, output);
  return { program, seen: () => seen };
}

function capture(): { output: Output; text: () => string } {
  const chunks: string[] = [];
  const output: Output = { out: (t) => chunks.push(t), err: (t) => chunks.push(t), color: () => false, style: () => PLAIN };
  return { output, text: () => chunks.join('') };
}

async function parse(argv: string[]): Promise<Parsed> {
  const { output, text } = capture();
  const { program, seen } = tree(output, argv[0]);
  await program.parseAsync(argv, { from: 'user' });
  const dispatched = seen();
  if (dispatched === undefined) throw new Error(`nothing dispatched for ${argv.join(' ')}`);
  return { ...dispatched, out: text() };
}

/** The E_USAGE error commander's complaint about `argv` becomes. */
async function usageError(argv: string[]): Promise<IsolateError> {
  const thrown = await parse(argv).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(thrown, argv.join(' ')).toBeInstanceOf(IsolateError);
  const e = thrown as IsolateError;
  expect(e.code).toBe('E_USAGE');
  expect(e.exitCode).toBe(125);
  return e;
}

/** What --help or --version printed, and the exit code main gives it. */
async function shown(argv: string[], only = argv[0]): Promise<{ text: string; exitCode: number }> {
  const { output, text } = capture();
  const thrown = await tree(output, only)
    .program.parseAsync(argv, { from: 'user' })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(thrown, argv.join(' ')).toBeInstanceOf(CommanderError);
  return { text: text(), exitCode: (thrown as CommanderError).exitCode };
}

afterEach(() => vi.unstubAllEnvs());

describe('where the sandboxed command starts', () => {
  it('options before the command are isolate\'s; from the first non-option on, everything is the command\'s', async () => {
    const p = await parse(['run', '-p', 'strict', 'ls', '--help', '-la', '--profile', 'dev', '--', 'x']);
    expect(p.command).toBe('isolate run');
    expect(p.inv.options['profile']).toBe('strict');
    expect(p.inv.args).toEqual(['ls', '--help', '-la', '--profile', 'dev', '--', 'x']);
  });

  it('-- ends the options: everything after it is the command, a later -- included', async () => {
    const p = await parse(['explain', '--net', 'host', '--', '--help', '-p', 'x', '--']);
    expect(p.inv.options['net']).toBe('host');
    expect(p.inv.options['profile']).toBe('default');
    expect(p.inv.args).toEqual(['--help', '-p', 'x', '--']);
  });

  it('no command after -- (or none at all) reaches the command as no arguments, and a lone - is an argument', async () => {
    expect((await parse(['run', '--json', '--'])).inv.args).toEqual([]);
    expect((await parse(['check'])).inv.args).toEqual([]);
    expect((await parse(['run', '-', 'x'])).inv.args).toEqual(['-', 'x']);
  });
});

describe('option values', () => {
  it('repeatable options collect in order, in both forms', async () => {
    const p = await parse(['run', '--allow-read', '/a', '--env', 'X', '--allow-read=/b', '--env=Y=1', '--allow-read', '/c', 'true']);
    expect(p.inv.options['allowRead']).toEqual(['/a', '/b', '/c']);
    expect(p.inv.options['env']).toEqual(['X', 'Y=1']);
  });

  it('--opt=value takes an empty value and values with =; -p takes its value attached or next', async () => {
    expect((await parse(['run', '--cwd=', 'x'])).inv.options['cwd']).toBe('');
    expect((await parse(['run', '--env=A=B=C', 'x'])).inv.options['env']).toEqual(['A=B=C']);
    expect((await parse(['run', '-pdev', 'x'])).inv.options['profile']).toBe('dev');
    expect((await parse(['run', '-p', 'dev', 'x'])).inv.options['profile']).toBe('dev');
  });

  it('the next argument is the value even when it starts with -', async () => {
    expect((await parse(['run', '--allow-read', '-weird', 'x'])).inv.options['allowRead']).toEqual(['-weird']);
  });

  it('a non-repeatable option given twice keeps the last value', async () => {
    expect((await parse(['run', '--cwd', '/a', '--cwd', '/b', 'x'])).inv.options['cwd']).toBe('/b');
  });

  it('--no-audit turns recording off; the default records', async () => {
    expect((await parse(['run', '--no-audit', 'true'])).inv.options['audit']).toBe(false);
    expect((await parse(['run', 'true'])).inv.options['audit']).toBe(true);
  });

  it('choices: --net and --backend (every backend choice from backends/)', async () => {
    expect((await parse(['run', '--net', 'filtered', 'x'])).inv.options['net']).toBe('filtered');
    for (const b of BACKEND_CHOICES) expect((await parse(['run', `--backend=${b}`, 'x'])).inv.options['backend']).toBe(b);
  });

  it('profiles: alone or list lists; show takes a name and the policy options after it', async () => {
    expect((await parse(['profiles'])).command).toBe('isolate profiles list');
    expect((await parse(['profiles', '--json'])).inv.options['json']).toBe(true);
    const show = await parse(['profiles', 'show', './p.yaml', '--net', 'host', '--json']);
    expect(show.command).toBe('isolate profiles show');
    expect(show.inv.args).toEqual(['./p.yaml']);
    expect(show.inv.options).toMatchObject({ net: 'host', json: true });
  });

  it('audit: each subcommand takes an optional file; show takes its filters', async () => {
    expect((await parse(['audit', 'verify'])).inv.args).toEqual([]);
    const show = await parse(['audit', 'show', '/tmp/log.jsonl', '--since', '2h', '--denied', '--command', 'npm *']);
    expect(show.inv.args).toEqual(['/tmp/log.jsonl']);
    expect(show.inv.options).toMatchObject({ since: '2h', denied: true, command: 'npm *' });
  });
});

describe('environment defaults', () => {
  it('ISOLATE_PROFILE and ISOLATE_BACKEND set the defaults; a flag overrides them', async () => {
    vi.stubEnv('ISOLATE_PROFILE', 'strict');
    vi.stubEnv('ISOLATE_BACKEND', 'nsjail');
    for (const cmd of ['run', 'explain', 'check', 'selftest']) {
      const args = cmd === 'selftest' ? [] : ['true'];
      const env = await parse([cmd, ...args]);
      expect(env.inv.options, cmd).toMatchObject({ profile: 'strict', backend: 'nsjail' });
      expect(env.inv.source('profile')).toBe('env');
      const flags = await parse([cmd, '-p', 'dev', '--backend', 'bwrap', ...args]);
      expect(flags.inv.options, cmd).toMatchObject({ profile: 'dev', backend: 'bwrap' });
    }
  });

  it('without them: profile default, backend auto', async () => {
    vi.stubEnv('ISOLATE_PROFILE', undefined);
    vi.stubEnv('ISOLATE_BACKEND', undefined);
    expect((await parse(['run', 'true'])).inv.options).toMatchObject({ profile: 'default', backend: 'auto' });
  });

  it('an ISOLATE_BACKEND that is not a backend is a usage error naming the variable', async () => {
    vi.stubEnv('ISOLATE_BACKEND', 'bwarp');
    const e = await usageError(['run', 'true']);
    expect(e.message).toContain('ISOLATE_BACKEND');
    expect(e.fix).toContain('ISOLATE_BACKEND');
  });
});

describe('usage errors: E_USAGE, exit 125, with the fix', () => {
  it('a mistyped command: did you mean', async () => {
    const e = await usageError(['rnu', '--', 'true']);
    expect(e.message).toBe("unknown command 'rnu'");
    expect(e.fix).toContain('did you mean run?');
    expect((await usageError(['audit', 'verfy'])).fix).toContain('did you mean verify?');
  });

  it('an unknown command with nothing close lists every command', async () => {
    const e = await usageError(['frobnicate']);
    expect(e.fix).toBe('commands: run, explain, check, profiles, doctor, selftest, audit, mcp, proxy, export (isolate --help)');
    expect((await usageError(['profiles', 'frobnicate'])).fix).toContain('list, show');
  });

  it('a mistyped option: did you mean', async () => {
    const e = await usageError(['run', '--allow-raed', '/x', 'ls']);
    expect(e.message).toContain('--allow-raed');
    expect(e.fix).toContain('did you mean --allow-read?');
    expect((await usageError(['audit', 'show', '--sinse', '2h'])).fix).toContain('did you mean --since?');
  });

  it('an unknown option, a missing value, a bad choice, a flag with a value, an extra argument', async () => {
    for (const argv of [
      ['run', '-x', 'ls'],
      ['run', '--profile'],
      ['run', '--json', '--allow-read'],
      ['run', '--net', 'bridge', 'x'],
      ['explain', '--backend=docker', 'x'],
      ['run', '--json=yes', 'x'],
      ['explain', '--report', '/tmp/r.json', 'x'],
      ['doctor', 'extra'],
      ['profiles', 'show'],
      ['profiles', 'show', '--profile', 'x', 'p'],
      ['--bogus'],
    ]) {
      const e = await usageError(argv);
      expect(e.fix, argv.join(' ')).toMatch(/--help\)$/);
    }
    const choice = await usageError(['run', '--net', 'bridge', 'x']);
    expect(choice.message).toContain('bridge');
    expect(choice.message).toContain('none, host, filtered');
  });
});

describe('help and version', () => {
  it('isolate --help lists every command of the tree, and the exit codes; exit 0', async () => {
    const { text, exitCode } = await shown(['--help']);
    expect(exitCode).toBe(0);
    expect(text).toMatch(/^usage: isolate /);
    const { output } = capture();
    for (const cmd of tree(output).program.commands) expect(text).toMatch(new RegExp(`^  ${cmd.name()} `, 'm'));
    expect(text).toContain('126 not executable');
  });

  it('every command has its own --help, and help <command> is the same; exit 0', async () => {
    const { output } = capture();
    for (const cmd of allCommands(tree(output).program).slice(1)) {
      const path = commandPath(cmd).split(' ').slice(1);
      const { text, exitCode } = await shown([...path, '--help']);
      expect(exitCode, path.join(' ')).toBe(0);
      expect(text.startsWith(`usage: ${commandPath(cmd)} `), text).toBe(true);
      for (const o of cmd.options) expect(text, `${path.join(' ')} ${o.flags}`).toContain(o.flags);
    }
    expect((await shown(['help', 'run'])).text).toBe((await shown(['run', '--help'])).text);
  });

  it('the tree main builds for one command helps and fails as the whole tree does', async () => {
    for (const argv of [['run', '--help'], ['audit', 'show', '--help'], ['profiles', '--help'], ['doctor', '--json', '--help']]) {
      expect(await shown(argv), argv.join(' ')).toEqual(await shown(argv, undefined));
    }
    const { output } = capture();
    expect(tree(output, 'run').program.commands.map((c) => c.name())).toEqual(['run']);
    expect(tree(output, 'constructor').program.commands).toHaveLength(10);
    expect((await usageError(['constructor'])).message).toBe("unknown command 'constructor'");
  });

  it('--help after the sandboxed command is the command\'s, not isolate\'s', async () => {
    expect((await parse(['run', 'ls', '--help'])).inv.args).toEqual(['ls', '--help']);
  });

  it('--version and -V print the version; exit 0', async () => {
    for (const flag of ['--version', '-V']) expect(await shown([flag])).toEqual({ text: '9.9.9\n', exitCode: 0 });
  });

  it('a command with subcommands but none given: its help, as a failure', async () => {
    expect((await shown(['audit'])).exitCode).not.toBe(0);
  });
});

describe('one exit point', () => {
  it('neither commander nor any command exits the process: usage errors, help and version come back to main', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      for (const argv of [['frobnicate'], ['run', '--bogus'], ['audit'], ['profiles', 'lst'], ['help', 'run'], ['--version'], ['doctor', '--help']]) {
        await parse(argv).catch(() => undefined);
      }
      expect(exit).not.toHaveBeenCalled();
    } finally {
      exit.mockRestore();
    }
  });

  it('only bin/isolate.js calls process.exit', () => {
    const src = fileURLToPath(new URL('../../src', import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) expect(readFileSync(join(src, f), 'utf8'), f).not.toMatch(/process\.exit\(/);
  });
});
