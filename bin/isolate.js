#!/usr/bin/env node
// The isolate CLI. All logic lives in src/cli/main.ts, bundled to dist/bundle/ for start-up speed (built by `npm run build`).
import { main } from '../dist/bundle/main.js';

main(process.argv.slice(2)).then(
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
