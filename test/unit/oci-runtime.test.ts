import { describe, expect, it } from 'vitest';
import { cgroupLayout, refusal } from '../../src/host/oci-runtime.js';

const line = (id: number, point: string, type: string): string => `${String(id)} 1 0:${String(id)} / ${point} rw,nosuid - ${type} ${type} rw`;

describe('the OCI runtime for exported bundles', () => {
  it('reads the cgroup layout from mountinfo', () => {
    const root = line(1, '/', 'ext4');
    expect(cgroupLayout([root, line(2, '/sys/fs/cgroup', 'cgroup2')].join('\n'))).toBe('unified');
    expect(cgroupLayout([root, line(2, '/sys/fs/cgroup', 'tmpfs'), line(3, '/sys/fs/cgroup/memory', 'cgroup')].join('\n'))).toBe('legacy');
    expect(cgroupLayout([root, line(3, '/sys/fs/cgroup/memory', 'cgroup'), line(4, '/sys/fs/cgroup/unified', 'cgroup2')].join('\n'))).toBe('hybrid');
    expect(cgroupLayout(root)).toBe('none');
  });

  it('crun is refused on a hybrid layout only; runc everywhere', () => {
    expect(refusal('crun', 'hybrid')).toMatch(/hybrid/);
    for (const layout of ['unified', 'legacy', 'none'] as const) expect(refusal('crun', layout)).toBeUndefined();
    for (const layout of ['unified', 'hybrid', 'legacy', 'none'] as const) expect(refusal('runc', layout)).toBeUndefined();
  });
});
