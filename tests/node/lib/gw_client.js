'use strict';
/*
 * A bare voice-gateway WebSocket client for protocol tests: no handshake
 * logic of its own, every frame kept, frames taken (consumed) in order.
 *
 *   const g = await GwClient.open(endpoint, { ca, version: 8 });
 *   g.send(0, identifyData);           // or g.sendRaw('not json')
 *   const ready = await g.take(2);     // next op 2 not taken yet
 *   const { code } = await g.closed;   // {code, reason}
 *   g.kill();                          // drop the TCP connection, no close frame
 *
 *   heartbeats(g, hello);                    // op 3 until g.stopHeartbeat()
 *   const { g, ready } = await webGateway(srv, ca, info);  // a web client's gateway half
 */
const WebSocket = require('ws');

class GwClient {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];   // every JSON frame, in order
    this.taken = new Set();
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) w.fail();
        resolve(this.closeInfo);
      });
    });
    ws.on('error', (err) => { this.lastError = err; });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.frames.push(JSON.parse(data.toString()));
      for (const w of this.waiters.slice()) w.check();
    });
  }

  static open(endpoint, { ca, version = 8, timeoutMs = 10000 } = {}) {
    const query = version === null ? '' : `?v=${version}`;
    const ws = new WebSocket(`wss://${endpoint}/${query}`, ca ? { ca } : {});
    const g = new GwClient(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('gateway: no open')), timeoutMs);
      ws.once('open', () => { clearTimeout(timer); resolve(g); });
      ws.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
  }

  send(op, d) { this.ws.send(JSON.stringify({ op, d })); }

  sendRaw(data) { this.ws.send(data); }

  /* The first frame of op (matching pred(frame)) not taken before. */
  take(op, { pred, timeoutMs = 10000 } = {}) {
    const find = () => this.frames.findIndex((f, i) => !this.taken.has(i) && f.op === op &&
      (!pred || pred(f)));
    return new Promise((resolve, reject) => {
      const w = {
        check: () => {
          const i = find();
          if (i < 0) return false;
          this.taken.add(i);
          clearTimeout(w.timer);
          this.waiters.splice(this.waiters.indexOf(w), 1);
          resolve(this.frames[i]);
          return true;
        },
        fail: () => {
          clearTimeout(w.timer);
          reject(new Error(`gateway closed ${this.closeInfo.code} while waiting for op ${op}`));
        },
      };
      this.waiters.push(w);
      if (w.check()) return;
      if (this.closeInfo) { this.waiters.splice(this.waiters.indexOf(w), 1); w.fail(); return; }
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`gateway: no op ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /* Frames of op received so far (taken or not). */
  seen(op) { return this.frames.filter((f) => f.op === op); }

  /* Resolves {code, reason}, or null if still open after timeoutMs. */
  waitClose(timeoutMs) {
    return Promise.race([this.closed, new Promise((r) => setTimeout(() => r(null), timeoutMs))]);
  }

  close(code = 1000) { if (!this.closeInfo) this.ws.close(code); return this.closed; }

  /* Drops the TCP connection without a close frame (a network failure). */
  kill() { this.ws.terminate(); return this.closed; }
}

/* Heartbeats (op 3) at 0.8 of Hello's interval, not holding the process
 * open; g.stopHeartbeat() ends them. */
function heartbeats(g, hello) {
  const hb = setInterval(() => g.send(3, { t: Date.now(), seq_ack: -1 }),
    Math.floor(hello.d.heartbeat_interval * 0.8));
  hb.unref();
  g.stopHeartbeat = () => clearInterval(hb);
}

/* The gateway half of a Discord web client (its media is WebRTC: op 1
 * with an SDP, sent by the test): Hello, heartbeats, Identify with video
 * and one video stream, Ready. Returns { g, ready } (op 2's d). */
async function webGateway(srv, ca, info) {
  const g = await GwClient.open(srv.endpoint, { ca, version: 8 });
  heartbeats(g, await g.take(8));
  g.send(0, { server_id: info.guild_id, user_id: info.user_id, session_id: info.session_id,
              token: info.token, video: true, streams: [{ type: 'video', rid: '100', quality: 100 }] });
  const ready = await g.take(2);
  return { g, ready: ready.d };
}

module.exports = { GwClient, heartbeats, webGateway };
