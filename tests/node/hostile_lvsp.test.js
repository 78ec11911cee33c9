'use strict';
/*
 * Hostile input on the LVSP listener (the link only Litecord should use),
 * against the running binary, while two djs clients keep talking in
 * another channel (harness: lib/hostile.js). Each row opens a fresh
 * connection, sends what it says and expects the documented close code
 * (docs/LVSP.md): 4002 not JSON, 4001 authentication failed, 4000
 * everything else (structure, phase, unknown op, bad field, too large).
 */
const crypto = require('node:crypto');
const { runSuite, lvspProbe, httpWithoutUpgrade } = require('./lib/hostile');
const { hmacToken } = require('./lib/lvsp_client');

const HUGE = 70 * 1024; // over LVSP_MAX_FRAME (64 KiB)

const vst = (user_id, channel_id = '2', guild_id = '1') => ({ op: 7, d: { user_id, channel_id, guild_id } });

const cases = [
  { id: 'L1', what: 'invalid JSON before auth', expect: 'close 4002',
    run: (ctx) => lvspProbe(ctx, ['{"op":1,"d":{"token":']) },
  { id: 'L2', what: 'invalid JSON after auth', expect: 'close 4002',
    run: (ctx) => lvspProbe(ctx, ['not json at all'], { auth: true }) },
  { id: 'L3', what: 'JSON that is not an object (array)', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, ['[1,2,3]']) },
  { id: 'L4', what: 'missing op', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ d: { token: ctx.srv.secret } }]) },
  { id: 'L5', what: 'op of the wrong type (string)', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: '1', d: { token: ctx.srv.secret } }]) },
  { id: 'L6', what: 'missing d', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 1 }]) },
  { id: 'L7', what: 'd of the wrong type (string)', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 1, d: ctx.srv.secret }]) },
  { id: 'L8', what: 'unknown op 99 after auth', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 99, d: {} }], { auth: true }) },
  { id: 'L9', what: 'server-only op (HELLO) sent by the client', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 0, d: { heartbeat_interval: 1, nonce: 'x' } }]) },
  { id: 'L10', what: 'VST_REQUEST before IDENTIFY', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [vst('10')]) },
  { id: 'L11', what: 'HEARTBEAT before IDENTIFY', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 4, d: { s: 1 } }]) },
  { id: 'L12', what: 'wrong secret', expect: 'close 4001',
    run: (ctx) => lvspProbe(ctx, [{ op: 1, d: { token: 'not-the-secret' } }]) },
  { id: 'L13', what: 'the secret with one character changed', expect: 'close 4001',
    run: (ctx) => lvspProbe(ctx, [{ op: 1, d: { token: `${ctx.srv.secret.slice(0, -1)}x` } }]) },
  { id: 'L14', what: 'HMAC over another nonce (replayed IDENTIFY)', expect: 'close 4001',
    run: (ctx) => lvspProbe(ctx, [{ op: 1, d: { token: hmacToken(ctx.srv.secret, 'AAAAAAAAAA') } }]) },
  { id: 'L15', what: 'RESUME with a wrong secret', expect: 'close 4001',
    run: (ctx) => lvspProbe(ctx, [{ op: 2, d: { token: crypto.randomBytes(32).toString('hex'), seq: 0 } }]) },
  { id: 'L16', what: 'token of the wrong type (number)', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 1, d: { token: 12345 } }]) },
  { id: 'L17', what: 'secret followed by \\u0000 (NUL smuggling)', expect: 'close 4002',
    run: (ctx) => lvspProbe(ctx, [`{"op":1,"d":{"token":"${ctx.srv.secret}\\u0000"}}`]) },
  { id: 'L18', what: 'second IDENTIFY after READY', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 1, d: { token: ctx.srv.secret } }], { auth: true }) },
  { id: 'L19', what: `frame over the limit (${HUGE} bytes)`, expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [JSON.stringify({ op: 4, d: { s: 1, pad: 'x'.repeat(HUGE) } })], { auth: true }) },
  { id: 'L20', what: 'deeply nested JSON (30000 levels, within the size limit)', expect: 'close 4002',
    run: (ctx) => lvspProbe(ctx, [`${'['.repeat(30000)}${']'.repeat(30000)}`]) },
  { id: 'L21', what: 'duplicate keys', expect: 'close 4002',
    run: (ctx) => lvspProbe(ctx, [`{"op":1,"op":1,"d":{"token":"${ctx.srv.secret}"}}`]) },
  { id: 'L22', what: 'VST_REQUEST with a non-snowflake user_id', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [vst('12abc')], { auth: true }) },
  { id: 'L23', what: 'VST_REQUEST with a 21-digit (overlong) id', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [vst('123456789012345678901')], { auth: true }) },
  { id: 'L24', what: 'VST_REQUEST missing channel_id', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 7, d: { user_id: '5' } }], { auth: true }) },
  { id: 'L25', what: 'INFO of an unknown type', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 6, d: { type: 42, info: {} } }], { auth: true }) },
  { id: 'L26', what: 'INFO with neither info nor data', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 6, d: { type: 1 } }], { auth: true }) },
  { id: 'L27', what: 'INFO VST with a flag of the wrong type', expect: 'close 4000',
    run: (ctx) => lvspProbe(ctx, [{ op: 6, d: { type: 1, info: { user_id: '5', mute: 'yes' } } }], { auth: true }) },
  { id: 'L28', what: 'binary frame of garbage', expect: ['close 4002', 'close 1003'],
    run: (ctx) => lvspProbe(ctx, [crypto.randomBytes(64)]) },
  { id: 'L29', what: 'empty text frame', expect: 'close 4002',
    run: (ctx) => lvspProbe(ctx, ['']) },
  { id: 'L30', what: 'op that overflows a 64-bit integer', expect: 'close 4002',
    run: (ctx) => lvspProbe(ctx, ['{"op":18446744073709551617,"d":{}}']) },
  { id: 'L31', what: 'HTTPS GET without an upgrade, client gone at once', expect:
      'HTTP/1.1 426, control thread idle',
    run: (ctx) => httpWithoutUpgrade(ctx, Number(new URL(ctx.srv.lvspUrl).port)) },
];
for (const c of cases) c.plane = 'lvsp';

runSuite({ name: 'hostile_lvsp', cases }).catch((err) => {
  console.log(`hostile_lvsp: FAIL ${err.stack || err}`);
  process.exit(1);
});
