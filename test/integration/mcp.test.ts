/**
 * isolate mcp, started as a user's assistant starts it (the built bin) and
 * spoken to with the MCP SDK's own client: the tools and their schemas, runs
 * in the real sandbox, the command policy, timeouts, cancellation, many calls
 * at once, the end of the client, and the audit log they all leave.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { backendCases } from '../helpers/backends.js';
import { casesAtOnce } from '../helpers/cases-at-once.js';
import { CLIENT, startMcp, type McpProcess } from '../helpers/mcp.js';
import { asRunner, auditRecords, descendants, giveTo, isolate, killSleepers, pollFor, projectSite, readProcInfo, runners, sleepProcs, snapshot, uniqueSleep, type Runner, START_WAIT_MS } from '../helpers/isolate.js';

interface RunOut {
  exitCode: number;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  truncated: { stdout: boolean; stderr: boolean };
  durationMs: number;
  runId: string;
  recorded: boolean;
  network: { mode: string; allowed: number; denied: number };
}

const SECRET = 'mcp-secret-6b1f0d';

/**
 * Wait for the one sandboxed `sleep <d>` a call started. Up to 20 s: on a loaded machine (CI runs three test files at
 * once) a call's sandbox has taken more than 10 s to start. The tests time what follows, not this.
 */
const sleepStarted = (d: string): Promise<true> => pollFor(`the sandboxed sleep ${d}`, () => (sleepProcs(d).length === 1 ? true : undefined), START_WAIT_MS);

// Each runner's calls in order; the two runners' at once (casesAtOnce).
casesAtOnce(runners(), 'isolate mcp ($label)', {}, (runner: Runner) => {
  const servers: McpProcess[] = [];
  const cleanups: (() => void)[] = [];
  const durations: string[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop(5000)));
    for (const d of durations.splice(0)) killSleepers(d);
    for (const c of cleanups.splice(0)) c();
  });

  /** A project of the runner's, its audit log beside it, and a server started there with `args`. */
  async function serve(args: string[] | ((dir: string) => string[]) = [], extraEnv: Record<string, string> = {}) {
    const site = projectSite(runner, 'isolate-it-mcp-', extraEnv);
    cleanups.push(site.cleanup);
    const log = join(site.dir, 'audit.jsonl');
    const given = typeof args === 'function' ? args(site.dir) : args;
    giveTo(runner, site.dir);
    const server = await startMcp(runner, ['--audit-log', log, ...given], { cwd: site.project, env: site.env });
    servers.push(server);
    const records = (): Record<string, unknown>[] => auditRecords(log);
    return { ...site, log, server, records };
  }

  const call = async (s: McpProcess, name: string, args: Record<string, unknown>): Promise<CallToolResult> =>
    (await s.client.callTool({ name, arguments: args })) as CallToolResult;
  const out = (r: CallToolResult): RunOut => r.structuredContent as unknown as RunOut;
  const textOf = (r: CallToolResult): string => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

  it('lists run, check and explain with their input and output schemas', async () => {
    const { server } = await serve();
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['check', 'explain', 'run']);
    const run = tools.find((t) => t.name === 'run');
    expect(Object.keys(run?.inputSchema.properties ?? {}).sort()).toEqual(['argv', 'command', 'cwd', 'stdin', 'timeout']);
    expect(Object.keys(run?.outputSchema?.properties ?? {})).toEqual(
      expect.arrayContaining(['exitCode', 'signal', 'stdout', 'stderr', 'stdoutBytes', 'truncated', 'durationMs', 'network', 'denials', 'runId']),
    );
    const check = tools.find((t) => t.name === 'check');
    expect(Object.keys(check?.outputSchema?.properties ?? {})).toEqual(expect.arrayContaining(['decision', 'rule', 'reason']));
    const explain = tools.find((t) => t.name === 'explain');
    expect(Object.keys(explain?.outputSchema?.properties ?? {})).toEqual(expect.arrayContaining(['readable', 'writable', 'hidden', 'network', 'limits']));
  });

  it('refuses to start (125, the reason on stderr, nothing on stdout) with a profile it cannot load', () => {
    const site = projectSite(runner, 'isolate-it-mcp-');
    cleanups.push(site.cleanup);
    const r = isolate(runner, ['mcp', '-p', join(site.dir, 'missing.yaml')], { cwd: site.project, env: site.env, input: '' });
    expect(r.status).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('missing.yaml');
  });

  it('runs a shell string and an argv in the sandbox: output, stdin, working directory, capped output with its full size', async () => {
    const { server, project } = await serve(['--max-output', '1000']);
    const echo = out(await call(server, 'run', { command: 'echo hello && pwd' }));
    expect(echo).toMatchObject({ exitCode: 0, signal: null, timedOut: false, stdout: `hello\n${project}\n`, recorded: true });
    expect(echo.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out(await call(server, 'run', { argv: ['cat'], stdin: 'from the client' })).stdout).toBe('from the client');
    mkdirSync(join(project, 'sub'));
    giveTo(runner, project);
    expect(out(await call(server, 'run', { argv: ['pwd'], cwd: join(project, 'sub') })).stdout).toBe(`${join(project, 'sub')}\n`);
    const big = out(await call(server, 'run', { command: 'head -c 5000 /dev/zero | tr "\\0" a' }));
    expect(big.truncated.stdout).toBe(true);
    expect(big.stdoutBytes).toBe(5000);
    expect(big.stdout).toBe(`${'a'.repeat(1000)}\n[isolate: stdout truncated: the first 1000 of 5000 bytes are shown]\n`);
  });

  it("keeps a secret in the server's environment from the command", async () => {
    const { server } = await serve([], { API_TOKEN: SECRET, PLAIN_SETTING: SECRET });
    // Positive control: the server itself has it.
    expect(readFileSync(`/proc/${server.child.pid}/environ`, 'utf8')).toContain(SECRET);
    const r = out(await call(server, 'run', { command: 'env; cat /proc/1/environ /proc/self/environ 2>/dev/null; echo end' }));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('end');
    expect(r.stdout).not.toContain(SECRET);
  });

  it("drops from the output it returns the escape sequences that act outside the screen, as on the way to a terminal; colours and text stay", async () => {
    // An assistant shows a call's output in the user's terminal: a clipboard write there plants a command the user may paste
    // into a shell outside the sandbox, and a report request makes the terminal type its answer into that shell's input.
    const { server } = await serve();
    const seq = String.raw`\033]52;c;ZWNobyBvd25lZA==\007before \033[31mred\033[0m\033[6n\033]11;?\007 after\n`;
    const r = out(await call(server, 'run', { command: `printf '${seq}'; printf '${seq}' >&2` }));
    expect(r.exitCode).toBe(0);
    for (const text of [r.stdout, r.stderr]) expect(text).toBe('before \u001b[31mred\u001b[0m after\n');
    expect(r.stdoutBytes).toBe(Buffer.byteLength('\u001b]52;c;ZWNobyBvd25lZA==\u0007before \u001b[31mred\u001b[0m\u001b[6n\u001b]11;?\u0007 after\n'));
  });

  it('cannot write outside the writable paths; a cwd outside the readable paths and an env or path parameter are refused', async () => {
    const shown = (dir: string): string[] => {
      mkdirSync(join(dir, 'shown'));
      return ['--allow-read', join(dir, 'shown')];
    };
    const { server, dir, project, records } = await serve(shown);
    // A directory the sandbox shows read-only, and one it does not show at all (the site's own, a private tmpfs inside).
    const readOnly = join(dir, 'shown', 'outside.txt');
    const r = out(await call(server, 'run', { command: `echo pwned > ${readOnly}` }));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(existsSync(readOnly)).toBe(false);
    const outside = join(dir, 'outside.txt');
    expect(out(await call(server, 'run', { command: `echo pwned > ${outside}` })).exitCode).toBe(0);
    expect(existsSync(outside)).toBe(false);
    // Positive control: the runner itself may write in both.
    expect(asRunner(runner, ['touch', readOnly], { cwd: project }).status).toBe(0);
    // Positive control: the runner itself may write there.
    expect(asRunner(runner, ['touch', outside], { cwd: project }).status).toBe(0);
    const tmpfs = await call(server, 'run', { argv: ['pwd'], cwd: dir });
    expect(tmpfs.isError).toBe(true);
    expect(textOf(tmpfs)).toContain(`working directory ${dir} is on an empty tmpfs in the sandbox`);
    const unseen = await call(server, 'run', { argv: ['pwd'], cwd: '/var' });
    expect(unseen.isError).toBe(true);
    expect(textOf(unseen)).toContain('working directory /var is not inside a readable or writable path of the profile');
    // A parameter beyond the schema's (a path to allow, a variable to pass) is refused, not ignored.
    const widen = await call(server, 'run', { command: `echo pwned > ${outside}.2`, allowWrite: [dir], env: ['API_TOKEN'] });
    expect(widen.isError).toBe(true);
    expect(existsSync(`${outside}.2`)).toBe(false);
    // The attempt is in the audit log, though the SDK refused it before isolate's handler saw it.
    const widenRecord = records().find((x) => x['kind'] === 'mcp-call' && JSON.stringify(x['command']).includes('pwned'));
    expect(widenRecord).toMatchObject({ origin: { via: 'mcp', tool: 'run', client: CLIENT }, error: { code: 'E_USAGE' } });
    expect(JSON.stringify(widenRecord)).toMatch(/allowWrite/);
    const typo = await call(server, 'check', { argv: 'rm -rf /' });
    expect(typo.isError).toBe(true);
    expect(records().filter((x) => x['kind'] === 'mcp-call' && (x['origin'] as { tool: string }).tool === 'check')).toMatchObject([{ command: null, error: { code: 'E_USAGE' } }]);
  });

  /** A server whose profile denies `rm *`, in a project holding keep.txt (which a denied rm would remove). */
  async function serveDenyingRm() {
    const site = projectSite(runner, 'isolate-it-mcp-');
    cleanups.push(site.cleanup);
    const profile = join(site.dir, 'policy.yaml');
    writeFileSync(profile, 'extends: default\ncommands:\n  deny: ["rm *"]\n');
    giveTo(runner, site.dir);
    const log = join(site.dir, 'audit.jsonl');
    const server = await startMcp(runner, ['-p', profile, '--audit-log', log], { cwd: site.project, env: site.env });
    servers.push(server);
    writeFileSync(join(site.project, 'keep.txt'), 'keep');
    giveTo(runner, site.project);
    return { site, server, log };
  }

  it('refuses a command the policy denies with a tool error naming the rule, and records it with the client', async () => {
    const { site, server, log } = await serveDenyingRm();
    const r = await call(server, 'run', { argv: ['rm', '-f', 'keep.txt'] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('deny rule "rm *"');
    expect(existsSync(join(site.project, 'keep.txt'))).toBe(true);
    // A shell string is checked as the shell would run it: every command in it.
    const script = await call(server, 'run', { command: 'echo hi && rm -f keep.txt' });
    expect(script.isError, textOf(script)).toBe(true);
    expect(textOf(script)).toContain('rm *');
    expect(existsSync(join(site.project, 'keep.txt'))).toBe(true);
    const checked = await call(server, 'check', { argv: ['rm', '-f', 'keep.txt'] });
    expect(checked.structuredContent).toMatchObject({ decision: 'refused', rule: 'rm *', list: 'deny' });
    const records = auditRecords(log);
    const refused = records.find((x) => x['kind'] === 'run');
    expect(records.filter((x) => x['kind'] === 'run' && x['exitCode'] === 126)).toHaveLength(2);
    expect(refused).toMatchObject({ exitCode: 126, policy: { decision: 'refused', rule: 'rm *' }, origin: { via: 'mcp', tool: 'run', client: CLIENT } });
    expect(records.find((x) => x['kind'] === 'mcp-call')).toMatchObject({ origin: { tool: 'check', client: CLIENT }, policy: { decision: 'refused', rule: 'rm *' } });
  });

  it('a deny rule holds for scripts the shells read otherwise than the policy\'s parser (((…)), [[ || ]], $\'…\' and "${x:-\'…\'}" in dash, heredoc ends, a pattern up to ]])', async () => {
    const { site, server } = await serveDenyingRm();
    const calls = [
      { command: '((rm))' }, // dash runs rm (with no file: the refusal is what is judged)
      { command: '[[ -n x || rm -f keep.txt ]]' },
      { command: 'echo a &>/dev/null rm -f keep.txt' },
      { command: 'echo a == b; rm -f keep.txt ]]' },
      { argv: ['bash', '-c', "cat <<$'EOF'\nEOF\nrm -f keep.txt\n$'EOF'\n"] },
      { argv: ['bash', '-c', 'cat <<EOF\nEO\\\nF\nrm -f keep.txt\nEOF\n'] },
      { command: 'cat <<EOF\n\\\nEOF\nrm -f keep.txt\nEOF\n' },
      { command: "echo $'\\' ; rm -f keep.txt # '" }, // dash (before 0.5.13): a $, then a quote that ends at the backslash's quote
      { command: "echo \"${x:-'}\" ; rm -f keep.txt # '}\"" }, // dash: the ' in a double-quoted ${x:-…} is a plain character
      { command: "cat <<EOF\n${x:-'$(rm -f keep.txt)'}\nEOF\n" }, // the quotes are plain characters in a heredoc: the shells run rm
    ];
    for (const args of calls) {
      const r = await call(server, 'run', args);
      expect(r.isError, `${JSON.stringify(args)}: ${textOf(r)}`).toBe(true);
      expect(existsSync(join(site.project, 'keep.txt')), JSON.stringify(args)).toBe(true);
    }
  });

  it('cannot rewrite the profile it serves under, even in the writable project, and its deny rule holds', async () => {
    const site = projectSite(runner, 'isolate-it-mcp-');
    cleanups.push(site.cleanup);
    const profile = join(site.project, 'isolate.yaml');
    writeFileSync(profile, 'extends: default\ncommands:\n  deny: ["rm *"]\n');
    writeFileSync(join(site.project, 'keep.txt'), 'keep');
    giveTo(runner, site.dir);
    const server = await startMcp(runner, ['-p', profile, '--audit-log', join(site.dir, 'audit.jsonl')], { cwd: site.project, env: site.env });
    servers.push(server);
    const rewrite = out(await call(server, 'run', { command: "printf 'extends: default\\n' > isolate.yaml" }));
    expect(rewrite.exitCode).not.toBe(0);
    expect(rewrite.stderr).toContain('Read-only file system');
    expect(readFileSync(profile, 'utf8')).toContain('rm *');
    const r = await call(server, 'run', { argv: ['rm', '-f', 'keep.txt'] });
    expect(r.isError, textOf(r)).toBe(true);
    expect(textOf(r)).toContain('deny rule "rm *"');
    expect(existsSync(join(site.project, 'keep.txt'))).toBe(true);
  });

  it("stops a command at the call's timeout (124) and refuses a timeout longer than the server's", async () => {
    const { server } = await serve(['--timeout', '20s']);
    const r = out(await call(server, 'run', { command: 'sleep 30', timeout: 1 }));
    expect(r).toMatchObject({ exitCode: 124, timedOut: true });
    expect(r.durationMs).toBeLessThan(15_000);
    const longer = await call(server, 'run', { command: 'true', timeout: 60 });
    expect(longer.isError).toBe(true);
    expect(textOf(longer)).toContain("longer than the profile's timeout (20s)");
  });

  it("kills a call's sandbox when the client cancels it, and reports progress meanwhile", async () => {
    const { server, records } = await serve();
    const d = uniqueSleep(60);
    durations.push(d);
    const controller = new AbortController();
    const progress: number[] = [];
    const pending = server.client.callTool({ name: 'run', arguments: { argv: ['sleep', d] } }, CallToolResultSchema, {
      signal: controller.signal,
      onprogress: (p) => progress.push(p.progress),
      timeout: 120_000,
    });
    pending.catch(() => undefined);
    await sleepStarted(d);
    await pollFor('a progress notification', () => (progress.length > 0 ? true : undefined), 5000);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await pollFor('the sandbox to be gone', () => (sleepProcs(d).length === 0 ? true : undefined));
    const recorded = await pollFor('the run record', () => records().find((x) => x['kind'] === 'run'));
    expect(recorded).toMatchObject({ cancelled: true, command: ['sleep', d] });
    // The server goes on serving.
    expect(out(await call(server, 'run', { argv: ['echo', 'still here'] })).stdout).toBe('still here\n');
  });

  it('runs 20 calls at once, each with its own output', async () => {
    const { server, records } = await serve();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(server, 'run', { command: `echo call-${i}` })));
    expect(results.map((r) => out(r).stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `call-${i}\n`));
    expect(results.every((r) => r.isError !== true && out(r).exitCode === 0)).toBe(true);
    expect(records().filter((x) => x['kind'] === 'run')).toHaveLength(20);
  });

  /** A call of a long sleep that holds the server's only slot (--max-concurrent 1) until the returned controller cancels it. */
  async function holdTheSlot(server: Awaited<ReturnType<typeof serve>>['server']): Promise<AbortController> {
    const d = uniqueSleep(60);
    durations.push(d);
    const controller = new AbortController();
    const first = server.client.callTool({ name: 'run', arguments: { argv: ['sleep', d] } }, CallToolResultSchema, { signal: controller.signal, timeout: 120_000 });
    first.catch(() => undefined);
    await sleepStarted(d);
    return controller;
  }

  it('holds calls beyond --max-concurrent until a running one ends', async () => {
    const { server } = await serve(['--max-concurrent', '1']);
    const controller = await holdTheSlot(server);
    let second: CallToolResult | undefined;
    const waiting = call(server, 'run', { argv: ['echo', 'second'] }).then((r) => (second = r));
    await new Promise((r) => setTimeout(r, 1500));
    expect(second).toBeUndefined();
    controller.abort();
    await waiting;
    expect(out(second as CallToolResult).stdout).toBe('second\n');
  });

  it('refuses, with a tool error it records, a burst of waiting calls whose stdin would take the server past its bound, and runs the others', async () => {
    const { server, records } = await serve(['--max-concurrent', '1']);
    const controller = await holdTheSlot(server);
    // Twelve calls of 8 MiB of stdin each: without a bound, the server holds all 96 MiB (and more) while they wait.
    const stdin = 'x'.repeat(8 * 1024 * 1024);
    const burst = Array.from({ length: 12 }, () => server.client.callTool({ name: 'run', arguments: { argv: ['wc', '-c'], stdin } }, CallToolResultSchema, { timeout: 120_000 }) as Promise<CallToolResult>);
    const errors: CallToolResult[] = [];
    for (const p of burst) void p.then((r) => (r.isError === true ? errors.push(r) : undefined), () => undefined);
    const refused = await pollFor('the calls beyond the bound to be refused', () => (errors.length >= 9 ? errors : undefined), 60_000);
    expect(refused.map(textOf).every((t) => t.includes('the server is busy') && t.includes('fix:'))).toBe(true);
    controller.abort();
    const results = await Promise.all(burst);
    const ran = results.filter((r) => r.isError !== true);
    expect(ran).toHaveLength(3);
    expect(ran.map((r) => out(r).stdout.trim())).toEqual(['8388608', '8388608', '8388608']);
    expect(records().filter((x) => x['kind'] === 'mcp-call')).toMatchObject(Array.from({ length: 9 }, () => ({ origin: { tool: 'run', client: CLIENT }, error: { code: 'E_BUSY' } })));
    expect(records().filter((x) => x['kind'] === 'run')).toHaveLength(4);
  }, 120_000);

  it('leaves no process, socket or file behind when the client closes stdin, and the audit log verifies', async () => {
    const rt = projectSite(runner, 'isolate-it-mcp-rt-');
    cleanups.push(rt.cleanup);
    const runtime = join(rt.dir, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    giveTo(runner, runtime);
    const { server, project, log, records, env } = await serve(['--net', 'filtered', '--allow-domain', 'example.test'], { XDG_RUNTIME_DIR: runtime });
    const before = snapshot(project);
    expect((await call(server, 'check', { argv: ['true'] })).structuredContent).toMatchObject({ decision: 'allowed' });
    expect(textOf(await call(server, 'explain', {}))).toContain('network: filtered');
    const d = uniqueSleep(60);
    durations.push(d);
    const pending = call(server, 'run', { argv: ['sleep', d] });
    pending.catch(() => undefined);
    await sleepStarted(d);
    const tree = descendants(server.child.pid as number);
    expect(tree.length).toBeGreaterThan(1);
    // The filtered run's proxy socket is there while it runs.
    const sockets = (): string[] => (existsSync(join(runtime, 'isolate')) ? readdirSync(join(runtime, 'isolate'), { recursive: true }).map(String).filter((n) => n.endsWith('.sock')) : []);
    expect(sockets().length).toBeGreaterThan(0);

    const end = await server.stop();
    servers.splice(servers.indexOf(server), 1);
    expect(end, server.stderr()).toEqual({ code: 0, signal: null });
    expect(tree.filter((p) => readProcInfo(p.pid) !== undefined && readProcInfo(p.pid)?.state !== 'Z')).toEqual([]);
    expect(sleepProcs(d)).toEqual([]);
    expect(sockets()).toEqual([]);
    expect(snapshot(project)).toEqual(before);

    const kinds = records().map((x) => [x['kind'], (x['origin'] as { tool?: string } | undefined)?.tool]);
    expect(kinds).toEqual([
      ['mcp-call', 'check'],
      ['mcp-call', 'explain'],
      ['run-started', 'run'],
      ['run', 'run'],
    ]);
    const verified = isolate(runner, ['audit', 'verify', log], { cwd: project, env });
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain('intact');
  });

  it('a message over the transport\'s 10 MiB ends the server, which says why on stderr and takes its running sandbox with it', async () => {
    const { server } = await serve();
    const d = uniqueSleep(60);
    durations.push(d);
    call(server, 'run', { argv: ['sleep', d] }).catch(() => undefined);
    await sleepStarted(d);
    const huge = { jsonrpc: '2.0', id: 999, method: 'tools/call', params: { name: 'run', arguments: { command: 'wc -c', stdin: 'x'.repeat(11 * 1024 * 1024) } } };
    server.child.stdin?.on('error', () => undefined); // the server stops reading part-way
    server.child.stdin?.write(`${JSON.stringify(huge)}\n`);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    servers.splice(servers.indexOf(server), 1);
    expect(server.stderr()).toContain('isolate mcp: a message from the client could not be read: ReadBuffer exceeded maximum size of 10485760 bytes');
    expect(sleepProcs(d)).toEqual([]);
  });

  it.each([
    ['SIGTERM', { code: 143, signal: null }],
    ['SIGKILL', { code: null, signal: 'SIGKILL' }],
  ] as const)('on %s, takes every running sandbox with it', async (signal, end) => {
    const { server } = await serve();
    const d = uniqueSleep(60);
    durations.push(d);
    call(server, 'run', { argv: ['sleep', d] }).catch(() => undefined);
    await sleepStarted(d);
    server.child.kill(signal);
    expect(await server.exited).toEqual(end);
    servers.splice(servers.indexOf(server), 1);
    // SIGTERM: the server waited for its sandboxes before it exited; SIGKILL: they die with it.
    if (signal === 'SIGTERM') expect(sleepProcs(d)).toEqual([]);
    await pollFor('the sandbox to be gone', () => (sleepProcs(d).length === 0 ? true : undefined));
  });

  it("a server killed mid-call leaves nothing of its own in isolate's runtime directory once the next server has started", async () => {
    const rt = projectSite(runner, 'isolate-it-mcp-rt-');
    cleanups.push(rt.cleanup);
    const runtime = join(rt.dir, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    giveTo(runner, runtime);
    const { server, project, env } = await serve(['--net', 'filtered', '--allow-domain', 'example.test'], { XDG_RUNTIME_DIR: runtime });
    const d = uniqueSleep(60);
    durations.push(d);
    call(server, 'run', { argv: ['sleep', d] }).catch(() => undefined);
    await sleepStarted(d);
    const pid = server.child.pid as number;
    server.child.kill('SIGKILL');
    await server.exited;
    servers.splice(servers.indexOf(server), 1);
    await pollFor('the sandbox to be gone', () => (sleepProcs(d).length === 0 ? true : undefined));
    const base = join(runtime, 'isolate');
    const listing = (): string[] => readdirSync(base, { recursive: true }).map(String).sort();
    // Its proxy directory and its registration; a notice for the next run in the project (killed-<pid>-…) may stay.
    const dead = (names: string[]): string[] => names.filter((n) => /(^|\/)net-/.test(n) || new RegExp(`^${pid}-`).test(n.split('/').pop() ?? ''));
    expect(dead(listing()).length, listing().join('\n')).toBeGreaterThan(0);
    // A live server's call in the same project, whose proxy directory and registration are in use.
    const live = await startMcp(runner, ['--no-audit', '--net', 'filtered', '--allow-domain', 'example.test'], { cwd: project, env: { ...env, XDG_RUNTIME_DIR: runtime } });
    servers.push(live);
    const d2 = uniqueSleep(60);
    durations.push(d2);
    call(live, 'run', { argv: ['sleep', d2] }).catch(() => undefined);
    await sleepStarted(d2);
    const livePid = String(live.child.pid);
    const liveOnes = (): string[] => listing().filter((n) => n.includes(`net-${livePid}-`) || (n.split('/').pop() ?? '').startsWith(`${livePid}-`));
    expect(liveOnes().length, listing().join('\n')).toBeGreaterThan(1);
    const before = liveOnes();
    // The next server, another network setting, no call yet.
    const next = await startMcp(runner, ['--no-audit'], { cwd: project, env: { ...env, XDG_RUNTIME_DIR: runtime } });
    servers.push(next);
    expect(dead(listing()).filter((n) => !before.includes(n)), listing().join('\n')).toEqual([]);
    expect(liveOnes()).toEqual(before);
  });

  it('takes every running sandbox with it when it is killed with SIGKILL', async () => {
    const { server } = await serve();
    const d = uniqueSleep(60);
    durations.push(d);
    call(server, 'run', { argv: ['sleep', d] }).catch(() => undefined);
    await sleepStarted(d);
    server.child.kill('SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    servers.splice(servers.indexOf(server), 1);
    await pollFor('the sandbox to be gone', () => (sleepProcs(d).length === 0 ? true : undefined));
  });
});

const nsjailCases = backendCases('isolate mcp').filter((c) => c.backend === 'nsjail');

// Without nsjail, backendCases has printed why these are skipped.
describe.skipIf(nsjailCases.length === 0)('isolate mcp --backend nsjail', () => {
  for (const { label, runner, backendEnv } of nsjailCases) {
    it(`runs a command, keeps the server's secret from it, and kills it on cancellation (${label})`, async () => {
      const site = projectSite(runner, 'isolate-it-mcp-', { ...backendEnv, API_TOKEN: SECRET });
      const server = await startMcp(runner, ['--backend', 'nsjail', '--audit-log', join(site.dir, 'audit.jsonl')], { cwd: site.project, env: site.env });
      const d = uniqueSleep(60);
      try {
        const r = (await server.client.callTool({ name: 'run', arguments: { command: 'echo hello; env' } })) as CallToolResult;
        const o = r.structuredContent as unknown as RunOut;
        expect(o.exitCode, JSON.stringify(r.content)).toBe(0);
        expect(o.stdout).toMatch(/^hello\n/);
        expect(o.stdout).not.toContain(SECRET);
        const controller = new AbortController();
        const pending = server.client.callTool({ name: 'run', arguments: { argv: ['sleep', d] } }, CallToolResultSchema, { signal: controller.signal, timeout: 120_000 });
        pending.catch(() => undefined);
        await sleepStarted(d);
        controller.abort();
        await pollFor('the sandbox to be gone', () => (sleepProcs(d).length === 0 ? true : undefined));
      } finally {
        await server.stop(5000);
        killSleepers(d);
        site.cleanup();
      }
    });
  }
});
