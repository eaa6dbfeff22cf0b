import { describe, expect, it } from 'vitest';
import { commandForms, decideCommands, ruleMatches, unwrapOnce } from '../../src/policy/commands.js';

const RULES = {
  allow: ['git *', 'npm test', 'npm run *', 'node *'],
  deny: ['git push *', 'npm publish *', 'curl *'],
};

describe('ruleMatches', () => {
  it.each([
    ['git *', ['git'], true],
    ['git *', ['git', 'status'], true],
    ['git *', ['gitk'], false],
    ['npm test', ['npm', 'test'], true],
    ['npm test', ['npm', 'test', '--watch'], false],
    ['npm test', ['npm'], false],
    ['npm run *', ['npm', 'run', 'build', '--', '-x'], true],
    ['npm run *', ['npm', 'runx'], false],
    ['git push *', ['git', 'push'], true],
    ['git push *', ['git', 'push', 'origin', 'main'], true],
    ['git p?sh *', ['git', 'push'], true],
    ['node *.js', ['node', 'a.js'], true],
    ['node *.js', ['node', 'a.ts'], false],
    ['* --version', ['anything', '--version'], true],
  ])('%s vs %j → %s', (rule, argv, expected) => {
    expect(ruleMatches(rule, argv)).toBe(expected);
  });

  it('matches the program by file name, or by path when the rule names one', () => {
    expect(ruleMatches('git *', ['/usr/bin/git', 'status'])).toBe(true);
    expect(ruleMatches('git *', ['./git', 'status'])).toBe(true);
    expect(ruleMatches('/usr/bin/git *', ['git', 'status'], '/usr/bin/git')).toBe(true);
    expect(ruleMatches('/usr/bin/git *', ['git', 'status'], '/usr/local/bin/git')).toBe(false);
    expect(ruleMatches('/opt/*/bin/tool', ['/opt/x/bin/tool'])).toBe(true);
  });

  it('treats regular-expression characters in rules literally', () => {
    expect(ruleMatches('a.b', ['axb'])).toBe(false);
    expect(ruleMatches('c++', ['c++'])).toBe(true);
    expect(ruleMatches('x (y)', ['x', '(y)'])).toBe(true);
  });
});

describe('wrappers are looked through', () => {
  it.each([
    [['env', 'FOO=1', 'git', 'push'], ['git', 'push']],
    [['env', '-i', '-u', 'HOME', 'A=b', 'git', 'push'], ['git', 'push']],
    [['/usr/bin/env', '--', 'git', 'push'], ['git', 'push']],
    [['nice', '-n', '5', 'git', 'push'], ['git', 'push']],
    [['nohup', 'git', 'push'], ['git', 'push']],
    [['timeout', '-s', 'KILL', '10s', 'git', 'push'], ['git', 'push']],
    [['stdbuf', '-o', 'L', 'git', 'push'], ['git', 'push']],
    [['setsid', 'env', 'X=1', 'nice', 'git', 'push'], ['git', 'push']],
  ])('%j → %j', (argv, inner) => {
    expect(commandForms(argv).at(-1)).toEqual(inner);
  });

  it.each([
    // an option cluster whose last letter takes the next word
    [['sudo', '-nu', 'root', 'git', 'push'], ['git', 'push']],
    [['sudo', '-Eu', 'root', '--', 'git', 'push'], ['git', 'push']],
    [['env', '-iu', 'HOME', 'git', 'push'], ['git', 'push']],
    [['env', '-iuHOME', 'git', 'push'], ['git', 'push']],
    [['nice', '-n5', 'git', 'push'], ['git', 'push']],
    [['doas', '-nu', 'root', 'git', 'push'], ['git', 'push']],
    // the time keyword before a negated pipeline
    [['time', '!', 'git', 'push'], ['git', 'push']],
    [['time', '-p', '!', 'git', 'push'], ['git', 'push']],
  ])('%j → %j', (argv, inner) => {
    expect(commandForms(argv).at(-1)).toEqual(inner);
  });

  it.each([
    [['git', '-C', '.', 'push'], ['git', 'push']],
    [['git', '--git-dir=x', '--work-tree', 'y', 'push', 'origin'], ['git', 'push', 'origin']],
    [['git', '-c', 'user.name=x', '--no-pager', '-p', 'push'], ['git', 'push']],
    [['/usr/bin/git', '--namespace', 'n', 'push'], ['/usr/bin/git', 'push']],
    [['/usr/lib/git-core/git-push', 'origin'], ['git', 'push', 'origin']],
    [['git-push'], ['git', 'push']],
  ])('git %j runs %j', (argv, plain) => {
    expect(commandForms(argv).at(-1)).toEqual(plain);
  });

  it.each([
    [['git', '-C', '.', 'push']],
    [['git', '--no-pager', 'push', 'origin', 'main']],
    [['/usr/lib/git-core/git-push']],
    [['sudo', '-nu', 'root', 'git', 'push']],
    [['env', '-iu', 'X', 'git', 'push']],
  ])('the deny rule "git push *" refuses %j', async (argv) => {
    expect(await decideCommands({ allow: [], deny: ['git push *'] }, argv)).toMatchObject({ decision: 'refused', rule: 'git push *' });
  });

  it('a git -c setting with which git runs a command of its own is undecidable', async () => {
    for (const setting of [
      'core.sshCommand=sh -c x',
      'core.pager=sh',
      'include.path=/tmp/x',
      'sendemail.sendmailCmd=git push',
      'tar.tgz.command=sh -c x',
      'trailer.t.cmd=sh -c x',
      'core.alternateRefsCommand=sh -c x',
      'submodule.s.update=!sh -c x',
      'init.templateDir=/tmp/t',
    ]) {
      const d = await decideCommands({ allow: [], deny: ['git push *'] }, ['git', '-c', setting, 'x']);
      expect(d.undecidable.map((u) => u.reason).join()).toContain('runs a command of its own');
    }
    expect((await decideCommands({ allow: ['git *'], deny: [] }, ['git', '-c', 'user.name=x', 'commit'])).decision).toBe('allowed');
  });

  it.each([
    [['git', '-c', 'alias.x=!git push', 'x']],
    [['git', '-c', 'alias.x=!f() { git push; }; f', 'x', 'origin']],
    [['git', '-c', 'alias.p=push', 'p', 'origin']],
    [['git', '-c', 'ALIAS.P=push', '-C', '.', 'P']],
    [['git', '-c', 'alias.a=b', '-c', 'alias.b=-C . push', 'a']],
    [['git', 'rebase', '-x', 'git push', 'HEAD~1']],
    [['git', 'rebase', '--exec=git push', 'HEAD~1']],
    [['git', 'rebase', '-ix', 'git push', 'HEAD~1']],
    [['git', 'rebase', '-xgit push', 'HEAD~1']],
    [['git', 'difftool', '--ext', 'git push']],
    [['git', 'grep', '-iO git push', 'x']],
    [['git', 'grep', '--open-files-in-pager=git push', 'x']],
    [['git', 'filter-branch', '--msg-filter=git push']],
    [['git', 'submodule', 'foreach', '--recursive', 'git push']],
    [['git', 'submodule', 'foreach', 'git', 'push']],
    [['git', 'bisect', 'run', 'git', 'push']],
    [['git', 'clone', '-u', 'git push', 'src', 'dst']],
    [['git', 'ls-remote', '--exec', 'git push', 'origin']],
    [['git', 'send-email', '--sendmail-cmd=git push', 'x.patch']],
    [['git', 'send-pack', '../r.git', 'HEAD:x']],
    [['git', '--no-pager', 'http-push', 'https://example.com/r.git', 'main']],
    [['git', 'subtree', '--prefix=lib', 'push', 'origin', 'main']],
  ])('git runs the git push it is given in %j: refused by "git push *"', async (argv) => {
    expect(await decideCommands({ allow: [], deny: ['git push *'] }, argv)).toMatchObject({ decision: 'refused', rule: 'git push *' });
  });

  it('a command git is given must be allowed itself; plain uses of the same subcommands are not changed', async () => {
    const rules = { allow: ['git *', 'npm test'], deny: [] };
    expect((await decideCommands(rules, ['git', 'rebase', '-x', 'npm test', 'HEAD~3'])).decision).toBe('allowed');
    expect((await decideCommands(rules, ['git', 'rebase', '-x', 'make', 'HEAD~3'])).decision).toBe('refused');
    for (const argv of [['git', 'rebase', '-i', 'HEAD~3'], ['git', 'grep', '-e', 'x', '-O'], ['git', 'clone', '-b', 'main', 'src'], ['git', '-c', 'alias.st=status', 'st'], ['git', 'fetch', 'origin']]) {
      expect((await decideCommands(rules, argv)).decision, argv.join(' ')).toBe('allowed');
    }
  });

  it.each([
    [['git', '--config-env=alias.p=X', 'p']],
    [['git', '-c', "alias.p=push 'origin'", 'p']],
    [['git', 'config', '--global', 'alias.p', 'push']],
    [['git', 'config', 'core.pager', 'sh']],
    [['git', 'clone', '--template=/tmp/t', 'src']],
    [['git', 'clone', '-c', 'core.hooksPath=/tmp/h', 'src']],
    [['env', 'GIT_CONFIG_COUNT=1', 'GIT_CONFIG_KEY_0=alias.p', 'GIT_CONFIG_VALUE_0=push', 'git', 'p']],
    [['env', 'GIT_EDITOR=git push', 'git', 'commit']],
    [['sh', '-c', 'export GIT_CONFIG_PARAMETERS="\'alias.p=push\'"; git p']],
    [['sh', '-c', 'GIT_SSH_COMMAND="git push" git fetch']],
  ])('a command git takes from a value set elsewhere is undecidable: %j', async (argv) => {
    const d = await decideCommands({ allow: [], deny: ['git push *'] }, argv);
    expect(d.undecidable.length, JSON.stringify(d)).toBeGreaterThan(0);
    expect((await decideCommands({ allow: ['*'], deny: [] }, argv)).decision).toBe('refused');
  });

  it.each([
    [['taskset', '-c', '1', 'git', 'push']],
    [['chrt', '-f', '1', 'git', 'push']],
    [['flock', '-w', '1', '/tmp/l', 'git', 'push']],
    [['flock', '-n', '/tmp/l', '-c', 'git push']],
    [['su', 'root', '-c', 'git push']],
    [['su', '-', 'root', '-c', 'git push']],
    [['runuser', '-u', 'x', '--', 'git', 'push']],
    [['script', '-qc', 'git push', '/dev/null']],
    [['watch', '-n1', 'git', 'push']],
    [['setarch', 'x86_64', '-R', 'git', 'push']],
    [['unshare', '-S', '0', 'git', 'push']],
    [['nsenter', '-t', '1', '-m', 'git', 'push']],
    [['setpriv', '--reuid', '1', 'git', 'push']],
    [['prlimit', '--nofile=10', 'git', 'push']],
    [['chroot', '/', 'git', 'push']],
    [['strace', '-f', '-o', '/dev/null', 'git', 'push']],
    [['ssh-agent', 'git', 'push']],
    [['fakeroot', 'git', 'push']],
    [['faketime', '2020-01-01', 'git', 'push']],
    [['firejail', '--noprofile', 'git', 'push']],
    [['proot', '-r', '/', 'git', 'push']],
    [['pkexec', '--user', 'root', 'git', 'push']],
    [['systemd-run', '--user', '-p', 'Nice=5', 'git', 'push']],
    [['sg', 'users', 'git push']],
    [['sg', 'users', '-c', 'git push']],
    [['screen', '-dm', 'git', 'push']],
    [['gdb', '-q', '--args', 'git', 'push']],
    [['gdb', '-batch', '-nx', '--args', 'git', 'push']],
    [['npx', 'git', 'push']],
    [['npx', '-c', 'git push']],
    [['bunx', 'git', 'push']],
    [['npm', 'exec', '--', 'git', 'push']],
    [['npm', 'x', '-c', 'git push']],
    [['pnpm', 'dlx', 'git', 'push']],
    [['pnpm', 'exec', 'git', 'push']],
    [['yarn', 'exec', 'git', 'push']],
    [['bun', 'x', 'git', 'push']],
    [['npm', '--yes', 'exec', '--', 'git', 'push']],
    [['npm', '-w', 'web', 'exec', 'git', 'push']],
    [['npm', '--prefix=/tmp', 'x', 'git', 'push']],
    [['pnpm', '--silent', 'dlx', 'git', 'push']],
    [['yarn', '--cwd', 'web', 'exec', 'git', 'push']],
    [['/lib64/ld-linux-x86-64.so.2', '/usr/bin/git', 'push']],
    [['/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '--library-path', '/lib', '--argv0', 'x', 'git', 'push']],
    [['/lib/ld-linux-aarch64.so.1', '--', 'git', 'push']],
    [['/lib/ld-musl-x86_64.so.1', '--preload', 'x.so', 'git', 'push']],
    [['ld.so', 'git', 'push']],
    [['/lib/x86_64-linux-gnu/ld-2.31.so', 'git', 'push']],
    [['/lib64/ld64.so.2', 'git', 'push']],
  ])('a program that runs the command it is given: the deny rule "git push *" refuses %j', async (argv) => {
    const d = await decideCommands({ allow: [], deny: ['git push *'] }, argv);
    expect(d).toMatchObject({ decision: 'refused', rule: 'git push *' });
  });

  it.each([
    [['at', 'now']],
    [['batch']],
    [['expect', '-c', 'spawn git push']],
    [['parallel', 'git', ':::', 'push']],
    [['start-stop-daemon', '--start', '--exec', '/usr/bin/git', '--', 'push']],
    [['tmux', 'new', '-d', 'git push']],
    [['tmux', '-L', 'x', 'send-keys', '-t', 's', 'git push', 'Enter']],
    [['screen', '-S', 's', '-X', 'stuff', 'git push\n']],
    [['gdb', '-batch', '-ex', 'run', '--args-later', 'git']],
    [['gdb', '-batch', '-ex', 'shell git push', '--args', 'true']],
    [['gdb', '-x', 'cmds.gdb', '--args', 'true']],
    [['gdb', '--eval-command=shell git push', '--args', 'true']],
    [['strace', '-o', '|git push', 'true']],
    [['strace', '-fo', '!git push', 'true']],
    [['strace', '--output=|git push', 'true']],
    [['screen', '-c', 'evil.rc', '-dm', 'true']],
    [['tmux', '-f', 'evil.conf', 'ls']],
  ])('a program that runs what its input, its own script or a session says is undecidable: %j', async (argv) => {
    const d = await decideCommands({ allow: [], deny: ['git push *'] }, argv);
    expect(d.undecidable.length, JSON.stringify(d)).toBeGreaterThan(0);
    expect((await decideCommands({ allow: ['*'], deny: [] }, argv)).decision).toBe('refused');
  });

  it('says which rules it had: no command rules at all, or deny rules none of which matches', async () => {
    expect(await decideCommands({ allow: [], deny: [] }, ['ls'])).toMatchObject({ decision: 'allowed', reason: 'no command rules' });
    expect(await decideCommands({ allow: [], deny: ['git push *'] }, ['ls'])).toMatchObject({ decision: 'allowed', reason: 'no deny rule matches' });
  });

  it('a program named as an object\'s own property (toString, constructor, __proto__) is an ordinary program', async () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(await decideCommands({ allow: [], deny: ['git push *'] }, [name, 'x']), name).toMatchObject({ decision: 'allowed', undecidable: [] });
      expect(await decideCommands({ allow: [], deny: [`${name} *`] }, [name, 'x']), name).toMatchObject({ decision: 'refused' });
    }
  });

  it('the dynamic loader runs no command when it only lists or verifies (ldd does so); with an allow list, it needs a rule of its own', async () => {
    for (const argv of [['/lib64/ld-linux-x86-64.so.2', '--list', '/usr/bin/git'], ['/lib64/ld-linux-x86-64.so.2', '--verify', '/usr/bin/git'], ['/lib64/ld-linux-x86-64.so.2', '--help']]) {
      expect(await decideCommands({ allow: [], deny: ['git *'] }, argv), argv.join(' ')).toMatchObject({ decision: 'allowed', undecidable: [] });
    }
    const loader = ['/lib64/ld-linux-x86-64.so.2', '/usr/bin/git', 'status'];
    expect(await decideCommands({ allow: ['git *'], deny: [] }, loader)).toMatchObject({ decision: 'refused' });
    expect(await decideCommands({ allow: ['git *', 'ld-linux-x86-64.so.2 *'], deny: [] }, loader)).toMatchObject({ decision: 'allowed' });
  });

  it('package managers and tmux otherwise run no command of their own: decided as they are', async () => {
    // npm exec with no command runs the one npm_config_call names: refused as unread (wrapper-options.test.ts).
    for (const argv of [['npm', 'test'], ['pnpm', 'exec'], ['pnpm', 'install'], ['yarn', 'build'], ['tmux', 'ls'], ['screen', '-ls']]) {
      const d = await decideCommands({ allow: [], deny: ['git push *'] }, argv);
      expect(d, argv.join(' ')).toMatchObject({ decision: 'allowed', undecidable: [] });
    }
  });

  it('such a program needs an allow rule of its own, as the command inside it does', async () => {
    expect((await decideCommands({ allow: ['ls *'], deny: [] }, ['taskset', '1', 'ls'])).decision).toBe('refused');
    expect((await decideCommands({ allow: ['ls *'], deny: [] }, ['su', '-c', 'ls'])).decision).toBe('refused');
    expect((await decideCommands({ allow: ['ls *', 'taskset *'], deny: [] }, ['taskset', '1', 'ls'])).decision).toBe('allowed');
    expect((await decideCommands({ allow: ['ls *', 'su *'], deny: [] }, ['su', '-c', 'ls'])).decision).toBe('allowed');
    expect((await decideCommands({ allow: ['ls *'], deny: [] }, ['taskset', '-p', '1'])).decision).toBe('refused');
  });

  it.each([
    'taskset 1 $X', 'taskset $X', 'chrt 1 $X', 'flock l $X', 'setarch x86_64 $X', 'watch $X', 'sg users $X', 'runuser -u root $X',
    'su root $X', 'gdb --args $X', 'npx $X', 'unshare $X', 'echo M | xargs $X', 'script -c "$X"', 'script -qc "$X" /dev/null', 'flock l -c "$X"',
    'su -c "$X"', 'runuser -u root -c "$X"', 'git $X', 'tmux $X', 'parallel $X',
  ])('a runner whose command is computed at run time is undecidable, so an allow list that names the runner refuses it: %s', async (script) => {
    const runners = ['taskset', 'chrt', 'flock', 'setarch', 'watch', 'sg', 'runuser', 'su', 'gdb', 'npx', 'unshare', 'xargs', 'script', 'git', 'tmux', 'parallel'];
    const allow = { allow: ['ls *', 'echo *', ...runners.map((r) => `${r} *`)], deny: [] };
    const d = await decideCommands(allow, ['sh', '-c', script]);
    expect(d.decision, JSON.stringify(d)).toBe('refused');
    // parallel's words are undecidable as its own (it builds commands from its input), the others' as computed.
    expect(d.undecidable.map((u) => u.reason).join()).toMatch(/computed at run time|parallel runs commands it builds/);
  });

  it.each([
    [['su', 'root', '--', '-c', 'git push']],
    [['su', '-', 'root', '--', '-c', 'git push']],
    [['su', 'root', '-s', '/bin/bash', '--', '-c', 'git push']],
    [['runuser', 'root', '--', '-c', 'git push']],
    [['su', '-l', 'root', '--', '-c', 'git push']],
  ])('su (and runuser without -u) gives the words after the user to the shell: %j runs git push', async (argv) => {
    expect((await decideCommands({ allow: [], deny: ['git push *'] }, argv)).decision).toBe('refused');
  });

  it.each([['unshare'], ['unshare', '-r'], ['nsenter', '-t', '1', '-n'], ['chroot', '/'], ['fakeroot'], ['sg', 'users'], ['sg', '-', 'users'], ['script', '-q'], ['script', '-q', '/dev/null'],
    ['setarch', 'x86_64'], ['linux64'], ['firejail'], ['proot'], ['pkexec'], ['tmux'], ['tmux', '-L', 's', '-C']])(
    'a runner given no command starts a shell that reads its input: %j is decided as that shell (refused under an allow list)', async (...argv) => {
      const name = argv[0] ?? '';
      const d = await decideCommands({ allow: ['ls *', `${name} *`, 'sh *'], deny: [] }, argv);
      expect(d.decision, JSON.stringify(d)).toBe('refused');
      expect(d.undecidable.length).toBeGreaterThan(0);
    },
  );

  it('runners that run nothing without a command, and tmux commands that start none, stay allowed', async () => {
    for (const argv of [['setpriv'], ['ssh-agent'], ['dbus-run-session'], ['tmux', 'ls'], ['tmux', '-L', 's', 'kill-server'], ['prlimit'], ['chrt', '-p', '1']]) {
      const d = await decideCommands({ allow: [`${argv[0] ?? ''} *`], deny: [] }, argv);
      expect(d.decision, argv.join(' ')).toBe('allowed');
    }
  });

  it('su -s names the shell su runs, with the words after the user', async () => {
    const d = await decideCommands({ allow: [], deny: ['touch *'] }, ['su', 'root', '-s', '/usr/bin/touch', 'M']);
    expect(d.decision).toBe('refused');
    expect((await decideCommands({ allow: ['ls *', 'su *'], deny: [] }, ['su', 'root', '-s', '/usr/bin/touch', 'M'])).decision).toBe('refused');
    // Without a script or words, the shell reads its commands from its input, as sh alone does.
    const alone = await decideCommands({ allow: ['su *', 'sh *'], deny: [] }, ['su', 'root']);
    expect(alone.undecidable.map((u) => u.reason)).toEqual(['sh reads its script from standard input']);
  });

  it('a script too large or too deep for the policy to read whole is refused under deny rules: a deny rule may match in the part not read', async () => {
    const deny = { allow: [], deny: ['git push *'] };
    let nested = 'git push';
    for (let i = 0; i < 9; i++) nested = `sh -c '${nested.replaceAll("'", "'\\''")}'`;
    for (const script of ['true;'.repeat(1001) + 'git push', `${'#'.repeat(300 * 1024)}\ngit push`, nested]) {
      const d = await decideCommands(deny, ['sh', '-c', script]);
      expect(d.decision).toBe('refused');
    }
    expect((await decideCommands({ allow: [], deny: [] }, ['sh', '-c', 'true;'.repeat(1001)])).decision).toBe('allowed');
  });

  it('BASH_ENV given to env, which every bash started then sources, is undecidable', async () => {
    const d = await decideCommands({ allow: ['bash *'], deny: ['git push *'] }, ['env', 'BASH_ENV=/tmp/x', 'bash', '-c', 'true']);
    expect(d.decision).toBe('refused');
    expect(d.undecidable.map((u) => u.reason).join()).toContain('BASH_ENV');
  });

  it('a wrapper with no command inside is not unwrapped', () => {
    expect(unwrapOnce(['env'])).toBeUndefined();
    expect(unwrapOnce(['env', 'A=1'])).toBeUndefined();
    expect(unwrapOnce(['git', 'push'])).toBeUndefined();
  });
});

describe('decideCommands', () => {
  it('allows what the allow list names', async () => {
    expect(await decideCommands(RULES, ['git', 'status'])).toMatchObject({ decision: 'allowed', rule: 'git *', list: 'allow' });
    expect(await decideCommands(RULES, ['npm', 'test'])).toMatchObject({ decision: 'allowed', rule: 'npm test' });
  });

  it('deny wins over allow', async () => {
    expect(await decideCommands(RULES, ['git', 'push', 'origin', 'main'])).toMatchObject({ decision: 'refused', rule: 'git push *', list: 'deny' });
  });

  it('with an allow list, anything else is refused', async () => {
    const d = await decideCommands(RULES, ['ls', '-la']);
    expect(d).toMatchObject({ decision: 'refused', rule: null, list: null });
    expect(d.reason).toContain('not in the allow list');
  });

  it('without rules everything is allowed', async () => {
    expect(await decideCommands({ allow: [], deny: [] }, ['rm', '-rf', 'x'])).toMatchObject({ decision: 'allowed', rule: null });
  });

  it('a path to the binary is the same program', async () => {
    expect(await decideCommands(RULES, ['/usr/bin/git', 'push'])).toMatchObject({ decision: 'refused', rule: 'git push *' });
    expect(await decideCommands(RULES, ['/usr/bin/curl', 'https://x'])).toMatchObject({ decision: 'refused', rule: 'curl *' });
  });

  it('an env-prefixed command is judged by the command inside', async () => {
    expect(await decideCommands(RULES, ['env', 'GIT_TRACE=1', 'git', 'push'])).toMatchObject({ decision: 'refused', rule: 'git push *' });
    expect(await decideCommands(RULES, ['env', 'CI=1', 'npm', 'test'])).toMatchObject({ decision: 'allowed', rule: 'npm test' });
    expect(await decideCommands({ allow: [], deny: ['curl *'] }, ['nice', '-n', '10', 'curl', 'x'])).toMatchObject({ decision: 'refused' });
  });

  it('sh -c strings are parsed: the rules see the commands of the script, and deny wins inside it', async () => {
    expect(await decideCommands(RULES, ['sh', '-c', 'git push'])).toMatchObject({ decision: 'refused', rule: 'git push *', subcommand: ['git', 'push'] });
    expect(await decideCommands({ allow: ['sh *'], deny: ['git push *'] }, ['sh', '-c', 'git push'])).toMatchObject({ decision: 'refused', rule: 'git push *' });
    expect(await decideCommands(RULES, ['sh', '-c', 'git status'])).toMatchObject({ decision: 'allowed', rule: 'git *', subcommand: ['git', 'status'] });
  });

  it('the resolved path counts for rules that name a path', async () => {
    const rules = { allow: [], deny: ['/usr/local/bin/* *'] };
    expect((await decideCommands(rules, ['tool', 'x'], '/usr/local/bin/tool')).decision).toBe('refused');
    expect((await decideCommands(rules, ['tool', 'x'], '/usr/bin/tool')).decision).toBe('allowed');
  });
});
