/**
 * nsjail binds each entry of a sealed directory (seal.ts) by its path, from
 * a config written when the run is planned. An entry a host program swapped
 * for a link, removed, or changed in type since the listing would be
 * followed (or missed) there: run/ points the mount of each such entry at
 * its empty stand-in instead (run/launch/stand-ins.ts), as it does in an
 * OCI bundle's config.json, so that the sandbox shows it empty, as with
 * bubblewrap, and the run goes on. Pure.
 */
import { parseProtoString, protoString } from './nsjail-proto.js';

/** A bind written by nsjail-mounts.ts: `mount { src: "…" dst: "…" is_bind: true …}` on one line. */
const BIND = /^(\s*mount \{ src: )("(?:[^"\\]|\\.)*")( dst: )("(?:[^"\\]|\\.)*")( is_bind: true .*)$/;

/**
 * The config with each bind of a path onto itself that `standIns` names (entry path: its stand-in) bound from the
 * stand-in; every other line as planned.
 */
export function bindStandIns(config: string, standIns: ReadonlyMap<string, string>): string {
  if (standIns.size === 0) return config;
  return config
    .split('\n')
    .map((line) => {
      const m = BIND.exec(line);
      if (m === null || m[2] !== m[4]) return line;
      const standIn = standIns.get(parseProtoString(m[2] as string));
      return standIn === undefined ? line : `${m[1] ?? ''}${protoString(standIn)}${m[3] ?? ''}${m[4]}${m[5] ?? ''}`;
    })
    .join('\n');
}
