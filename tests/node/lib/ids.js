'use strict';
/*
 * Snowflake-looking ids for test voice states: unique within the process
 * (a counter on top of the current timestamp), so a test may ask for as
 * many as it likes without reusing a user, channel or guild.
 */
let counter = 0;

function snowflake() {
  counter++;
  return ((BigInt(Date.now() - 1420070400000) << 22n) + BigInt(process.pid % 4096) * 4096n +
    BigInt(counter)).toString();
}

module.exports = { snowflake };
