import { describe, expect, it, vi } from 'vitest';
import { decideCommands } from '../../src/policy/commands.js';
import { shellParser } from '../../src/policy/shell-parser.js';

// Its own file: the parser's runtime, once aborted, fails every later parse in the process.
describe('a script on which the shell parser runs out of memory', () => {
  it('gives no tree instead of throwing, and every later script of the process is then undecidable, refused under deny rules', async () => {
    // The parse's CPU limit is the process's CPU (every thread's): on a loaded runner it ran out before the runtime did,
    // and the parse was cancelled instead of aborted. Held still here, the abort is what ends the parse.
    vi.spyOn(process, 'cpuUsage').mockReturnValue({ user: 0, system: 0 });
    const parse = await shellParser();
    expect(parse('git push')?.type).toBe('program');
    // A pipeline of 20,000 left open: the policy's pre-scan refuses it before parsing (policy-parse-bound.test.ts); parsed, it aborts the runtime.
    expect(parse('a|'.repeat(20_000))).toBeUndefined();
    expect(parse('git push')).toBeUndefined();
    const d = await decideCommands({ allow: [], deny: ['git push *'] }, ['sh', '-c', 'git status']);
    expect(d.decision).toBe('refused');
    expect(d.reason).toMatch(/not read by the policy/);
  });
});
