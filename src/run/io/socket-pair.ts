/**
 * A connected pair of stream sockets, for one channel that two of the
 * launcher's descriptors share (stdout and stderr on one file: the order of
 * their writes stays). Node has no socketpair(): isolate listens on a socket
 * in a directory only it can enter (mkdtemp, 0700), connects, takes the one
 * connection, and removes the directory. The connecting end goes to the
 * launcher; isolate reads the other.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SocketPair {
  /** The end the launcher gets (isolate closes its copy once the launcher has started). */
  inner: Socket;
  /** The end isolate reads. */
  outer: Socket;
}

/** How long the pair may take to connect (it is local and immediate; the bound is for a stuck file system). */
const CONNECT_TIMEOUT_MS = 5000;

export async function socketPair(): Promise<SocketPair> {
  const dir = mkdtempSync(join(tmpdir(), 'isolate-out-'));
  const server = createServer({ pauseOnConnect: true });
  try {
    const path = join(dir, 's');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const inner = createConnection(path);
    const connected = new Promise<void>((resolve, reject) => {
      inner.once('connect', resolve);
      inner.once('error', reject);
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the socket pair did not connect')), CONNECT_TIMEOUT_MS)));
    try {
      const [outer] = await Promise.race([Promise.all([accepted, connected]), late]);
      return { inner, outer };
    } catch (e: unknown) {
      inner.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
