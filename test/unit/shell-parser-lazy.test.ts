/**
 * The shell parser is loaded only when it is needed: a profile with command
 * rules and a shell given a script. Every other run is spared its start-up.
 */
import { expect, it, vi } from 'vitest';
import { decideCommands } from '../../src/policy/commands.js';

const loads = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/policy/shell-parser.js', async (original) => {
  const real = await original<typeof import('../../src/policy/shell-parser.js')>();
  return {
    ...real,
    shellParser: () => {
      loads.count++;
      return real.shellParser();
    },
  };
});

it('loads only for a shell script under command rules', async () => {
  const rules = { allow: [], deny: ['git push *'] };
  await decideCommands({ allow: [], deny: [] }, ['sh', '-c', 'git push']);
  await decideCommands(rules, ['git', 'push']);
  await decideCommands(rules, ['env', 'A=1', 'bash', 'ci.sh']);
  await decideCommands(rules, ['sh']);
  expect(loads.count).toBe(0);
  expect((await decideCommands(rules, ['sh', '-c', 'git push'])).decision).toBe('refused');
  expect(loads.count).toBe(1);
});
