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
 *   const r = await RawMember.open(cfg, vi);   // a bare gateway member (hostile
 *   follow(r, r.session(es));                  // tests), playing along with davey
 */
const fs = require('node:fs');
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

/* A bare gateway member: identifies with DAVE, keeps binary frames
 * (S->C: u16 seq | u8 op | payload). */
class RawMember {
  static async open(cfg, vi) {
    const { GwClient } = require('./gw_client');
    const r = new RawMember();
    r.vi = vi;
    r.bins = [];
    r.onBin = null;
    r.g = await GwClient.open(vi.endpoint, { ca: fs.readFileSync(cfg.ca), version: 8 });
    r.g.ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      const f = { op: data[2], payload: Buffer.from(data.subarray(3)) };
      r.bins.push(f);
      if (r.onBin) r.onBin(f);
    });
    r.g.send(0, { server_id: vi.guild_id, user_id: vi.user_id, session_id: vi.session_id,
      token: vi.token, max_dave_protocol_version: 1 });
    await r.g.take(2);
    return r;
  }

  async select() {
    this.g.send(1, { protocol: 'udp', data: { address: '127.0.0.1', port: 9, mode: 'aead_aes256_gcm_rtpsize' } });
    return (await this.g.take(4)).d.dave_protocol_version;
  }

  async bin(op, timeoutMs = 5000) {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const i = this.bins.findIndex((f) => f.op === op);
      if (i >= 0) return this.bins.splice(i, 1)[0].payload;
      await sleep(20);
    }
    throw new Error(`${this.vi.user_id}: no binary op ${op} in ${timeoutMs} ms`);
  }

  /* A davey session of `user` (default: its own) under the call's op 25. */
  session(es, user = this.vi.user_id) {
    const { DAVESession } = require('@snazzah/davey');
    const s = new DAVESession(1, user, this.vi.channel_id);
    s.setExternalSender(es);
    return s;
  }

  send(op, payload) { this.g.sendRaw(Buffer.concat([Buffer.from([op]), payload])); }
}

/* A raw member that plays along with davey: applies welcomes and commits
 * and says ready (op 23); `attack(op27)` may answer proposals instead. */
function follow(r, sess, attack) {
  r.onBin = (f) => {
    try {
      if (f.op === 27 && attack) attack(f.payload);
      if (f.op === 29 || f.op === 30) {
        const tid = f.payload.readUInt16BE(0);
        if (f.op === 30) sess.processWelcome(f.payload.subarray(2));
        else sess.processCommit(f.payload.subarray(2));
        r.g.send(23, { transition_id: tid });
      }
    } catch (err) {
      r.error = String(err.message || err);
    }
  };
}

module.exports = { daveOf, daveView, converge, joinPeer, daveAdmin, RawMember, follow };
