/**
 * The linter's import rules (eslint.config.js) refuse what DESIGN.md's
 * layering forbids and let through what it allows: a mistake in the
 * config's patterns (a wrong depth of '../', a later block that replaces a
 * rule) would otherwise pass `npm run lint` by refusing nothing.
 */
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const LAYER_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);
const eslint = new ESLint({ cwd: REPO, cache: false });

/** The layering findings for `code` as if it were the file `file`. */
async function findings(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: file });
  return (result?.messages ?? []).filter((m) => m.ruleId !== null && LAYER_RULES.has(m.ruleId)).map((m) => m.message);
}

const REFUSED: [string, string][] = [
  ['src/backends/x.ts', "import { readFileSync } from 'node:fs';"],
  ['src/backends/x.ts', "import { connect } from 'net';"],
  ['src/backends/x.ts', "import { execute } from '../run/execute.js';"],
  ['src/backends/x.ts', "import type { Plan } from '../run/result.js';"],
  ['src/backends/x.ts', "export { gatherHostFacts } from '../host/facts.js';"],
  ['src/backends/x.ts', "const m = await import('../host/facts.js');"],
  ['src/backends/x.ts', "const m = await import('node:child_process');"],
  ['src/backends/sub/x.ts', "import { appendRecord } from '../../audit/log.js';"],
  ['src/seccomp/x.ts', "import { writeFileSync } from 'node:fs';"],
  ['src/profile/x.ts', "import { writableRoots } from '../backends/mounts.js';"],
  ['src/profile/x.ts', "import { execute } from '../run/execute.js';"],
  ['src/host/x.ts', "import { execute } from '../run/execute.js';"],
  ['src/host/x.ts', "import { main } from '../cli/main.js';"],
  ['src/run/x.ts', "import { main } from '../cli/main.js';"],
  ['src/run/io/x.ts', "import { main } from '../../cli/main.js';"],
  ['src/run/x.ts', "import { run } from '../index.js';"],
  ['src/audit/x.ts', "import { execute } from '../run/execute.js';"],
  ['src/audit/x.ts', "const m = await import('../run/execute.js');"],
  ['src/audit/x.ts', "import { main } from '../cli/main.js';"],
  ['src/network/x.ts', "import { execute } from '../run/execute.js';"],
  ['src/cli/x.ts', "import { execute } from '../run/execute.js';"],
  ['src/cli/x.ts', "import { selectBackend } from '../backends/index.js';"],
  ['src/cli/x.ts', "import { gatherHostFacts } from '../host/facts.js';"],
  ['src/index.ts', "import { main } from './cli/main.js';"],
  ['src/audit/x.ts', "import { execa } from 'execa';"],
  ['src/run/x.ts', "import { spawn } from 'node:child_process';"],
  ['src/somewhere-new/x.ts', "import { spawnSync } from 'child_process';"],
  ['src/mcp/x.ts', "import { execute } from '../run/execute.js';"],
  ['src/mcp/x.ts', "import { appendRecord } from '../audit/log.js';"],
  ['src/mcp/x.ts', "import { decideCommand } from '../policy/commands.js';"],
  ['src/mcp/x.ts', "import { main } from '../cli/main.js';"],
  ['src/index.ts', "import { serveStdio } from './mcp/serve.js';"],
  ['src/run/x.ts', "import { createServer } from '../mcp/server.js';"],
];

const ALLOWED: [string, string][] = [
  ['src/backends/x.ts', "import { formatBytes } from '../profile/limits.js';"],
  ['src/backends/x.ts', "import { dirname } from 'node:path';"],
  ['src/run/x.ts', "import type { Plan } from '../backends/types.js';"],
  ['src/run/x.ts', "import { processAlive } from '../host/alive.js';"],
  ['src/run/io/x.ts', "import { shellQuote } from '../quote.js';"],
  ['src/audit/x.ts', "import type { ExecuteResult } from '../run/execute.js';"],
  ['src/cli/x.ts', "import { BACKEND_CHOICES } from '../backends/types.js';"],
  ['src/cli/x.ts', "import { run } from '../index.js';"],
  ['src/mcp/x.ts', "import { runWithError } from '../index.js';"],
  ['src/mcp/x.ts', "import { IsolateError } from '../errors.js';"],
  ['src/cli/x.ts', "const m = await import('../mcp/serve.js');"],
  ['src/host/x.ts', "import { probeSync } from '../process.js';"],
  ['src/run/x.ts', "import type { ChildProcess } from 'node:child_process';"],
  ['src/process.ts', "import { execa } from 'execa';"],
];

describe('the linter enforces the layering', () => {
  it.each(REFUSED)('%s: %s is refused', async (file, code) => {
    expect(await findings(file, code)).not.toEqual([]);
  });

  it.each(ALLOWED)('%s: %s is allowed', async (file, code) => {
    expect(await findings(file, code)).toEqual([]);
  });

  it('says why: the refusal names the layer rule and DESIGN.md', async () => {
    const [message] = await findings('src/backends/x.ts', "import { execute } from '../run/execute.js';");
    expect(message).toMatch(/backends\/ is pure.*DESIGN\.md/);
  });
});
