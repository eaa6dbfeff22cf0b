/**
 * A shell given both -c and -s (dash, Debian's /bin/sh, runs the -c script
 * and then what it reads from its input), npm's abbreviated subcommands
 * (`npm exe` is `npm exec`) and npm's settings given on its command line
 * (`--script-shell=prog`) that choose the program it runs.
 */
import { describe, expect, it } from 'vitest';
import { decideCommands } from '../../src/policy/commands.js';

const ALLOW = { allow: ['ls *', 'echo *', 'cat *'], deny: [] };
const DENY = { allow: [], deny: ['git push *'] };
const sh = (script: string): string[] => ['sh', '-c', script];

/** Refused under an allow list without the command it hides; undecidable (reported, as `curl x | sh` is) under the deny rule alone. */
async function expectHidden(allow: { allow: string[]; deny: string[] }, argv: string[], denied: string[]): Promise<void> {
  expect(await decideCommands(allow, argv), argv.join(' ')).toMatchObject({ decision: 'refused' });
  const open = await decideCommands(DENY, denied);
  expect(open.undecidable.length, denied.join(' ')).toBeGreaterThan(0);
}

describe('a shell given -s with -c also runs what its input says (dash)', () => {
  it.each([
    [sh("echo 'touch S' | sh -s -c 'echo hi'"), sh("echo 'git push origin' | sh -s -c 'echo hi'")],
    [sh("echo 'touch S' | sh -sc 'echo hi'"), sh("echo 'git push origin' | sh -sc 'echo hi'")],
    [sh("echo 'touch S' | dash -cs 'echo hi'"), sh("echo 'git push origin' | dash -cs 'echo hi'")],
    [sh("echo 'touch S' | sh -c -s 'echo hi'"), sh("echo 'git push origin' | sh -c -s 'echo hi'")],
    [sh("sh -s -c 'echo hi' <<'EOF'\ntouch S\nEOF"), sh("sh -s -c 'echo hi' <<'EOF'\ngit push origin\nEOF")],
    [['sh', '-s', '-c', 'echo hi'], ['sh', '-s', '-c', 'echo hi']],
    [['/bin/dash', '-e', '-s', '-c', 'echo hi'], ['/bin/dash', '-e', '-s', '-c', 'echo hi']],
  ])('%j is refused', async (argv, denied) => {
    await expectHidden({ allow: [...ALLOW.allow, 'sh *', 'dash *'], deny: [] }, argv, denied);
  });

  it('reports the input as read, and still reads the -c script', async () => {
    const open = await decideCommands(DENY, ['sh', '-s', '-c', 'echo hi']);
    expect(open.undecidable.map((u) => u.reason).join('\n')).toContain('sh reads its script from standard input');
    expect(await decideCommands(DENY, ['sh', '-s', '-c', 'git push'])).toMatchObject({ decision: 'refused', rule: 'git push *' });
  });

  it('bash ignores -s with -c, and a shell without -s is read as before', async () => {
    expect(await decideCommands(ALLOW, sh("echo 'touch S' | bash -s -c 'echo hi'"))).toMatchObject({ decision: 'allowed' });
    expect(await decideCommands(ALLOW, sh("echo x | sh -c 'echo hi'"))).toMatchObject({ decision: 'allowed' });
    expect(await decideCommands(ALLOW, sh("sh -e -c 'echo hi'"))).toMatchObject({ decision: 'allowed' });
    expect(await decideCommands(ALLOW, sh("sh -c 'echo hi' -s"))).toMatchObject({ decision: 'allowed' });
  });
});

describe("npm's subcommand abbreviated as npm reads it: any unique prefix of its command names (npm exe is npm exec)", () => {
  const NPM = { allow: ['npm *', 'npx *', ...ALLOW.allow], deny: [] };
  it.each([
    [['npm', 'exe', '-c', 'touch M'], ['npm', 'exe', '-c', 'git push origin']],
    [['npm', 'exe', '--', 'touch', 'M'], ['npm', 'exe', '--', 'git', 'push']],
    [['npm', '--yes', 'exe', 'touch', 'M'], ['npm', '--yes', 'exe', 'git', 'push']],
    [sh("npm exe -c 'touch M'"), sh("npm exe -c 'git push origin'")],
  ])('%j runs what npm exec runs', async (argv, denied) => {
    expect(await decideCommands(NPM, argv), argv.join(' ')).toMatchObject({ decision: 'refused' });
    expect(await decideCommands(DENY, denied), denied.join(' ')).toMatchObject({ decision: 'refused', rule: 'git push *' });
  });

  it('other commands, and a prefix two commands share, are read as before', async () => {
    for (const argv of [['npm', 'test'], ['npm', 'exec', '--', 'ls'], ['npm', 'x', 'ls'], ['npm', 'explain', 'touch'], ['npm', 'ex', 'touch'], ['npm', 'run', 'exe']]) {
      expect(await decideCommands(NPM, argv), argv.join(' ')).toMatchObject({ decision: 'allowed' });
    }
    expect(await decideCommands(NPM, ['npx', '--yes', 'ls'])).toMatchObject({ decision: 'allowed' });
  });
});

describe("npm's settings given on its command line that name the program it runs (--script-shell, --shell, --call, …)", () => {
  const NPM = { allow: ['npm *', 'npx *', 'pnpm *', ...ALLOW.allow], deny: [] };
  it.each([
    [['npm', 'exec', '--script-shell=touch', '-c', 'echo']],
    [['npm', 'exec', '--script-shell', 'touch', '-c', 'echo']],
    [['npx', '--shell=touch', '-c', 'echo']],
    [['npm', 'run', 'x', '--script-shell=touch']],
    [['npm', '--script-shell=touch', 'run', 'x']],
    [['npm', '--script-shell', 'touch', 'test']],
    // npm reads a long option by a prefix of its name, and with one dash.
    [['npm', 'run', 'x', '--script-sh=touch']],
    [['npm', '-script-shell=touch', 'run', 'x']],
    [['npx', '--cal', 'touch M']],
    [['npm', '--editor=touch', 'edit', 'x']],
    [['npm', 'install', '--node-gyp=touch']],
    [['pnpm', '--script-shell=touch', 'run', 'x']],
    [sh("npm run x --script-shell='touch'")],
  ])('%j is undecidable', async (argv) => {
    expect(await decideCommands(NPM, argv), argv.join(' ')).toMatchObject({ decision: 'refused' });
    const open = await decideCommands(DENY, argv);
    expect(open.undecidable.map((u) => u.reason).join('\n'), argv.join(' ')).toMatch(/names a command npm runs/);
  });

  it('other options, and words after -- (the command\'s own), are read as before', async () => {
    for (const argv of [['npm', 'test'], ['npm', 'run', 'build', '--', '--shell=x'], ['npm', 'exec', '--', 'ls', '--shell=x'], ['npm', '--no-save', 'install'], ['npm', '--cache', '/tmp/c', 'ci'], ['npx', '--yes', 'ls'], ['npm', 'exec', '-c', 'echo hi']]) {
      expect(await decideCommands(NPM, argv), argv.join(' ')).toMatchObject({ decision: 'allowed', undecidable: [] });
    }
  });
});

describe('npm commands by their full names', () => {
  it.each([
    [['npm', 'publ']],
    [['npm', 'pub', '--tag', 'beta']],
    [['npm', '--tag', 'beta', 'publ']],
    [['npm', '--tag', 'beta', 'publish']],
    [['npm', 'publish']],
  ])('a deny rule on npm publish refuses %j, which npm runs as npm publish', async (argv) => {
    expect((await decideCommands({ allow: [], deny: ['npm publish *'] }, argv)).decision).toBe('refused');
  });

  it('aliases and abbreviations are read as the command they name; other words stay as written', async () => {
    expect((await decideCommands({ allow: [], deny: ['npm install *'] }, ['npm', 'i', 'left-pad'])).decision).toBe('refused');
    expect((await decideCommands({ allow: [], deny: ['npm publish *'] }, ['npm', 'test'])).decision).toBe('allowed');
    expect((await decideCommands({ allow: [], deny: ['npm publish *'] }, ['npm', 'p'])).decision).toBe('allowed'); // p: several commands (pack, ping, …)
  });
});
