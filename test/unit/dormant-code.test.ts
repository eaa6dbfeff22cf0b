import { describe, expect, it } from 'vitest';
import { decideCommands } from '../../src/policy/commands.js';

const RULES = { allow: ['echo *', 'ls *', 'wc *', 'git *'], deny: ['git push *'] };

const decide = (script: string) => decideCommands(RULES, ['bash', '-c', script]);

/** Refused with the allow list, as undecidable (or by the deny list, which decides first). */
async function expectUndecidable(script: string): Promise<void> {
  const d = await decide(script);
  expect(d.decision).toBe('refused');
  expect(d.undecidable.length + (d.list === 'deny' ? 1 : 0)).toBeGreaterThan(0);
}

async function expectDecidable(script: string): Promise<void> {
  const d = await decide(script);
  expect(d.undecidable).toEqual([]);
}

describe('code a variable may carry, run by arithmetic, prompt expansion or indirection', () => {
  it.each([
    "x='a[$(git push)]'; echo $((x))",
    "x='a[$(git push)]'; [[ $x -eq 1 ]]",
    "x='a[$(git push)]'; echo ${!x}",
    "y='a[$(git push)]'; x=y; let x",
    "read x; echo $((x))",
    "for i in 'a[$(git push)]'; do ((i)); done",
    "echo $(( $1 + 1 ))",
    "env x='a[$(git push)]' bash -c 'echo $((x))'",
    "x='$(git push)'; echo ${x@P}",
    "PS4='$(git push)'; set -x; echo",
    'echo "${x:-`git push`}"',
    "echo \"${x:-'$(git push)'}\"",
    // Offsets and lengths of a substring, tests nested in [[ ]], compound array subscripts, and what read and select put in REPLY.
    'read x; ls ${x:x}',
    'read x; y=abc; ls ${y:x:1}',
    'read x; y=abc; ls ${y:(x)}',
    'read x; ls ${@:x}',
    'read x; ls ${a[@]:0:x}',
    'read x; [[ ( x -eq 1 ) ]]',
    'read x; [[ -n a && x -eq 1 ]]',
    'read x; y=([x]=1)',
    'read x; declare -a y=([x]=1)',
    'read; ls $((REPLY))',
    'select s in a b; do echo $((REPLY)); done',
    'mapfile; echo $((MAPFILE))',
    // unset evaluates the subscripts of the names it is given, as test -v does, and a name one of them expands.
    'read i; a=(1); unset a[i]',
    'read i; a=(1); unset -v "a[i]"',
    'read x; unset "$x"',
    'unset "$1"',
  ])('%s is undecidable, so refused with an allow list', expectUndecidable);

  it.each([
    'for ((i=0;i<3;i++)); do echo $i; done',
    'i=0; while [ $i -lt 3 ]; do i=$((i+1)); done',
    'n=5; echo $((n*2))',
    'arr=(a b); for i in "${!arr[@]}"; do echo ${arr[i]}; done',
    'for i in {1..3} 4; do echo ${a[i]}; done',
    'c=$(ls | wc -l); if [ "$c" -gt 0 ]; then echo y; fi',
    'echo ${x:-default} "${y:-$(ls)}"',
    "echo ${x:-'`git push`'}",
    'echo "$(echo a\'$(x)\')"',
    'x=abcdef; echo ${x:1:2} ${x: -2} ${x:n} ${@:2}',
    'read name; echo ${name:0:3} ${PATH:0:5}',
    '[[ -n a && 2 -eq 2 ]]',
    'y=([0]=a [1]=b)',
    'read; echo "$REPLY"',
    'a=(x y); test -v a[0]; unset a[1]; read x; unset x; unset -f "$x"',
  ])('%s stays decidable', expectDecidable);
});

describe('variables filled where no assignment is written: $_, BASH_REMATCH, a name reference, a quoted or joined name', () => {
  it.each([
    'd=\'$\'; : "a[${d}(touch A)]"; echo $((_))',
    'd=\'$\'; s="a[${d}(touch A)]"; [[ $s =~ .* ]]; echo $((BASH_REMATCH))',
    'd=\'$\'; s="a[${d}(touch A)]"; [[ $s =~ .* ]]; echo $((BASH_REMATCH[0]))',
    "declare -n r=x; read r; echo $((x))",
    'f() { local -n r=$1; read r; }; f x; echo $((x))',
    "read 'x[0]'; echo $((x))",
    "read -a 'x'; echo $((x))",
    'd=\'$\'; printf -vx \'%s\' "a[${d}(touch A)]"; echo $((x))',
    "read -rax; echo $((x))",
  ])('%s is undecidable, so refused with an allow list', expectUndecidable);

  it.each([
    'x=1; echo $((x+1))',
    ': foo; echo "$_"',
    '[[ ab =~ a(b) ]] && echo "${BASH_REMATCH[1]}"',
    'y=2; echo $((y+1))',
    'read -r line; echo "$line"',
  ])('%s stays decidable', expectDecidable);
});
