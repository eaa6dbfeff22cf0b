/**
 * run/sealed-config.ts (with backends/nsjail-stand-ins.ts): nsjail's config
 * binds a sealed directory's entries by their paths; an entry the host
 * removed or swapped for a link since the plan is bound from its empty
 * stand-in when run/ hands the config over, never from its path (which
 * nsjail would follow, or fail to find). The run itself:
 * test/integration/redteam-sealed-swap.test.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setupMounts } from '../../src/backends/nsjail-mounts.js';
import { bindStandIns } from '../../src/backends/nsjail-stand-ins.js';
import { renderFields } from '../../src/backends/nsjail-proto.js';
import type { Plan, SealType } from '../../src/backends/types.js';
import type { SetupOp } from '../../src/backends/setup-ops.js';
import { sealedConfigNow } from '../../src/run/sealed-config.js';

if (process.platform !== 'linux') console.warn("nsjail's config of a run with sealed entries skipped: the stand-ins are made with O_PATH descriptors, which only Linux has (nsjail runs only there)");

describe.skipIf(process.platform !== 'linux')("nsjail's config of a run with sealed entries", () => {
  let base: string;
  let sealed: string;
  let standIns: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'isolate-nsjail-sealed-'));
    sealed = join(base, 'home "quoted" é');
    standIns = join(base, 'stand-ins');
    mkdirSync(sealed);
    for (const name of ['kept', 'gone', 'linked']) writeFileSync(join(sealed, name), name);
    mkdirSync(join(sealed, 'dir'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const NAMES: [string, SealType][] = [['kept', 'file'], ['gone', 'file'], ['linked', 'file'], ['dir', 'dir']];
  /** The config nsjail-mounts.ts writes for the sealed directory, with a bind of another source beside it. */
  const config = (): string => {
    const ops: SetupOp[] = [
      { kind: 'seal', path: sealed },
      ...NAMES.map(([n, type], slot): SetupOp => ({ kind: 'seal-bind', path: join(sealed, n), type, slot })),
      { kind: 'socket-dir', path: '/run/isolate-net', source: join(sealed, 'kept') },
    ];
    return `${renderFields(setupMounts(ops), '').join('\n')}\n`;
  };
  const plan = (): Plan =>
    ({
      inputs: [{ fd: 3, data: config(), sealedBinds: true }],
      pathFds: NAMES.map(([n, seal], i) => ({ fd: 10 + i, path: join(sealed, n), readOnly: true, seal })),
      standIns,
    }) as unknown as Plan;

  it('each entry as listed: the config as planned, no stand-in made', () => {
    const p = plan();
    expect(sealedConfigNow(p)).toEqual({ plan: p, standIns: new Set() });
    expect(() => statSync(standIns)).toThrow();
  });

  it('an entry removed or swapped for a link is bound from its empty stand-in of the listed type; every other line as planned', () => {
    rmSync(join(sealed, 'gone'));
    rmSync(join(sealed, 'linked'));
    symlinkSync('/etc/passwd', join(sealed, 'linked'));
    rmSync(join(sealed, 'dir'), { recursive: true });
    symlinkSync('/etc', join(sealed, 'dir'));
    const now = sealedConfigNow(plan());
    expect(now.standIns).toEqual(new Set(['gone', 'linked', 'dir'].map((n) => join(sealed, n))));
    const expected = bindStandIns(config(), new Map([['gone', 'file'], ['linked', 'file'], ['dir', 'dir']].map(([n, t]) => [join(sealed, n ?? ''), join(standIns, t ?? '')])));
    const written = String(now.plan.inputs?.[0]?.data);
    expect(written).toBe(expected);
    const before = config().split('\n');
    const after = written.split('\n');
    const changed = after.filter((line, i) => line !== before[i]);
    expect(changed).toHaveLength(3);
    for (const line of changed) expect(line).toMatch(/^mount \{ src: ".*stand-ins\/(file|dir)" dst: ".*(gone|linked|dir)" is_bind: true rw: false /);
    expect(written, 'the bind of another source at its own path is kept').toContain('dst: "/run/isolate-net"');
    expect(statSync(join(standIns, 'file')).size).toBe(0);
    expect(readdirSync(join(standIns, 'dir'))).toEqual([]);
  });

  it('a config without sealed binds is never rewritten', () => {
    rmSync(join(sealed, 'gone'));
    const p = { ...plan(), inputs: [{ fd: 3, data: config() }] } as Plan;
    expect(sealedConfigNow(p)).toEqual({ plan: p, standIns: new Set() });
  });
});
