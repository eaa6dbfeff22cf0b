import { describe, expect, it } from 'vitest';
import { decideCommands } from '../../src/policy/commands.js';

// Its own file: the parser's runtime, once aborted, fails every later parse in the process.
describe('a script on which the shell parser runs out of memory', () => {
  it('is undecidable and refused under deny rules, and so is every later script of the process, instead of an error', async () => {
    const deny = { allow: [], deny: ['git push *'] };
    const d = await decideCommands(deny, ['sh', '-c', `git push;${'a|'.repeat(20_000)}`]);
    expect(d.decision).toBe('refused');
    expect(d.reason).toMatch(/not read by the policy/);
    const next = await decideCommands(deny, ['sh', '-c', 'git status']);
    expect(next.decision).toBe('refused');
  });
});
