/**
 * Red team: escape sequences spliced around one the filter drops. The filter
 * passed `ESC ] 5` (an OSC cut short by ESC), dropped the OSC 52 after it,
 * and passed the text after that, `2;c;...BEL`: the pieces joined into a
 * clipboard write on the terminal and in what `isolate mcp` returns
 * (docs/terminal.md, "What the relay drops"; docs/mcp.md). Judged by effect:
 * the bytes a real terminal (a pty) or an MCP client receives from a real
 * sandbox hold no OSC 52 and no colour query, however the command cuts,
 * interrupts or splices them.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { backendCases } from '../helpers/backends.js';
import { DEFAULT_PATH, giveTo, homeWithProject, isolateArgv, projectSite, runners, type Project } from '../helpers/isolate.js';
import { startMcp, type McpProcess } from '../helpers/mcp.js';
import { haveDriver, onTerminalAsync, type TerminalRun } from '../helpers/pty.js';

const driver = haveDriver();
if (!driver) console.warn('red team terminal splices skipped: python3 with its pty module is needed to drive a terminal');

/** printf formats that splice a clipboard write (aGk= is "hi") or a colour query around a sequence the filter drops. */
const SPLICES = [
  String.raw`\033]5\033]52;c;aGk=\0072;c;aGk=\007`, // the red team's: an OSC cut by ESC, a dropped OSC 52, the rest
  String.raw`\302\2355\302\23552;c;aGk=\0072;c;aGk=\007`, // the same with the UTF-8 C1 introducer
  String.raw`\033]5\0302;c;aGk=\007`, // cut by CAN
  String.raw`\033]\033[6n52;c;aGk=\007`, // a dropped report request between the introducer and the number
  String.raw`\033]052;c;aGk=\007`, // a leading zero
  String.raw`\033]5\1772;c;aGk=\007`, // DEL inside the number, which a terminal ignores
  String.raw`\033\n]52;c;aGk=\007`, // a control after ESC, which a terminal runs inside the escape
  String.raw`\033]11;#000\033[6n;?\007`, // a colour setting cut short, completed into a query
];
const COMMAND = `${SPLICES.map((s) => `printf '${s}'`).join('; ')}; echo; echo done`;

/** An OSC 52 or a colour query as a terminal reads it: after ESC ] or U+009D, zeros, and bytes it ignores there. */
const IGNORED = String.raw`[\x00-\x06\x08-\x17\x19\x1c-\x1f\x7f]*`;
const FORBIDDEN = new RegExp(String.raw`(?:\x1b${IGNORED}\]|\xc2\x9d|\u009d)${IGNORED}(?:0${IGNORED})*(?:5${IGNORED}2|1${IGNORED}1${IGNORED};[^\x07\x1b]*\?)`);

describe.skipIf(!driver).each(backendCases('red team terminal splices'))('red team: sequences spliced around a dropped one, on a terminal ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  const on = (args: string[], stdin = ''): Promise<TerminalRun> =>
    onTerminalAsync(['sh', '-c', `"$@" ${stdin}`, 'sh', ...isolateArgv(runner, ['run', '--backend', backend, ...args])], {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, PATH: DEFAULT_PATH, XDG_STATE_HOME: runner.stateDir, TERM: 'xterm' },
    });

  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  it('with a terminal of its own, and relayed without one (--no-tty): no clipboard write or colour query reaches the terminal', async () => {
    for (const args of [[], ['--no-tty']]) {
      const r = await on([...args, '--', 'sh', '-c', COMMAND], args.length === 0 ? '' : '</dev/null');
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain('done');
      expect(r.output, `a spliced sequence reached the terminal (${args.join(' ') || 'a terminal of its own'}): ${JSON.stringify(r.output)}`).not.toMatch(FORBIDDEN);
    }
  });

  it('--raw-terminal passes them (the control: the command does write them)', async () => {
    const r = await on(['--raw-terminal', '--', 'sh', '-c', COMMAND]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(FORBIDDEN);
  });

  it('the other requests a terminal answers (DECID, a checksum of the screen, feature and kitty queries) and the switch out of UTF-8 do not reach it', async () => {
    const requests = ['\x1bZ', '\x1b[1;1;1;1;1;1*y', '\x1b[1$w', '\x1b[1$u', '\x1b]60\x07', '\x1b]21;foreground=?\x07', '\x1b]99;i=1:p=?;\x1b\\', '\x1b%@'];
    const command = `printf '${requests.map((q) => q.replaceAll('%', '%%').replaceAll('\x1b', '\\033').replaceAll('\x07', '\\007').replace(/\\$/, '\\\\')).join('')}'; echo; echo done`;
    const raw = await on(['--raw-terminal', '--', 'sh', '-c', command]);
    for (const q of requests) expect(raw.output, `control: the command writes ${JSON.stringify(q)}`).toContain(q);
    for (const args of [[], ['--no-tty']]) {
      const r = await on([...args, '--', 'sh', '-c', command], args.length === 0 ? '' : '</dev/null');
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain('done');
      for (const q of requests) expect(r.output.includes(q), `${JSON.stringify(q)} reached the terminal (${args.join(' ') || 'a terminal of its own'})`).toBe(false);
    }
  });
});

describe.each(runners().map((runner) => ({ label: runner.label, runner })))('red team: sequences spliced around a dropped one, in what isolate mcp returns ($label)', ({ runner }) => {
  const cleanups: (() => void)[] = [];
  const servers: McpProcess[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    for (const c of cleanups.splice(0)) c();
  });

  it("run's stdout and stderr hold no clipboard write or colour query", async () => {
    const site = projectSite(runner, 'isolate-it-mcp-splices-');
    cleanups.push(site.cleanup);
    giveTo(runner, site.dir);
    const server = await startMcp(runner, ['--no-audit'], { cwd: site.project, env: site.env });
    servers.push(server);
    const r = (await server.client.callTool({ name: 'run', arguments: { command: `${COMMAND}; { ${COMMAND}; } >&2` } })) as CallToolResult;
    const out = r.structuredContent as { exitCode: number; stdout: string; stderr: string };
    expect(out.exitCode, JSON.stringify(out)).toBe(0);
    for (const text of [out.stdout, out.stderr]) {
      expect(text).toContain('done');
      expect(text, `a spliced sequence in the result: ${JSON.stringify(text)}`).not.toMatch(FORBIDDEN);
    }
  });
});
