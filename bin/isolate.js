#!/bin/sh
':' /*
# The isolate CLI. npm links this file, and the kernel starts it with sh:
# isolate then starts from its V8 start-up snapshot when one was built for
# this very Node and this build of isolate (docs/performance.md); otherwise,
# and always under `node bin/isolate.js`, node runs the JavaScript after this
# comment. The snapshot's key is written by src/cli/snapshot.ts.
# No core dumps: isolate holds a run's real credentials in memory, and a core file would be written into
# its working directory, the project the next sandbox reads (where core_pattern is a plain file name).
ulimit -c 0 2>/dev/null
# The node on PATH, as `#!/usr/bin/env node` finds it, but never through a relative entry.
node=
set -f
IFS=:
for dir in $PATH; do
  case $dir in /*) [ -f "$dir/node" ] && [ -x "$dir/node" ] && { node=$dir/node; break; } ;; esac
done
unset IFS
set +f
[ -n "$node" ] || { echo 'isolate: node not found on PATH' >&2; exit 127; }
nl='
'
fresh=
if real=$(readlink -f -- "$0" "$node" 2>/dev/null); then
  pkg=${real%%"$nl"*}
  pkg=${pkg%/bin/*}
  snap=$pkg/dist/snapshot
  if [ -r "$snap/isolate.blob" ] && [ -r "$snap/isolate.key" ] && [ -r "$snap/isolate.cjs.sha256" ]; then
    { read -r k1; read -r k2; read -r k3; read -r k4; } 2>/dev/null <"$snap/isolate.key"
    read -r bundle 2>/dev/null <"$snap/isolate.cjs.sha256"
    [ "$k1" = 'isolate-snapshot 1' ] && [ "$k2" = "${real#*"$nl"}" ] && [ -n "$k4" ] && [ "$k4" = "$bundle" ] &&
      [ "$k3" = "$("$node" --version 2>/dev/null)" ] && fresh=1
  fi
fi
# The MCP server (isolate mcp) starts once and serves for long; it loads the MCP SDK, which the snapshot leaves out.
# isolate export runs no sandbox; its k8s format loads kubernetes-models, which the snapshot leaves out too.
case ${1-} in mcp | export) fresh= ;; esac
# Node refuses (exit 14) a snapshot built under other V8 flags, and NODE_OPTIONS can carry some (--max-old-space-size).
[ -z "${NODE_OPTIONS-}" ] || fresh=
[ -z "$fresh" ] || exec "$node" --snapshot-blob "$snap/isolate.blob" "$pkg" "$@"
exec "$node" "$0" "$@"
exit 127
*/

// Run the CLI from the bundle in dist/bundle/. While the start-up snapshot is
// built (dist/snapshot/isolate.cjs is this file bundled with the whole CLI),
// load the run path and leave the rest to the snapshot's start instead.
import { startupSnapshot } from 'node:v8';
import { loadRunPath, main, usePackageRoot } from '#cli';

function run(argv) {
  main(argv).then(
    (code) => {
      process.exitCode = code;
      // Everything main() started has finished (the sandbox, the proxy, the audit log). Once stdout and
      // stderr have flushed (an empty write calls back after everything written before it), exit rather
      // than wait for V8 to tear its heap down: several milliseconds of every run.
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
    (error) => {
      process.stderr.write(`isolate: internal error: ${error?.stack ?? error}\n`);
      process.exitCode = 125;
    },
  );
}

if (startupSnapshot.isBuildingSnapshot()) {
  loadRunPath().then(() =>
    startupSnapshot.setDeserializeMainFunction(() => {
      // The sh part above passes the package's directory (the snapshot knows nothing of where it was built), then the arguments.
      const [root = '', ...argv] = process.argv.slice(1);
      usePackageRoot(root);
      run(argv);
    }),
  );
} else {
  run(process.argv.slice(2));
}
