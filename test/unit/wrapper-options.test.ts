/**
 * Red team findings: wrappers' and runners' options read otherwise than the
 * tool reads them (getopt_long's unique prefixes, `--opt=value`, `--` then
 * NAME=VALUE, clusters with optional values) made a later word the program,
 * and a denied command ran. Each form below ran the denied program.
 */
import { describe, expect, it } from 'vitest';
import { decideCommands } from '../../src/policy/commands.js';
import { unwrap } from '../../src/policy/wrappers.js';

const DENY = { allow: [], deny: ['git push *', 'touch *'] };
const ALLOW = { allow: ['ls *', 'echo *', 'git status', 'env *'], deny: ['git push *'] };

describe('wrappers read their options as the real tool does', () => {
  it.each([
    [['command', 'git', 'push', '-v', 'origin', 'main']],
    [['env', '-', 'touch', 'MARK']],
    [['env', '-', 'A=1', 'git', 'push', 'origin', 'main']],
    [['sg', '-', 'staff', 'touch MARK']],
    [['sg', '-', 'staff', '-c', 'touch MARK']],
    [['watch', '-t', '-dx', 'echo', 'a;touch MARK']],
    [['watch', '--differences=x', 'echo', 'a;touch MARK']],
    [['command', '-p', 'git', 'push', '-v']],
    [['command', '-p', 'touch', '-V', 'MARK']],
    [['env', '--u', 'X', 'git', 'push', 'origin', 'main']],
    [['env', '--un=X', 'git', 'push', 'origin', 'main']],
    [['env', '--', 'A=B', 'git', 'push', 'origin', 'main']],
    [['env', '-i', '--', 'A=B', 'C=D', 'touch', 'MARK']],
    [['env', '--s', 'touch MARK']],
    [['env', '--split-str=touch MARK']],
    [['env', '--ch', '/', 'touch', 'MARK']],
    [['env', '-P', '/usr/bin', 'touch', 'MARK']],
    [['timeout', '--sig', 'KILL', '9', 'git', 'push', 'origin', 'main']],
    [['timeout', '--kill', '1', '5', 'touch', 'MARK']],
    [['timeout', '-vk', '1', '5', 'touch', 'MARK']],
    [['nice', '--adj', '1', 'git', 'push', 'origin', 'main']],
    [['nice', '-5', 'touch', 'MARK']],
    [['stdbuf', '--out', '0', 'touch', 'MARK']],
    [['ionice', '--classd', '0', 'touch', 'MARK']],
    [['ionice', '-c2', '-n', '0', 'touch', 'MARK']],
    [['setsid', '--f', 'touch', 'MARK']],
    [['time', '--out', '/dev/null', 'touch', 'MARK']],
    [['sudo', '--us', 'root', 'touch', 'MARK']],
    [['sudo', '--preserve-env', 'touch', 'MARK']],
    [['doas', '-u', 'root', 'touch', 'MARK']],
    [['xargs', '--max-a', '1', 'touch']],
    [['xargs', '--arg', '/dev/stdin', 'touch']],
    [['xargs', '--proc', 'ls', 'touch', 'MARK']],
    [['xargs', '-rIX', 'touch', 'X']],
    [['xargs', '-ri', 'touch', '{}']],
    [['xargs', '--repl=X', 'touch', 'X']],
    [['xargs', '-e', 'touch', 'MARK']],
    [['xargs', '-l', 'touch', 'MARK']],
    [['flock', '--wa', '5', 'lock', 'touch', 'MARK']],
    [['taskset', '--cpu', '0', 'touch', 'MARK']],
    [['chrt', '--sched-r', '1', '-d', '0', 'touch', 'MARK']],
    [['unshare', '--wd', '/', 'touch', 'MARK']],
    [['unshare', '--propag', 'private', 'touch', 'MARK']],
    [['unshare', '--map-user=0', '--map-users', '0:0:1', 'touch', 'MARK']],
    [['setpriv', '--reu', '0', 'touch', 'MARK']],
    [['su', 'root', '--comm', 'touch MARK']],
    [['runuser', '--us', 'root', 'touch', 'MARK']],
  ])('the deny rules refuse %j by the denied program', async (argv) => {
    const d = await decideCommands(DENY, argv);
    expect(d, JSON.stringify(d)).toMatchObject({ decision: 'refused', list: 'deny' });
  });

  it.each([[['sh', '-c', "npm_config_call='touch MARK' npx"]], [['sh', '-c', 'NPM_CONFIG_CALL="touch MARK" npm exec']], [['npx', '--yes']], [['npm', 'exec']]])(
    'npx or npm exec with no command runs the one npm_config_call names: %j is not read, and refused under deny rules',
    async (argv) => {
      const d = await decideCommands(DENY, argv);
      expect(d, JSON.stringify(d)).toMatchObject({ decision: 'refused' });
      expect(d.reason).toContain('not read by the policy');
    },
  );

  it.each([[['pnpm', 'exec']], [['yarn', 'dlx']], [['bun', 'x']]])('%j with no command runs nothing npm_config_call names: not refused for it', async (argv) => {
    const d = await decideCommands(DENY, argv);
    expect(d, JSON.stringify(d)).toMatchObject({ decision: 'allowed' });
  });

  it('npm_config_call and the other npm settings that name a command make a script undecidable, as GIT_EDITOR does', async () => {
    const d = await decideCommands(ALLOW, ['sh', '-c', "npm_config_script_shell=/tmp/x ls"]);
    expect(d.decision).toBe('refused');
    expect(d.reason).toContain('npm_config_script_shell names a command npm runs');
  });

  it.each([
    [['xargs', '-ri', 'git', '{}', 'origin', 'main']],
    [['xargs', '-rIX', 'git', 'X', 'origin', 'main']],
    [['xargs', '--repl=X', 'git', 'X', 'origin', 'main']],
  ])('xargs replacing a word of the command: %j may be git push, said so, and refused under an allow list', async (argv) => {
    const d = await decideCommands(DENY, argv);
    expect(d.undecidable.map((u) => u.reason).join(), JSON.stringify(d)).toContain('may match deny rule "git push *"');
    expect((await decideCommands({ allow: ['git *', 'xargs *'], deny: ['git push *'] }, argv)).decision).toBe('refused');
  });

  it.each([
    [['env', '--i', 'touch', 'MARK']],
    [['ionice', '--cl', '2', 'touch', 'MARK']],
    [['unshare', '--map-u', '0', 'touch', 'MARK']],
    [['env', '--bogus', 'X', 'touch', 'MARK']],
    [['timeout', '-z', '1', 'git', 'push']],
    [['nice', '--x', '1', 'git', 'push']],
    [['xargs', '--max', '1', 'touch']],
    [['sudo', '-Q', 'x', 'touch', 'MARK']],
    [['flock', '--x', '5', 'lock', 'touch', 'MARK']],
  ])('an unknown or ambiguous option: the program cannot be told, and %j is refused under deny rules', async (argv) => {
    const d = await decideCommands(DENY, argv);
    expect(d, JSON.stringify(d)).toMatchObject({ decision: 'refused', rule: null });
    expect(d.reason).toContain('not read by the policy');
    expect((await decideCommands(ALLOW, argv)).decision).toBe('refused');
  });

  it.each([
    [['env', '--u', 'ls', 'git', 'push', 'origin', 'main']],
    [['env', '--u=ls', 'git', 'push', 'origin', 'main']],
    [['env', '--', 'A=B', 'git', 'push', 'origin', 'main']],
    [['command', 'git', 'push', '-v']],
    [['env', '--ch', '/', 'touch', 'M']],
  ])('under an allow list, %j is not allowed by the word an option takes', async (argv) => {
    const d = await decideCommands(ALLOW, argv);
    expect(d, JSON.stringify(d)).toMatchObject({ decision: 'refused' });
  });

  it('plain uses still read as before', async () => {
    expect(await decideCommands(ALLOW, ['env', '-u', 'X', 'ls', '-l'])).toMatchObject({ decision: 'allowed', rule: 'ls *' });
    expect(await decideCommands(ALLOW, ['env', '--unset=X', 'A=1', 'ls'])).toMatchObject({ decision: 'allowed', rule: 'ls *' });
    expect(await decideCommands(ALLOW, ['sh', '-c', 'command -v git'])).toMatchObject({ decision: 'allowed' });
    expect(await decideCommands(DENY, ['command', '-pv', 'git'])).toMatchObject({ decision: 'allowed', undecidable: [] });
    expect(await decideCommands(DENY, ['nice', '-n', '5', 'ls'])).toMatchObject({ decision: 'allowed', undecidable: [] });
    expect(await decideCommands(DENY, ['timeout', '--signal=KILL', '5', 'ls'])).toMatchObject({ decision: 'allowed', undecidable: [] });
    expect(await decideCommands(DENY, ['xargs', '-0', '-n', '1', 'ls'])).toMatchObject({ decision: 'allowed', undecidable: [] });
  });
});

describe('unwrap reads each form', () => {
  it.each([
    [['env', '--u', 'X', 'git', 'push'], { argv: ['git', 'push'], tail: false }],
    [['env', '--', 'A=B', 'C=D', 'git', 'push'], { argv: ['git', 'push'], tail: false }],
    [['env', '--s', 'touch MARK', 'x'], { argv: ['env', 'touch', 'MARK', 'x'], tail: false }],
    [['env', '-iS', 'A=1 touch', 'M'], { argv: ['env', 'A=1', 'touch', 'M'], tail: false }],
    [['command', 'git', 'push', '-v'], { argv: ['git', 'push', '-v'], tail: false }],
    [['timeout', '--sig', 'KILL', '9', 'git'], { argv: ['git'], tail: false }],
    [['nice', '--10', 'git'], { argv: ['git'], tail: false }],
    [['xargs', '--arg', '/dev/stdin', 'touch'], { argv: ['touch'], tail: true }],
    [['xargs', '-rIX', 'touch', 'X'], { argv: ['touch'], tail: true }],
    [['xargs', '-ri', 'touch', '{}'], { argv: ['touch'], tail: true }],
    [['xargs', '-i', 'touch', '{}'], { argv: ['touch'], tail: true }],
    [['xargs', '-iX', 'touch', 'X'], { argv: ['touch'], tail: true }],
    [['sudo', '-u', 'root', 'A=1', 'git'], { argv: ['git'], tail: false }],
  ])('%j', (argv, expected) => {
    expect(unwrap({ argv, tail: false })).toEqual(expected);
  });

  it('an unknown option is a part the policy does not read', () => {
    expect(unwrap({ argv: ['env', '--bogus', 'X', 'git'], tail: false })).toMatchObject({ unread: true });
  });
});
