import { describe, it } from 'vitest';
import { expectGolden } from './golden-file.js';
import { ociSeccomp } from '../../src/seccomp/oci.js';
import { resolveSeccomp } from '../../src/seccomp/presets.js';
import { SECCOMP_ARCHES } from '../../src/seccomp/syscalls.js';

describe('golden: the seccomp rules as OCI linux.seccomp (and a Kubernetes Localhost profile)', () => {
  it('the default preset, for both architectures in one profile', async () => {
    const profile = ociSeccomp(resolveSeccomp({ preset: 'default' }), SECCOMP_ARCHES);
    await expectGolden(`${JSON.stringify(profile, null, 2)}\n`, 'oci/seccomp-default.json');
  });

  it('allow and deny on top of the default preset, x86_64', async () => {
    const profile = ociSeccomp(resolveSeccomp({ preset: 'default', allow: ['ptrace', 'personality'], deny: ['chroot', 'ioctl'] }), ['x86_64']);
    await expectGolden(`${JSON.stringify(profile, null, 2)}\n`, 'oci/seccomp-allow-deny-x86_64.json');
  });
});
