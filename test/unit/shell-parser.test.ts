/**
 * The parser adapter: which simple commands a script holds, with which words,
 * as bash would read them; which shells are given a script; which wrappers
 * run which command.
 */
import { describe, expect, it } from 'vitest';
import { shellParser } from '../../src/policy/shell-parser.js';
import { scriptParts, type ScriptPart } from '../../src/policy/script.js';
import { shellInput } from '../../src/policy/shell.js';
import { unwrap } from '../../src/policy/wrappers.js';

async function parts(script: string): Promise<ScriptPart[]> {
  const root = (await shellParser())(script);
  if (root === undefined) throw new Error('the parser gave up');
  return scriptParts(root, script);
}

/** Each command as its known words, with '…' when words computed at run time follow. */
async function commands(script: string): Promise<string[][]> {
  return (await parts(script)).map((p) => {
    if (p.kind === 'command') return [...p.words.argv, ...(p.words.tail ? ['…'] : [])];
    return p.kind === 'script' ? ['SCRIPT', p.script] : ['UNDECIDABLE', p.reason];
  });
}

describe('shellParser', () => {
  it('loads without adding globals or process listeners (the API runs inside other programs)', async () => {
    const events = ['uncaughtException', 'unhandledRejection', 'exit', 'SIGINT', 'SIGTERM'] as const;
    const globals = new Set(Object.getOwnPropertyNames(globalThis));
    const listeners = events.map((e) => process.listenerCount(e));
    const parse = await shellParser();
    expect(parse('git push')?.type).toBe('program');
    expect(Object.getOwnPropertyNames(globalThis).filter((g) => !globals.has(g))).toEqual([]);
    expect(events.map((e) => process.listenerCount(e))).toEqual(listeners);
  });
});

describe('scriptParts', () => {
  it('finds every simple command in lists, pipelines, subshells, groups, functions and control flow', async () => {
    expect(await commands('a && b | c; (d) & e || f; { g; }; h(){ i; }; if j; then k; elif l; then m; else n; fi; for x in 1; do o; done; case y in y) p;; esac')).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p'].map((c) => [c]),
    );
  });

  it('finds commands inside command and process substitutions, assignments, redirections and unquoted heredocs', async () => {
    expect(await commands('echo $(a) `b` <(c) >(d)')).toEqual([['echo', '…'], ['a'], ['b'], ['c'], ['d']]);
    expect(await commands('x=$(a) b')).toEqual([['b'], ['a']]);
    expect(await commands('b >"$(a)"')).toEqual([['b'], ['a']]);
    expect(await commands('git >/dev/null push <x origin')).toEqual([['git', 'push', 'origin']]);
    expect(await commands('cat <<EOF\nx $(a)\nEOF')).toEqual([['cat'], ['UNDECIDABLE', 'an unquoted heredoc runs commands ($(...) or `...`)'], ['a']]);
  });

  it('backquotes with escapes inside are parsed again, as bash does', async () => {
    expect(await commands('echo `echo \\`git push\\``')).toContainEqual(['SCRIPT', 'echo `git push`']);
    expect(await commands('echo "`echo \\"x\\"`"')).toContainEqual(['SCRIPT', 'echo "x"']);
  });

  it('a quoted heredoc is text', async () => {
    expect(await commands("cat <<'EOF'\n$(a) `b`\nEOF")).toEqual([['cat']]);
    expect(await commands('cat <<"EOF"\n$(a)\nEOF')).toEqual([['cat']]);
  });

  it('removes quotes and escapes as bash does', async () => {
    expect(await commands('g\\it \'p u\' "x"y $\'\\x41\\n\' "\\$HOME" \'\\n\'')).toEqual([['git', 'p u', 'xy', 'A\n', '$HOME', '\\n']]);
    expect(await commands('gi\\\nt pu\\\nsh')).toEqual([['git', 'push']]);
  });

  it('stops at the first word computed at run time', async () => {
    expect(await commands('git $x push')).toEqual([['git', '…']]);
    expect(await commands('ls *.ts')).toEqual([['ls', '…']]);
    expect(await commands('echo {a,b}')).toEqual([['echo', '…']]);
    expect(await commands('echo "$HOME/x"')).toEqual([['echo', '…']]);
    expect(await commands('$x push')).toEqual([['UNDECIDABLE', 'its program name is computed at run time']]);
  });

  it('a script nested too deep, or with too many commands, is undecidable, not a crash', async () => {
    expect((await commands(`${'('.repeat(5000)}true${')'.repeat(5000)}`)).at(-1)).toEqual(['UNDECIDABLE', 'the script nests more than 500 levels deep']);
    expect((await commands('true;'.repeat(1500))).at(-1)).toEqual(['UNDECIDABLE', 'the script runs more than 1000 commands']);
  });

  it('a script the parser cannot read is undecidable', async () => {
    expect((await commands('echo "unterminated')).some(([k]) => k === 'UNDECIDABLE')).toBe(true);
    expect((await commands('if true; then')).some(([k]) => k === 'UNDECIDABLE')).toBe(true);
  });
});

describe('shellInput', () => {
  it.each([
    [['sh', '-c', 'a b'], { kind: 'script', script: 'a b' }],
    [['bash', '-lc', 'a'], { kind: 'script', script: 'a' }],
    [['bash', '-euo', 'pipefail', '-c', 'a', 'arg0'], { kind: 'script', script: 'a' }],
    [['/usr/bin/zsh', '-o', 'errexit', '-c', 'a'], { kind: 'script', script: 'a' }],
    [['bash', '--noprofile', '--rcfile', 'x', '-c', 'a'], { kind: 'script', script: 'a' }],
    [['bash', 'ci.sh'], { kind: 'file' }],
    [['sh'], { kind: 'unknown', reason: 'sh reads its script from standard input' }],
    [['sh', '-s', 'x'], { kind: 'unknown', reason: 'sh reads its script from standard input or from words computed at run time' }],
  ])('%j', (argv, expected) => {
    expect(shellInput({ argv, tail: false })).toEqual(expected);
  });

  it('is undefined for other programs', () => {
    expect(shellInput({ argv: ['shx', '-c', 'a'], tail: false })).toBeUndefined();
  });
});

describe('unwrap', () => {
  it.each([
    [['env', '-S', 'git push', 'origin'], { argv: ['env', 'git', 'push', 'origin'], tail: false }],
    [['env', '-S', 'A=1 git'], { argv: ['env', 'A=1', 'git'], tail: false }],
    [['env', 'A=1', 'git'], { argv: ['git'], tail: false }],
    [['env', '--split-string=git push'], { argv: ['env', 'git', 'push'], tail: false }],
    [['command', '-p', 'git'], { argv: ['git'], tail: false }],
    [['exec', '-a', 'name', 'git'], { argv: ['git'], tail: false }],
    [['sudo', '-u', 'dev', 'A=1', 'git'], { argv: ['git'], tail: false }],
    [['xargs', '-n1', 'git', 'push'], { argv: ['git', 'push'], tail: true }],
    [['xargs', '-I', '%', 'git', '%', 'x'], { argv: ['git'], tail: true }],
    [['xargs'], { argv: ['echo'], tail: true }],
    [['time', '-p', 'git'], { argv: ['git'], tail: false }],
  ])('%j', (argv, expected) => {
    expect(unwrap({ argv, tail: false })).toEqual(expected);
  });

  it('what cannot be known, or is no wrapper', () => {
    expect(unwrap({ argv: ['env', '-S', '"git" push'], tail: false })).toEqual({ undecidable: 'env -S with quotes, escapes or variables in its string' });
    expect(unwrap({ argv: ['xargs', '-I{}', '{}'], tail: false })).toEqual({ undecidable: 'xargs runs a command named by its input' });
    expect(unwrap({ argv: ['command', '-v', 'git'], tail: false })).toBeUndefined();
    expect(unwrap({ argv: ['git', 'push'], tail: false })).toBeUndefined();
  });
});
