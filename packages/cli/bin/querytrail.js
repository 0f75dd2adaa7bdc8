#!/usr/bin/env node
import { main } from '../dist/index.js';

// `querytrail search ... | head`: the reader has all it wanted; stop quietly, as grep does.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
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
