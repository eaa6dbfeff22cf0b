import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLock } from '../../src/audit/lock.js';
import { registerRun, registryLock } from '../../src/run/placeholders.js';
import { IsolateError } from '../../src/errors.js';

describe('placeholder registry: the clean-up after a run', () => {
  let dir: string;
  let root: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-ph-'));
    root = join(dir, 'project');
    env = { XDG_RUNTIME_DIR: dir };
    mkdirSync(root);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Hold the registry's lock for `ms` as a busy concurrent run would. */
  const holdLock = (ms: number): Promise<void> => withLock(join(dir, 'isolate', 'roots', 'registry.lock'), registryLock(join(dir, 'isolate')), () => sleep(ms), { timeoutMs: 1000 });

  /** A run registered for `root` with the lock wait `timeoutMs`, and its placeholder .envrc made as a run makes it. */
  const registeredWithPlaceholder = async (timeoutMs: number) => {
    const reg = await registerRun([root], env, { timeoutMs });
    const placeholder = join(root, '.envrc');
    writeFileSync(placeholder, '', { mode: 0o444 });
    await reg.update([placeholder]);
    return { reg, placeholder };
  };

  it('a lock wait that times out is retried, and the placeholder is removed', async () => {
    const { reg, placeholder } = await registeredWithPlaceholder(60);
    const held = holdLock(150);
    await sleep(10);
    await reg.release();
    await held;
    expect(existsSync(placeholder)).toBe(false);
  });

  it('a clean-up that never gets the lock is an error naming the placeholders, not silence', async () => {
    const { reg, placeholder } = await registeredWithPlaceholder(30);
    const held = holdLock(600);
    await sleep(10);
    let thrown: unknown;
    try {
      await reg.release();
    } catch (e: unknown) {
      thrown = e;
    }
    await held;
    expect(thrown).toBeInstanceOf(IsolateError);
    expect((thrown as IsolateError).detail).toContain(placeholder);
    expect(existsSync(placeholder)).toBe(true);
  });

  it('a run whose clean-up never got the lock (a full runtime directory) is not taken for a killed one: the next run removes its placeholders without a notice', async () => {
    const { reg, placeholder } = await registeredWithPlaceholder(30);
    const held = holdLock(600);
    await sleep(10);
    await expect(reg.release()).rejects.toBeInstanceOf(IsolateError);
    await held;
    expect(existsSync(placeholder)).toBe(true);
    // This process lives on (an MCP server, a program using the API): the run has ended all the same.
    const next = await registerRun([root], env);
    expect(next.notices, 'its search after the run happened').toEqual([]);
    await next.release();
    expect(next.notices).toEqual([]);
    expect(existsSync(placeholder), 'removed by the next run out').toBe(false);
  });

  /** A run in `root/sub` that made the placeholder `sub/.envrc`. */
  async function innerRun(): Promise<{ inner: Awaited<ReturnType<typeof registerRun>>; placeholder: string }> {
    const sub = join(root, 'sub');
    mkdirSync(sub);
    const inner = await registerRun([sub], env);
    const placeholder = join(sub, '.envrc');
    writeFileSync(placeholder, '', { mode: 0o444 }); // as a run makes it
    await inner.update([placeholder]);
    return { inner, placeholder };
  }

  it('a placeholder inside the writable root of another live run (a run in the project beside one in its subdirectory) stays until that run ends', async () => {
    const { inner, placeholder } = await innerRun();
    // The run in the project started while the inner one ran: it holds the placeholder as a protected file of its own.
    const outer = await registerRun([root], env);
    await inner.release();
    expect(existsSync(placeholder), 'removed under the run in the project, which a removal stops').toBe(true);
    await outer.release();
    expect(existsSync(placeholder), 'removed by the last run that could see it').toBe(false);
  });

  it('a run that registers in the directory above while the last run out of its subdirectory clears up either finds the placeholder gone or keeps it to its end', async () => {
    const { inner, placeholder } = await innerRun();
    let paused!: () => void;
    let resume!: () => void;
    const atRemoval = new Promise<void>((r) => (paused = r));
    const held = new Promise<void>((r) => (resume = r));
    // The inner run has decided that no live run holds its placeholders, and is about to remove them (a busy host makes this last).
    const releasing = inner.release({ beforeRemoval: () => (paused(), held) });
    await atRemoval;
    const registering = registerRun([root], env);
    const first = await Promise.race([registering.then(() => 'registered'), sleep(300).then(() => 'waiting')]);
    // A run plans after it registers: what it sees then, it mounts (a placeholder it found is a protected file of its own).
    const seenByOuter = first === 'registered' && existsSync(placeholder);
    resume();
    await releasing;
    const outer = await registering;
    if (seenByOuter) expect(existsSync(placeholder), 'removed under the run above, which had planned it as a protected file of its own').toBe(true);
    await outer.release();
    expect(existsSync(placeholder), 'removed by the last run out').toBe(false);
  });

  it('a damaged entry in the registry (JSON of another shape) neither stops the runs of its root nor their clean-up', async () => {
    const slot = join(dir, 'isolate', 'roots', createHash('sha256').update(root).digest('hex').slice(0, 32));
    for (const content of ['{"pid":999999}', '{"pid":999999,"placeholders":null}', 'null', '[]', '{"pid":999999,"placeholders":"/x"}', '{"pid":999999,"placeholders":[],"root":7}']) {
      mkdirSync(slot, { recursive: true, mode: 0o700 });
      writeFileSync(join(slot, '999999-aaaaaaaaaaaa'), content);
      const reg = await registerRun([root], env);
      const placeholder = join(root, '.envrc');
      writeFileSync(placeholder, '', { mode: 0o444 }); // as a run makes it
      await reg.update([placeholder]);
      await reg.release();
      expect(existsSync(placeholder), content).toBe(false);
    }
  });

  it('what stands at a placeholder\'s name without being one (a directory made there, a file of the user) is not removed: another run may hold it as a protected path of its own', async () => {
    const reg = await registerRun([root], env);
    const dirThere = join(root, '.husky');
    const fileThere = join(root, '.envrc');
    await reg.update([dirThere, fileThere]);
    // A host program (or a sandbox where these names are writable) made them before this run could make its placeholders.
    mkdirSync(dirThere);
    writeFileSync(fileThere, '', { mode: 0o644 });
    await reg.release();
    expect(existsSync(dirThere), 'an empty directory where a placeholder file was planned').toBe(true);
    expect(existsSync(fileThere), 'an empty file that can be written').toBe(true);
  });

  it('control: the placeholders as a run makes them (a read-only empty file, a read-only empty .git) are removed', async () => {
    const reg = await registerRun([root], env);
    const file = join(root, '.envrc');
    const git = join(root, '.git');
    await reg.update([file, git]);
    writeFileSync(file, '', { mode: 0o444 });
    mkdirSync(git, { mode: 0o555 });
    await reg.release();
    expect(existsSync(file)).toBe(false);
    expect(existsSync(git)).toBe(false);
  });

  it('control: a run in a sibling directory does not keep the placeholders', async () => {
    const other = join(root, 'other');
    mkdirSync(other);
    const { inner, placeholder } = await innerRun();
    const beside = await registerRun([other], env);
    await inner.release();
    expect(existsSync(placeholder)).toBe(false);
    await beside.release();
  });
});
