'use strict';
/*
 * Select Protocol with protocol "webrtc" against the running binary, while
 * two djs clients keep talking in another channel (harness: lib/hostile.js,
 * which also checks the server stays healthy and exits cleanly). Each row
 * identifies a fresh voice state and sends one op 1; the observed value is
 * "close <code> <reason>". Valid offers (fragments real Chromium and
 * werift made: tests/fuzz/corpus/fuzz_sdp/seed-real-*) are answered with
 * op 4 and the socket stays open (webrtc_werift checks the answer); each
 * unreadable one closes 4020 naming what is wrong and is counted in the
 * admin state's webrtc_refused. The server runs with --gw-max-message
 * 65536 so a fragment over the SDP limit (16 KiB) reaches the SDP reader.
 */
const fs = require('node:fs');
const path = require('node:path');
const { runSuite, wsOpen, sendAndWaitClose, identifyData, voiceState } = require('./lib/hostile');
const { adminState } = require('./lib/admin_client');

const CORPUS = path.join(__dirname, '..', 'fuzz', 'corpus', 'fuzz_sdp');
const real = (name) => fs.readFileSync(path.join(CORPUS, `seed-real-${name}`), 'utf8');
const CHROMIUM = real('chromium-av');
const WERIFT = real('werift-av');
const CREDS = 'a=ice-ufrag:Xk3q\na=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\n';
const OPUS = 'a=rtpmap:111 opus/48000/2';

const codecs = (pt) => [{ name: 'opus', type: 'audio', priority: 1000, payload_type: pt, rtx_payload_type: null },
  { name: 'VP8', type: 'video', priority: 2000, payload_type: 96, rtx_payload_type: 97 }];
const offer = (fragment, extra = {}) => ({ protocol: 'webrtc', data: fragment, sdp: fragment, codecs: codecs(111), ...extra });
const SERVED = 'open';

/* Identify a fresh voice state, send op 1 with d (or a raw text frame). */
async function selectWebrtc(ctx, d, raw) {
  const vi = await voiceState(ctx);
  const c = wsOpen(`wss://${ctx.srv.endpoint}/?v=8`, ctx.ca);
  await c.opened;
  c.ws.send(JSON.stringify({ op: 0, d: identifyData(vi) }));
  await c.waitOp(2);
  const r = await sendAndWaitClose(c, [raw || { op: 1, d }]);
  return r === 'open' ? r : `${r} ${c.close.reason}`;
}

async function refusedCount(ctx) {
  const st = await adminState(ctx.srv.adminUrl, ctx.srv.adminToken());
  return st.frontends['discord voice gateway'].webrtc_refused;
}

const row = (id, what, expect, d, raw) => ({ id, what, expect, run: (ctx) => selectWebrtc(ctx, d, raw) });
const refused = (id, what, reason, d, raw) => ({ ...row(id, what, `close 4020 ${reason}`, d, raw), refused: true });

const cases = [
  row('W1', "Chromium's fragment, sdp + data, codecs Opus 111", SERVED, offer(CHROMIUM)),
  row('W2', "werift's fragment in data only", SERVED, { protocol: 'webrtc', data: WERIFT, codecs: codecs(111) }),
  row('W3', 'no codecs (Opus PT from the rtpmap)', SERVED, offer(CHROMIUM, { codecs: undefined })),
  refused('W4', 'a 20 KiB fragment (over the 16 KiB SDP limit)', 'webrtc sdp: too_big',
    offer(`${CREDS}${OPUS}\n${'a=x-pad:0123456789abcdef\n'.repeat(820)}`)),
  // A NUL never reaches the SDP reader: the JSON decoder refuses \u0000.
  row('W5', 'a NUL byte in the fragment (JSON \\u0000)', 'close 4002 failed to decode payload',
    offer(`${CREDS}\u0000${OPUS}`)),
  refused('W5b', 'a control byte (BEL) in the fragment', 'webrtc sdp: binary', offer(`${CREDS}\u0007${OPUS}`)),
  refused('W6', 'a byte >= 0x80 (UTF-8 é) in the fragment', 'webrtc sdp: binary', offer(`${CREDS}a=x:\u00e9\n${OPUS}`)),
  refused('W7', 'a lone CR', 'webrtc sdp: binary', offer(`${CREDS}a=x\r${OPUS}`)),
  refused('W8', 'no a=ice-ufrag', 'webrtc sdp: missing_ufrag', offer(CHROMIUM.replace(/^a=ice-ufrag:.*\n/m, ''))),
  refused('W9', 'no a=ice-pwd', 'webrtc sdp: missing_pwd', offer(CHROMIUM.replace(/^a=ice-pwd:.*\n/m, ''))),
  refused('W10', 'a 3-character ufrag', 'webrtc sdp: bad_ufrag (line 2)',
    offer(CHROMIUM.replace(/^a=ice-ufrag:.*$/m, 'a=ice-ufrag:abc'))),
  refused('W11', '3000 lines', 'webrtc sdp: too_many_lines', offer(`${CREDS}${OPUS}\n${'a=x\n'.repeat(3000)}`)),
  refused('W12', 'a line of 2000 bytes', 'webrtc sdp: line_too_long', offer(`${CREDS}a=x:${'y'.repeat(2000)}\n${OPUS}`)),
  refused('W13', 'a fingerprint of 20 bytes', 'webrtc sdp: bad_fingerprint (line 3)',
    offer(`${CREDS}a=fingerprint:sha-256 ${Array(20).fill('AB').join(':')}\n${OPUS}`)),
  refused('W14', 'a line that is not SDP', 'webrtc sdp: bad_line (line 3)', offer(`${CREDS}<html>\n${OPUS}`)),
  refused('W15', 'codecs: Opus payload_type 200', 'webrtc codecs: opus payload_type must be 96..127',
    offer(CHROMIUM, { codecs: codecs(200) })),
  refused('W16', 'codecs: Opus 109, the fragment says 111',
    'webrtc codecs: opus PT 109, the sdp says 111', offer(CHROMIUM, { codecs: codecs(109) })),
  refused('W16b', 'codecs: Opus 96, which the fragment maps to VP8', 'webrtc codecs: opus PT 96 is VP8 in the sdp',
    offer(CHROMIUM, { codecs: codecs(96) })),
  refused('W17', 'codecs: not an array', 'webrtc codecs: not an array of at most 32',
    offer(CHROMIUM, { codecs: { opus: 111 } })),
  refused('W18', 'codecs without Opus', 'webrtc codecs: no opus entry', offer(CHROMIUM, { codecs: codecs(111).slice(1) })),
  refused('W19', 'sdp a number, data an object', 'webrtc: sdp (or data) must be SDP text',
    { protocol: 'webrtc', sdp: 5, data: { mode: 'x' } }),
  refused('W20', 'an empty fragment', 'webrtc sdp: missing_ufrag', offer('')),
];
for (const c of cases) c.plane = 'gateway';

/* Last row: every 4020 above was counted once. */
let countBefore = 0;
cases.push({
  id: 'W21', plane: 'admin', what: 'webrtc_refused counts every 4020 row',
  expect: `+${cases.filter((c) => c.refused).length}`,
  run: async (ctx) => `+${(await refusedCount(ctx)) - countBefore}`,
});

runSuite({
  name: 'gw_webrtc_signal', cases, serverArgs: ['--gw-max-message', '65536'],
  setup: async (ctx) => { countBefore = await refusedCount(ctx); },
}).catch((err) => {
  console.log(`gw_webrtc_signal: FAIL ${err.stack || err}`);
  process.exit(1);
});
