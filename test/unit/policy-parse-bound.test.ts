import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { decideCommands } from '../../src/policy/commands.js';

const DENY = { allow: [], deny: ['git push *'] };

/** Scripts under the 256 KiB limit that tree-sitter's error recovery reads in time growing with the square of their length (seconds to minutes). */
const HOSTILE: Array<[string, string]> = [
  ['parentheses nested 20,000 deep', `${'('.repeat(20_000)}git push${')'.repeat(20_000)}`],
  ['command substitutions nested 13,000 deep', `${'$('.repeat(13_000)}git push${')'.repeat(13_000)}`],
  ['200,000 closing parentheses', `git push;${')'.repeat(200_000)}`],
  ['stray closers after words', `git push;${'echo a)'.repeat(30_000)}`],
  ['120,000 || operators', `git push;${'||'.repeat(120_000)}`],
  ['240,000 | operators', `git push;${'|'.repeat(240_000)}`],
  ['80,000 x=( openings', `git push;${'x=('.repeat(80_000)}`],
  ['a pipeline of 20,000 left open (the parser runs out of memory)', `git push;${'a|'.repeat(20_000)}`],
  ['a pipeline of 20,000 with |& left open', `git push;${'a|&'.repeat(20_000)}`],
];

describe('a hostile script the shell parser would read for seconds', () => {
  it.each(HOSTILE)('%s is undecidable, refused under deny rules, in well under the time its parse takes', async (_name, script) => {
    await decideCommands(DENY, ['sh', '-c', 'true']); // the parser loaded
    const start = performance.now();
    const d = await decideCommands(DENY, ['sh', '-c', script]);
    const ms = performance.now() - start;
    expect(d.decision).toBe('refused');
    expect(d.undecidable.length).toBeGreaterThan(0);
    expect(ms).toBeLessThan(3500);
  });

  it('brackets nested too deep or closed too often are refused before parsing, in milliseconds', async () => {
    await decideCommands(DENY, ['sh', '-c', 'true']);
    for (const script of [`${'('.repeat(20_000)}true${')'.repeat(20_000)}`, ')'.repeat(200_000), `${'${'.repeat(600)}x`]) {
      const start = performance.now();
      const d = await decideCommands(DENY, ['sh', '-c', script]);
      expect(performance.now() - start).toBeLessThan(200);
      expect(d.decision).toBe('refused');
      expect(d.reason).toMatch(/not read by the policy/);
    }
  });

  it('an ordinary script with many case items and brackets is still read', async () => {
    const items = Array.from({ length: 400 }, (_, i) => `  v${i}) echo "$(( ${i} + 1 ))" [x] ;;`).join('\n');
    const script = `case "$1" in\n${items}\nesac\nif [ -f a ]; then { (git status); }; fi`;
    const d = await decideCommands({ allow: ['echo *', 'git status', '[ *'], deny: ['git push *'] }, ['sh', '-c', script]);
    expect(d.decision).toBe('allowed');
  });
});
