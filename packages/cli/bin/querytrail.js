#!/usr/bin/env node
import { main } from '../dist/index.js';

// `querytrail search ... | head`: the reader has all it wanted; stop quietly, as grep does. The shell
// goes on without its output instead: exiting would leave its journal unclosed.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  if (process.argv[2] !== 'shell') process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`querytrail: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
