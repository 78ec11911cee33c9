'use strict';
/*
 * The short soak that runs in every CI build (the 30-minute form is
 * contrib/soak.sh, results in docs/RELIABILITY.md): 100 simulated
 * sessions in rooms of 10 with one speaker each, one minute, 30 % of the
 * listeners replaced per minute (leave over LVSP, join again). Passes when
 * every session joined, >= 90 % of the packets reached every receiver and
 * decrypted, the server exits 0, and (in the ASan build) LeakSanitizer
 * finds nothing after all that churn. RSS is reported, not asserted: one
 * minute is too short for a drift figure to mean anything.
 */
const { soakMain } = require('./soak');

const args = ['--sessions', '100', '--minutes', '1', '--room-size', '10', '--churn-per-min', '0.3',
  '--sample-s', '2', '--verify-every', '5'];

soakMain(args).then((r) => {
  const failed = r.failures.length;
  console.log(`fault_soak: ${failed ? 0 : 1} passed, ${failed ? 1 : 0} failed`);
  process.exit(failed ? 1 : 0);
}, (err) => {
  console.log(`fault_soak: FAIL ${err.stack || err}`);
  process.exit(1);
});
