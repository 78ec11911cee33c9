'use strict';
/*
 * LVSP at size (docs/LVSP.md "Limits"), against the running binary:
 *  - 3,500 voice states in 100 channels, created over one link;
 *  - a RESUME from before all of them replays every INFO (~1.5 MB, more
 *    than a send queue holds at once: the replay streams as the socket
 *    drains), then READY, and a HEARTBEAT sent right behind the RESUME is
 *    answered after READY;
 *  - a re-IDENTIFY, in each dialect, gets READY and then every INFO of the
 *    snapshot: one per channel and 3,500 voice states (before the snapshot
 *    streamed, the link was closed with 4000 "send queue full" after ~1 MiB);
 *  - over --max-voice-states, VST_CREATE and VST_REQUEST are answered with an
 *    INFO carrying error.code "voice_state_limit" and no credentials, the
 *    link stays up, a state that replaces one (same user and guild) is still
 *    created, and once a state ends a new one fits; over --max-channels,
 *    CHANNEL_REQ is answered with error.code "channel_limit";
 *  - the admin view counts the refusals.
 * Env: SC_BUILD_DIR. Prints "N passed, N failed".
 */
const fs = require('node:fs');
const path = require('node:path');
const { startServer } = require('./lib/server');
const { LvspClient, OP, INFO_TYPE, INFO_LATER } = require('./lib/lvsp_client');
const { adminState } = require('./lib/admin_client');
const { Checks, run, snowflakes } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const STATES = 3500;
const CHANNELS = 100;
const MAX_CHANNELS = CHANNELS + 1;
const c = new Checks('lvsp_limits');
const servers = [];

/* Resolves once `count(frames)` reaches n, or the link closes. */
function waitFrames(lv, n, count, timeoutMs = 60000) {
  return new Promise((resolve) => {
    const done = () => { clearInterval(t); resolve(count(lv.frames)); };
    const t = setInterval(() => {
      if (count(lv.frames) >= n || lv.closeInfo) done();
    }, 20);
    setTimeout(done, timeoutMs);
  });
}

function infosAfterReady(frames, key, type) {
  const r = frames.findIndex((m) => m.op === OP.READY);
  if (r < 0) return 0;
  return frames.slice(r + 1).filter((m) => m.op === OP.INFO && m.d.type === type && m.d[key]).length;
}

async function main() {
  const srv = await startServer({
    buildDir: build,
    logLevel: 'info',
    extraArgs: ['--max-voice-states', String(STATES), '--max-channels', String(MAX_CHANNELS),
      '--lvsp-replay', '8000'],
  });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const ids = snowflakes(STATES + CHANNELS + 10);
  const G = ids[0];
  const channels = ids.slice(1, 1 + CHANNELS);
  const users = ids.slice(1 + CHANNELS, 1 + CHANNELS + STATES);
  const [extraUser, extraChannel, extraChannel2] = ids.slice(1 + CHANNELS + STATES);

  const a = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca });
  await c.step(`create ${STATES} voice states`, async () => {
    for (let i = 0; i < STATES; i++) {
      a.info(INFO_LATER.VST_CREATE, { user_id: users[i], channel_id: channels[i % CHANNELS], guild_id: G });
    }
    const got = await waitFrames(a, STATES, (f) => f.filter((m) => m.op === OP.INFO && m.d.data &&
      m.d.data.session_id).length);
    c.ok(got === STATES && !a.closeInfo, `${got} of ${STATES} VST_CREATE answered with a session`);
  });

  await c.step('RESUME replays every INFO, then READY, then what was sent behind it', async () => {
    const r = await LvspClient.open(srv.lvspUrl, { ca });
    const start = r.frames.length;
    r.send(OP.RESUME, { token: require('./lib/lvsp_client').hmacToken(srv.secret, r.hello.nonce), seq: 0 });
    r.send(OP.HEARTBEAT, { s: 42 });
    const ack = await r.next(OP.HEARTBEAT_ACK, (d) => d.s === 42, 60000).catch((e) => e);
    const after = r.frames.slice(start);
    const readyAt = after.findIndex((m) => m.op === OP.READY);
    const ackAt = after.findIndex((m) => m.op === OP.HEARTBEAT_ACK);
    const replayed = after.slice(0, readyAt).filter((m) => m.op === OP.INFO && m.d.data && m.d.data.session_id);
    const seqs = after.slice(0, readyAt).map((m) => m.s);
    c.ok(!(ack instanceof Error) && readyAt >= 0, `RESUME got READY and the ACK (${ack instanceof Error ? ack.message : 'ok'}; close ${JSON.stringify(r.closeInfo)})`);
    c.ok(replayed.length === STATES, `${replayed.length} of ${STATES} voice-state INFOs replayed`);
    c.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), 'replayed in increasing s');
    c.ok(ackAt > readyAt, `the HEARTBEAT sent behind RESUME is answered after READY (${ackAt} > ${readyAt})`);
    await r.close();
  });

  for (const [auth, key, chType, vsType] of [['hmac', 'data', INFO_LATER.CHANNEL_ASSIGN, INFO_LATER.VST_CREATE],
    ['plain', 'info', INFO_TYPE.CHANNEL, INFO_TYPE.VST]]) {
    await c.step(`re-IDENTIFY (${auth}) gets the whole snapshot`, async () => {
      const b = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth, ca });
      const total = STATES + CHANNELS;
      await waitFrames(b, total, (f) => infosAfterReady(f, key, chType) + infosAfterReady(f, key, vsType));
      const nch = infosAfterReady(b.frames, key, chType);
      const nvs = infosAfterReady(b.frames, key, vsType);
      c.ok(nvs === STATES, `${auth}: ${nvs} of ${STATES} voice-state INFOs in the snapshot`);
      c.ok(nch === CHANNELS, `${auth}: ${nch} of ${CHANNELS} channel INFOs in the snapshot`);
      const hb = await b.heartbeat(7).catch((e) => e);
      c.ok(!(hb instanceof Error) && !b.closeInfo, `${auth}: link up after the snapshot (${JSON.stringify(b.closeInfo)})`);
      await b.close();
    });
  }

  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca });
  await c.step('over --max-voice-states: an error answer, the link stays up', async () => {
    const refused = (await lv.vstCreate({ user_id: extraUser, channel_id: channels[0], guild_id: G })).d.data;
    c.ok(refused.error && refused.error.code === 'voice_state_limit' && !refused.session_id && !refused.token,
      `VST_CREATE over the limit: ${JSON.stringify(refused)}`);
    lv.send(OP.VST_REQUEST, { user_id: extraUser, channel_id: channels[0], guild_id: G });
    const seed = (await lv.next(OP.INFO, (d) => d.type === INFO_TYPE.VST && d.info && d.info.user_id === extraUser)).d.info;
    c.ok(seed.error && seed.error.code === 'voice_state_limit' && !seed.session_id,
      `VST_REQUEST over the limit (seed): ${JSON.stringify(seed)}`);
    const hb = await lv.heartbeat(3).catch((e) => e);
    c.ok(!(hb instanceof Error) && !lv.closeInfo, 'the link is still up');
    // Replacing a state (same user, same guild) does not add one: allowed.
    const moved = (await lv.vstCreate({ user_id: users[0], channel_id: channels[1], guild_id: G })).d.data;
    c.ok(moved.session_id && !moved.error, `a state that replaces one is created at the limit: ${moved.session_id}`);
    // One ends: a new one fits.
    lv.info(INFO_LATER.VST_LEAVE, { user_id: users[1], guild_id: G });
    const fresh = (await lv.vstCreate({ user_id: extraUser, channel_id: channels[0], guild_id: G })).d.data;
    c.ok(fresh.session_id && fresh.token && !fresh.error, `after a leave, a new state fits: ${fresh.session_id}`);
  });

  await c.step('over --max-channels: an error answer', async () => {
    const ok = (await lv.channelReq({ channel_id: extraChannel, guild_id: G })).d.data;
    c.ok(ok.token && !ok.error, `channel ${MAX_CHANNELS} of ${MAX_CHANNELS} assigned`);
    const no = (await lv.channelReq({ channel_id: extraChannel2, guild_id: G })).d.data;
    c.ok(no.error && no.error.code === 'channel_limit' && !no.token, `CHANNEL_REQ over the limit: ${JSON.stringify(no)}`);
    const hb = await lv.heartbeat(4).catch((e) => e);
    c.ok(!(hb instanceof Error) && !lv.closeInfo, 'the link is still up');
  });

  const st = await adminState(srv.adminUrl, srv.adminToken());
  const counts = st.frontends && st.frontends.lvsp && st.frontends.lvsp.counts;
  c.ok(counts && counts.refused_voice_states === 2 && counts.refused_channels === 1,
    `admin view counts the refusals: ${JSON.stringify(counts)}`);
  const log = fs.readFileSync(srv.logPath, 'utf8');
  c.ok(/refused \d+ request\(s\) from Litecord/.test(log), 'the refusal is logged');
  await lv.close();
  await a.close();
}

run('lvsp_limits', 300000, main, { checks: () => c, servers: () => servers });
