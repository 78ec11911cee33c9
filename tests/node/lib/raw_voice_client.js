'use strict';
/*
 * Minimal raw voice-gateway client (ws + dgram), no djs: Identify ->
 * Ready -> UDP IP discovery -> Select Protocol -> Session Description.
 * Used for measurements and for tests that need exact control over what
 * is sent. It stops at op 4: no media, no heartbeats (a join is quick).
 *
 *   const vc = await rawJoin(info, { ca, mode });
 *   // vc.ready (op 2 d), vc.session (op 4 d), vc.discovered {ip, port},
 *   // vc.times {open, hello, ready, discovery, op4} (ms, performance.now())
 *   await vc.close();
 */
const dgram = require('node:dgram');
const WebSocket = require('ws');

const DISCOVERY_LEN = 74;

/* 74-byte IP discovery request for ssrc. */
function discoveryRequest(ssrc) {
  const b = Buffer.alloc(DISCOVERY_LEN);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(70, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  return b;
}

/* Parses a discovery response; null if msg is not one for ssrc. */
function parseDiscoveryResponse(msg, ssrc) {
  if (msg.length !== DISCOVERY_LEN || msg.readUInt16BE(0) !== 2 || msg.readUInt32BE(4) !== ssrc >>> 0) {
    return null;
  }
  const end = msg.indexOf(0, 8);
  const ip = msg.subarray(8, end < 0 || end > 72 ? 72 : end).toString('ascii');
  return { ip, port: msg.readUInt16BE(DISCOVERY_LEN - 2) };
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`raw voice client: no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

class RawVoiceClient {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.waiters = [];
    this.times = {};
    this.udp = null;
    this.closeInfo = null;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(data.toString());
      this.frames.push(m);
      const i = this.waiters.findIndex((w) => w.op === m.op);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
    ws.on('error', (err) => { this.lastError = err; });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) {
        w.reject(new Error(`voice gateway closed ${code} ${reason} while waiting for op ${w.op}`));
      }
    });
  }

  /* First frame of opcode op (already received or future). */
  next(op, timeoutMs = 10000) {
    const seen = this.frames.find((m) => m.op === op);
    if (seen) return Promise.resolve(seen);
    if (this.closeInfo) return Promise.reject(new Error(`voice gateway closed ${this.closeInfo.code}`));
    return withTimeout(new Promise((resolve, reject) => this.waiters.push({ op, resolve, reject })),
      timeoutMs, `op ${op}`);
  }

  send(op, d) {
    this.ws.send(JSON.stringify({ op, d }));
  }

  async discover(ip, port, ssrc, timeoutMs) {
    this.udp = dgram.createSocket('udp4');
    const reply = new Promise((resolve) => {
      this.udp.on('message', (msg) => {
        const r = parseDiscoveryResponse(msg, ssrc);
        if (r) resolve(r);
      });
    });
    this.udp.send(discoveryRequest(ssrc), port, ip);
    return withTimeout(reply, timeoutMs, 'IP discovery reply');
  }

  async close(code = 1000) {
    if (this.udp) this.udp.close();
    if (this.closeInfo) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    this.ws.close(code);
    const timer = setTimeout(() => this.ws.terminate(), 2000);
    await closed;
    clearTimeout(timer);
  }
}

/*
 * Joins with a VoiceInfo (user_id, guild_id, session_id, token, endpoint).
 * options: ca (PEM), mode (default: the server's first offer), version
 * (gateway ?v=, default 8), timeoutMs per step, via ({ip, port}: send IP
 * discovery there instead of to Ready's address, e.g. a UDP proxy),
 * discover (default true; false: no UDP is sent at all), select
 * ({address, port}: named in Select Protocol instead of what discovery
 * returned; hostile tests name broadcast or multicast addresses).
 */
async function rawJoin(info, {
  ca, mode, version = 8, timeoutMs = 10000, via, discover = true, select,
} = {}) {
  const ws = new WebSocket(`wss://${info.endpoint}/?v=${version}`, ca ? { ca } : {});
  const vc = new RawVoiceClient(ws);
  const now = () => performance.now();
  try {
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }), timeoutMs, 'WebSocket open');
    vc.times.open = now();
    vc.send(0, {
      server_id: info.guild_id, user_id: info.user_id, session_id: info.session_id,
      token: info.token, max_dave_protocol_version: 0,
    });
    vc.next(8, timeoutMs).then(() => { vc.times.hello = now(); }, () => {});
    vc.ready = (await vc.next(2, timeoutMs)).d;
    vc.times.ready = now();
    const media = via || { ip: vc.ready.ip, port: vc.ready.port };
    if (discover) {
      vc.discovered = await vc.discover(media.ip, media.port, vc.ready.ssrc, timeoutMs);
    } else {
      vc.udp = dgram.createSocket('udp4');
      vc.discovered = null;
    }
    vc.times.discovery = now();
    vc.mode = mode || vc.ready.modes[0];
    const named = select || { address: vc.discovered.ip, port: vc.discovered.port };
    vc.send(1, { protocol: 'udp', data: { address: named.address, port: named.port, mode: vc.mode } });
    vc.session = (await vc.next(4, timeoutMs)).d;
    vc.times.op4 = now();
    return vc;
  } catch (err) {
    await vc.close().catch(() => {});
    throw err;
  }
}

module.exports = { rawJoin, RawVoiceClient, discoveryRequest, parseDiscoveryResponse };
