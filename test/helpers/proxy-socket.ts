/** Find the proxy socket of a running filtered isolate run on the host, wherever isolate puts it. */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The path of the unix socket named proxy.sock that process `pid` holds (/proc/net/unix of this network namespace), if any. */
export function proxySocketOf(pid: number): string | undefined {
  let inodes: Set<string>;
  try {
    inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''));
  } catch {
    return undefined;
  }
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [inode, path] = [fields[6], fields[7]];
    if (inode !== undefined && inodes.has(inode) && path?.endsWith('/proxy.sock') === true) return path;
  }
  return undefined;
}
