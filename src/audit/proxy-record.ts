/**
 * `isolate proxy --audit`: a record of kind `proxy-started` when the proxy
 * listens (with its rules; a proxy that cannot write it does not start),
 * then every connection the proxy finished is one record of kind
 * `proxy-connection` in the same hash-chained log as the runs.
 * Connections end many at a time; their records are appended one after the
 * other, in the order they ended, so the proxy never waits for the disk.
 * A record that cannot be written is a warning (the proxy goes on serving):
 * the JSON line on stdout or --log still has the connection.
 */
import type { NetworkEvent } from '../network/proxy.js';
import { appendRecord } from './log.js';
import { REPORT_SCHEMA_VERSION, type RunReport } from './report.js';
import { errorText } from './run-audit.js';

export const PROXY_CONNECTION_KIND = 'proxy-connection';
export const PROXY_STARTED_KIND = 'proxy-started';

export interface ProxyStartedRecord {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: typeof PROXY_STARTED_KIND;
  time: string;
  proxy: { listen: string; pid: number };
  user: RunReport['user'];
  /** The domain rules it serves. */
  rules: { allow: string[]; deny: string[] };
}

export interface ProxyConnectionRecord {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: typeof PROXY_CONNECTION_KIND;
  /** The proxy that served it: where it listened, its process. */
  proxy: { listen: string; pid: number };
  user: RunReport['user'];
  /** The connection, with the fields of the run report's network.events. */
  event: NetworkEvent;
}

export interface ProxyAuditOptions {
  log: string;
  user: RunReport['user'];
  /** Told once per record that could not be written, with why. */
  onWarning: (text: string) => void;
}

export class ProxyAudit {
  /** Records written, and records that could not be. */
  readonly counts = { written: 0, failed: 0 };
  private queue: Promise<void> = Promise.resolve();

  /** The proxy's address, as the records name it (`127.0.0.1:3128`, a socket path): set once it listens. */
  constructor(
    private readonly o: ProxyAuditOptions,
    public listen: string,
  ) {}

  /** Write the `proxy-started` record; rejects (the proxy must not serve) when it cannot be written. */
  async start(rules: ProxyStartedRecord['rules']): Promise<void> {
    const record: ProxyStartedRecord = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      kind: PROXY_STARTED_KIND,
      time: new Date().toISOString(),
      proxy: { listen: this.listen, pid: process.pid },
      user: this.o.user,
      rules: { allow: [...rules.allow], deny: [...rules.deny] },
    };
    const { warning } = await appendRecord(this.o.log, record);
    if (warning !== undefined) this.o.onWarning(warning);
  }

  /** Queue the connection's record after those queued before it. */
  add(event: NetworkEvent): void {
    const record: ProxyConnectionRecord = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      kind: PROXY_CONNECTION_KIND,
      proxy: { listen: this.listen, pid: process.pid },
      user: this.o.user,
      event,
    };
    this.queue = this.queue.then(() => this.append(record));
  }

  /** Resolves once every queued record has been written or given up on. */
  drain(): Promise<void> {
    return this.queue;
  }

  private async append(record: ProxyConnectionRecord): Promise<void> {
    try {
      await appendRecord(this.o.log, record);
      this.counts.written++;
    } catch (e: unknown) {
      this.counts.failed++;
      this.o.onWarning(`a connection to ${record.event.host}:${record.event.port} is not in the audit log ${this.o.log}: ${errorText(e)}`);
    }
  }
}
