/**
 * A credential's ttl counts on a clock that only moves forward: the wall
 * clock set back (an NTP step, root's `date -s`) must not lengthen it.
 * Runs in a worker of its own (unit-isolated): it holds Date.now still.
 */
import { expect, it, vi } from 'vitest';
import { makePlaceholder } from '../../src/network/credentials/placeholder.js';
import { CredentialVault } from '../../src/network/credentials/vault.js';

const TOKEN = 'ghp_R3alT0kenValue0123456789abcdefABCDEF';
const request = (placeholder: string) => ({ method: 'GET', host: 'api.github.com', port: 443, target: '/user', headers: [['X', placeholder]] as [string, string][], tls: true });

it('expires after its ttl although the wall clock was set back an hour meanwhile', async () => {
  const wall = Date.now();
  const spy = vi.spyOn(Date, 'now').mockReturnValue(wall);
  try {
    const placeholder = makePlaceholder(TOKEN);
    const v = new CredentialVault([{ spec: { name: 'GITHUB_TOKEN', source: { kind: 'env', name: 'GITHUB_TOKEN' }, hosts: ['api.github.com'], ttlMs: 30, from: 'test: credentials[0]' }, value: TOKEN, placeholder }]);
    expect(v.rewrite(request(placeholder)).ok).toBe(true);
    spy.mockReturnValue(wall - 3_600_000);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(v.rewrite(request(placeholder))).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
  } finally {
    spy.mockRestore();
  }
});
