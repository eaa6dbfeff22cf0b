/** docs/usage.md's usage block and option table say what the command tree says: no second list that can drift. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BACKEND_CHOICES } from '../../src/backends/index.js';
import { allCommands, buildProgram } from '../../src/cli/program.js';
import { commandPath } from '../../src/cli/usage.js';

const USAGE_DOC = readFileSync(new URL('../../docs/usage.md', import.meta.url), 'utf8');
const program = buildProgram('0.0.0', async () => undefined);
const usage = USAGE_DOC.slice(USAGE_DOC.indexOf('<!-- usage: checked against the CLI'));

describe('docs/usage.md', () => {
  it('holds the marked usage block', () => {
    expect(usage).toMatch(/^<!-- usage: checked against the CLI by test\/unit\/cli-usage-doc\.test\.ts -->\n```\n/);
  });

  it('the usage block is every command with its usage, in the tree\'s order', () => {
    const block = /```\n([\s\S]*?)```/.exec(usage)?.[1] ?? '';
    const leaves = allCommands(program).filter((c) => c.commands.length === 0);
    expect(block.trimEnd().split('\n')).toEqual([...leaves.map((c) => `${commandPath(c)} ${c.usage()}`), 'isolate --help | --version']);
  });

  it('the option table is exactly the options of run, as commander spells them', () => {
    const table = usage.slice(usage.indexOf('| option | meaning |'));
    const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
    const flags = rows.map((r) => /^\| `([^`]+)` \|/.exec(r)?.[1]?.replace(/\\\|/g, '|'));
    const run = program.commands.find((c) => c.name() === 'run');
    expect(flags).toEqual(run?.options.map((o) => o.flags));
    const backend = rows.find((r) => r.startsWith('| `--backend'));
    for (const b of BACKEND_CHOICES) expect(backend).toContain(`\`${b}\``);
  });
});
