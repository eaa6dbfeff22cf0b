/** isolate proxy --audit: the records it appends, their order, and what happens when one cannot be written. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyLog } from '../../src/audit/log.js';
import { ProxyAudit } from '../../src/audit/proxy-record.js';
import { auditEntries, isRunRecord } from '../../src/audit/records.js';
import type { NetworkEvent } from '../../src/network/proxy.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'isolate-proxy-audit-'));
  dirs.push(d);
  return d;
}

function event(host: string, decision: NetworkEvent['decision']): NetworkEvent {
  return { time: '2026-01-01T00:00:00.000Z', protocol: 'connect', host, port: 443, decision, rule: null, reason: 'test', bytesUp: 0, bytesDown: 0, durationMs: 1 };
}

const USER = { uid: 1000, gid: 1000, name: 'user' };

describe('ProxyAudit', () => {
  it('appends one proxy-connection record per event, in the order given, that the schema reads and the chain verifies', async () => {
    const log = join(tempDir(), 'audit.jsonl');
    const audit = new ProxyAudit({ log, user: USER, onWarning: () => expect.fail('no warning expected') }, '127.0.0.1:3128');
    const hosts = Array.from({ length: 20 }, (_, i) => `h${i}.example`);
    for (const [i, h] of hosts.entries()) audit.add(event(h, i % 3 === 0 ? 'denied' : 'allowed'));
    await audit.drain();
    expect(audit.counts).toEqual({ written: 20, failed: 0 });
    const entries = [...auditEntries(log)];
    expect(entries.map((e) => e.problem)).toEqual(Array(20).fill(null));
    expect(entries.map((e) => (e.record?.kind === 'proxy-connection' ? e.record.event.host : undefined))).toEqual(hosts);
    expect(entries[0]?.record).toMatchObject({ kind: 'proxy-connection', proxy: { listen: '127.0.0.1:3128', pid: process.pid }, user: USER });
    expect(entries.some((e) => e.record !== null && isRunRecord(e.record))).toBe(false);
    expect(verifyLog(log).ok).toBe(true);
  });

  it('start() writes the proxy-started record with the rules first; it rejects when the log cannot be written', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.jsonl');
    const audit = new ProxyAudit({ log, user: USER, onWarning: () => expect.fail('no warning expected') }, '[::1]:3128');
    await audit.start({ allow: ['example.com'], deny: ['bad.example'] });
    audit.add(event('example.com', 'allowed'));
    await audit.drain();
    const entries = [...auditEntries(log)];
    expect(entries.map((e) => [e.record?.kind, e.problem])).toEqual([
      ['proxy-started', null],
      ['proxy-connection', null],
    ]);
    expect(entries[0]?.record).toMatchObject({ proxy: { listen: '[::1]:3128' }, rules: { allow: ['example.com'], deny: ['bad.example'] } });
    writeFileSync(join(dir, 'file'), '');
    const blocked = new ProxyAudit({ log: join(dir, 'file', 'audit.jsonl'), user: USER, onWarning: () => undefined }, '127.0.0.1:3128');
    await expect(blocked.start({ allow: [], deny: [] })).rejects.toMatchObject({ code: 'E_AUDIT_IO' });
  });

  it('a record that cannot be written is a warning naming the connection, and the next ones are still tried', async () => {
    const dir = tempDir();
    const blocked = join(dir, 'not-a-dir');
    writeFileSync(blocked, '');
    const warnings: string[] = [];
    const audit = new ProxyAudit({ log: join(blocked, 'audit.jsonl'), user: USER, onWarning: (w) => warnings.push(w) }, '/run/p.sock');
    audit.add(event('a.example', 'allowed'));
    audit.add(event('b.example', 'denied'));
    await audit.drain();
    expect(audit.counts).toEqual({ written: 0, failed: 2 });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/a\.example:443 is not in the audit log/);
  });
});
