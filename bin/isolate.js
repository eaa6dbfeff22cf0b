#!/usr/bin/env node
// The isolate CLI. All logic lives in dist/cli/main.js (built by `npm run build`).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`isolate: internal error: ${error?.stack ?? error}\n`);
    process.exitCode = 125;
  },
);
