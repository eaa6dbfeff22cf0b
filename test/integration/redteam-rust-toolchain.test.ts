/**
 * Red team: rustup's toolchain file. rustup picks the toolchain from the
 * nearest `rust-toolchain.toml` (or `rust-toolchain`, in the same TOML), with
 * no prompt, and `[toolchain] path = "<dir>"` makes it run `<dir>/bin/cargo`
 * and `<dir>/bin/rustc`: a command that wrote one into the project would have
 * its own programs run by the user's next `cargo` there, and by a shell
 * prompt that shows the Rust version (starship runs `rustc --version` on
 * entering the directory), outside the sandbox. The files stay read-only
 * where they exist, cannot be made at the top of the project, and one made
 * deeper is moved aside.
 *
 * Judged on the host: what the files hold after the run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveTo } from '../helpers/isolate.js';
import { projectRuns } from '../helpers/project-runs.js';
import { backendCases } from '../helpers/backends.js';

const PLANTED = '[toolchain]\\npath = ".cache/evil"\\n';
const NAMES = ['rust-toolchain.toml', 'rust-toolchain'];

describe.each(backendCases('red team: rust-toolchain.toml'))('red team: rust-toolchain.toml ($label)', ({ runner, backend, backendEnv }) => {
  const { p, run } = projectRuns(runner, backend, backendEnv);

  it('an existing toolchain file cannot be rewritten, and none can be made at the top of the project', () => {
    writeFileSync(join(p.project, 'rust-toolchain.toml'), '[toolchain]\nchannel = "1.80.0"\n');
    mkdirSync(join(p.project, 'other'));
    giveTo(runner, p.home);
    const r = run(`for f in ${NAMES.join(' ')}; do printf '${PLANTED}' > $f; done; printf '${PLANTED}' > other/notes; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(p.project, 'rust-toolchain.toml'), 'utf8')).toBe('[toolchain]\nchannel = "1.80.0"\n');
    const legacy = join(p.project, 'rust-toolchain');
    expect(existsSync(legacy) ? readFileSync(legacy, 'utf8') : '').not.toContain('path');
    expect(readFileSync(join(p.project, 'other', 'notes'), 'utf8'), 'control: the project is writable').toContain('path = ');
  });

  it('one made in a subdirectory is moved aside', () => {
    mkdirSync(join(p.project, 'crate'));
    giveTo(runner, p.home);
    const r = run(`for f in ${NAMES.join(' ')}; do printf '${PLANTED}' > crate/$f; done; true`);
    expect(r.status, r.stderr).toBe(0);
    const quarantined = (JSON.parse(r.stdout) as { quarantined?: { path: string }[] }).quarantined ?? [];
    for (const name of NAMES) {
      const at = join(p.project, 'crate', name);
      expect(quarantined.map((q) => q.path)).toContain(at);
      expect(existsSync(at) ? readFileSync(at, 'utf8') : '', name).not.toContain('path');
    }
  });
});
