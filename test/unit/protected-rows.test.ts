import { describe, expect, it } from 'vitest';
import { protectedRows } from '../../src/backends/protected-rows.js';
import { explainText, type ExplainOutput } from '../../src/mcp/explain-tool.js';

const WHY = { '/h/go/bin': 'on your PATH: a program put there would run on the host at your next command', '/h/bin': 'on your PATH at your next login' };

describe('protectedRows: the protected paths as explain shows them', () => {
  it('each path, with why where the plan gives one, and a missing one marked as blocked', () => {
    expect(protectedRows({ protected: ['/h/p/.git/hooks', '/h/go/bin'], placeholders: ['/h/bin', '/h/p/.envrc'], protectedWhy: WHY })).toEqual([
      '/h/p/.git/hooks',
      `/h/go/bin (${WHY['/h/go/bin']})`,
      `/h/bin (does not exist; blocked for the run; ${WHY['/h/bin']})`,
      '/h/p/.envrc (does not exist; blocked for the run)',
    ]);
  });
});

describe("the MCP explain tool's text", () => {
  it('says why a directory on the PATH is protected, as isolate explain does', () => {
    const x: ExplainOutput = {
      profile: 'default',
      backend: 'bwrap 0.9',
      cwd: '/h/p',
      readable: [],
      writable: ['/h/p'],
      hidden: [],
      private: [],
      protected: ['/h/go/bin'],
      protectedWhy: { '/h/go/bin': WHY['/h/go/bin'] },
      network: { mode: 'none', allow: [], deny: [] },
      env: [],
      limits: [],
      commands: { allow: [], deny: [] },
      maxTimeoutSeconds: null,
      maxConcurrent: 1,
      maxOutputBytes: 1,
    };
    expect(explainText(x)).toContain(`read-only inside writable paths: /h/go/bin (${WHY['/h/go/bin']})`);
  });
});
