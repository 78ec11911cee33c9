'use strict';
/*
 * Fault: Litecord's LVSP connection dies in the middle of a call without
 * a close handshake (the TCP socket is destroyed, as when Litecord crashes
 * or the network drops it). Voice must go on: the clients already in the
 * call keep hearing each other, on the same connections, for the whole
 * observation window; a new LVSP connection then authenticates, sees the
 * server healthy, and still controls the existing voice states (ending one
 * closes that client's gateway socket with 4014).
 *
 * (Resuming the LVSP session with its replay is tested with the LVSP
 * front end; this is the plain kill.)
 */
const fs = require('node:fs');
const path = require('node:path');
const { startServer, sleep } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { MediaClient } = require('./lib/media_client');
const { Checks, run } = require('./lib/checks');
const { snowflake } = require('./lib/ids');

const TIMEOUT_MS = 120000;
const WINDOW_MS = 4000;
const MIN_RATIO = 0.9;

const c = new Checks('lvsp_kill');
const check = (ok, what) => c.ok(ok, what);
const buildDir = process.env.SC_BUILD_DIR ||
  path.join(process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..'), 'build');

/* Both clients talk at 50 packets/s for ms; returns per-direction counts. */
async function talk(a, b, ms) {
  const got = { a: 0, b: 0 };
  const onA = () => got.a++;
  const onB = () => got.b++;
  a.on('audio', onA);
  b.on('audio', onB);
  let sent = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    a.sendOpus(Buffer.from('from-a'));
    b.sendOpus(Buffer.from('from-b'));
    sent++;
    await sleep(20);
  }
  await sleep(300);
  a.off('audio', onA);
  b.off('audio', onB);
  return { sent, toA: got.a, toB: got.b };
}

async function scenario() {
  const srv = await startServer({ buildDir, logLevel: 'info' });
  const ca = fs.readFileSync(srv.certPath);
  try {
    const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
    const where = { guild_id: snowflake(), channel_id: snowflake() };
    const infos = [];
    for (let i = 0; i < 2; i++) {
      infos.push({ ...(await lvsp.requestVoiceState({ user_id: snowflake(), ...where })), guild_id: where.guild_id });
    }
    const [a, b] = [await MediaClient.join(infos[0], { ca }), await MediaClient.join(infos[1], { ca })];
    const before = await talk(a, b, 1000);
    check(before.toB >= MIN_RATIO * before.sent, `voice flows before the kill (${before.toB}/${before.sent})`);

    lvsp.ws._socket.destroy(); // no close frame, no FIN handshake to speak of
    await lvsp.closed;
    const during = await talk(a, b, WINDOW_MS);
    check(during.toB >= MIN_RATIO * during.sent && during.toA >= MIN_RATIO * during.sent,
      `voice goes on for ${WINDOW_MS} ms after the LVSP link died (A->B ${during.toB}/${during.sent}, B->A ${during.toA}/${during.sent})`);
    check(!a.vc.closeInfo && !b.vc.closeInfo, 'the voice clients\' gateway connections stayed open');
    check(!srv.diedUnexpectedly(), 'the server is still running');

    const again = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca, auth: 'hmac' });
    const ack = await again.heartbeat(1);
    check(ack.s === 1 && ack.health > 0, `a new LVSP link authenticates and sees health ${ack.health}`);
    again.endVoiceState({ user_id: infos[1].user_id, session_id: infos[1].session_id });
    const closedB = await Promise.race([new Promise((r) => b.vc.ws.once('close', (code) => r(code))), sleep(5000).then(() => null)]);
    check(closedB === 4014, `the new link still controls the old voice states (B closed with ${closedB})`);
    await a.close();
    await again.close();
  } finally {
    const e = await srv.stop();
    check(e.code === 0, `exit status 0 (${JSON.stringify(e)})`);
    check(srv.sanitizerReports.length === 0, 'no sanitizer report');
    if (c.failures.length) console.log(srv.tail(40));
    else srv.removeStateDir();
  }
}

run('fault_lvsp_kill', TIMEOUT_MS, scenario, { checks: () => c });
