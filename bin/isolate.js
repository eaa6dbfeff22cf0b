#!/usr/bin/env node
// The isolate CLI. All logic lives in src/cli/main.ts, bundled to dist/bundle/ for start-up speed (built by `npm run build`).
import { main } from '../dist/bundle/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`isolate: internal error: ${error?.stack ?? error}\n`);
    process.exitCode = 125;
  },
);
