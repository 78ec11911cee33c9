'use strict';
/*
 * Looking at DAVE (E2EE) calls from the side of real @discordjs/voice
 * 0.19.2 + @snazzah/davey 0.1.12 clients, for the tests that judge the
 * server only by what those clients (and /state) end up with.
 * Runs in the child process that holds the djs connections (see
 * lib/child_run.js); nothing here changes a client's state.
 *
 *   const A = await joinPeer(djs, 'A', voiceInfo, peers);  // Ready, in peers
 *   const g = await converge([A, B], 15000);   // {epoch, code, ms}, or throws
 *   const d = await daveAdmin(cfg);            // /state's DAVE section
 */
const { sleep } = require('./checks');

/* djs's DAVE session holder of a connection (undefined before networking). */
function daveOf(conn) {
  const nw = conn.state && conn.state.networking;
  return nw && nw.state ? nw.state.dave : undefined;
}

/* What a peer's client believes: protocol version, davey status, epoch
 * (as a string: davey gives a bigint), privacy code. */
function daveView(peer) {
  const d = daveOf(peer.conn);
  const s = d && d.session;
  return {
    version: d ? d.protocolVersion : undefined,
    status: s ? s.status : undefined,
    ready: s ? s.ready : undefined,
    epoch: s && s.epoch !== undefined && s.epoch !== null ? String(s.epoch) : undefined,
    code: peer.conn.voicePrivacyCode,
  };
}

/* Resolves when every peer is at protocol 1, active, in one epoch other
 * than `notEpoch`, with one privacy code; else throws after timeoutMs. */
async function converge(peers, timeoutMs, notEpoch) {
  const t0 = Date.now();
  let views;
  while (Date.now() - t0 < timeoutMs) {
    views = peers.map(daveView);
    const v0 = views[0];
    if (views.every((v) => v.version === 1 && v.status === 3 && v.ready && v.epoch === v0.epoch &&
        v.epoch !== notEpoch && v.code && v.code === v0.code)) {
      return { epoch: v0.epoch, code: v0.code, ms: Date.now() - t0 };
    }
    await sleep(50);
  }
  throw new Error(`no common DAVE epoch after ${timeoutMs} ms: ${JSON.stringify(views)}`);
}

/* A djs client `name` joins with `info` (its debug group unique per name),
 * is added to `peers` (so the harness destroys it and keeps its log) and
 * reaches Ready within 15 s. */
async function joinPeer(djs, name, info, peers) {
  const peer = { name, info, ...djs.join(info, { group: `dave-${name}` }) };
  peers.push(peer);
  await djs.voice.entersState(peer.conn, djs.voice.VoiceConnectionStatus.Ready, 15000);
  return peer;
}

/* The DAVE section of /state (frontends."discord voice gateway"): the
 * counters and, under channels, each channel's view. */
async function daveAdmin(cfg) {
  const { adminState } = require('./admin_client');
  const st = await adminState(cfg.adminUrl, cfg.adminToken);
  return st.frontends['discord voice gateway'].dave;
}

module.exports = { daveOf, daveView, converge, joinPeer, daveAdmin };
