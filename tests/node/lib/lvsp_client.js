'use strict';
/*
 * LVSP stand-in: the Litecord side of the control link, as a WebSocket
 * client. Speaks the seed dialect (INFO bodies carry "info"; voice states
 * are created with VST_REQUEST) and the later one (INFO bodies carry
 * "data": CHANNEL_REQ, VST_CREATE, ...), and can authenticate either with
 * the plain secret (seed) or with the HMAC of the HELLO nonce (later).
 * It tracks the server's frame sequence numbers ("s") for RESUME.
 *
 * Frames the server sends are kept in an inbox until a waiter consumes
 * them, so a reply that arrives before next() is called is not lost.
 *
 *   const c = await LvspClient.connect(url, { secret, auth: 'hmac', ca });
 *   const info = await c.requestVoiceState({ user_id, channel_id, guild_id });
 *   await c.heartbeat(1);
 *   c.endVoiceState({ user_id, session_id });
 *   await c.close();
 *
 *   const r = await LvspClient.open(url, { ca });       // HELLO only
 *   const { replayed } = await r.resume({ secret, auth, seq: c.maxSeq });
 *   const assign = await r.channelReq({ channel_id, guild_id });
 *   const vst = await r.vstCreate({ user_id, channel_id, guild_id });
 */
const crypto = require('node:crypto');
const { EventEmitter } = require('node:events');
const WebSocket = require('ws');

const OP = Object.freeze({
  HELLO: 0,
  IDENTIFY: 1,
  RESUME: 2,
  READY: 3,
  HEARTBEAT: 4,
  HEARTBEAT_ACK: 5,
  INFO: 6,
  VST_REQUEST: 7,
});

const INFO_TYPE = Object.freeze({ CHANNEL: 0, VST: 1 });

/* The later dialect's InfoType (Litecord's client code numbering). */
const INFO_LATER = Object.freeze({
  CHANNEL_REQ: 0,
  CHANNEL_ASSIGN: 1,
  CHANNEL_UPDATE: 2,
  CHANNEL_DESTROY: 3,
  VST_CREATE: 4,
  VST_UPDATE: 5,
  VST_LEAVE: 6,
});

const CLOSE = Object.freeze({ GENERAL: 4000, AUTH: 4001, BAD_JSON: 4002 });

/* Pure framing helpers, exported for reuse (and for malformed-input tests). */
function encodeFrame(op, d) {
  return JSON.stringify({ op, d });
}

function decodeFrame(text) {
  const msg = JSON.parse(text);
  if (msg === null || typeof msg !== 'object' || !Number.isInteger(msg.op)) {
    throw new Error(`LVSP frame without integer op: ${text}`);
  }
  if (msg.d === null || typeof msg.d !== 'object') {
    throw new Error(`LVSP frame op ${msg.op} without object d: ${text}`);
  }
  return msg;
}

/* IDENTIFY token of Litecord's revision: hex HMAC-SHA256(secret, nonce). */
function hmacToken(secret, nonce) {
  return crypto.createHmac('sha256', secret).update(nonce).digest('hex');
}

function identifyToken(auth, secret, hello) {
  if (auth === 'plain') return secret;
  if (auth === 'hmac') {
    if (typeof hello.nonce !== 'string') {
      throw new Error(`HELLO has no string nonce for HMAC auth: ${JSON.stringify(hello)}`);
    }
    return hmacToken(secret, hello.nonce);
  }
  throw new Error(`unknown auth kind ${auth}`);
}

class LvspClient extends EventEmitter {
  constructor(ws, { log } = {}) {
    super();
    this.ws = ws;
    this.log = log || (() => {});
    this.inbox = [];
    this.waiters = [];
    this.hello = null;
    this.ready = null;
    this.closeInfo = null;
    this.frames = []; // every frame received, in order
    this.maxSeq = 0; // highest "s" seen, HELLO excluded (what RESUME sends)
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.log(`closed ${code} ${this.closeInfo.reason}`);
        for (const w of this.waiters.splice(0)) w.reject(this.closedError(w.what));
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('error', (err) => this.log(`socket error: ${err.message}`));
  }

  /*
   * Opens the link and runs HELLO -> IDENTIFY -> READY. options: secret,
   * auth ('hmac' | 'plain'), ca (PEM, optional), timeoutMs, log(line).
   */
  static async connect(url, options) {
    const client = await LvspClient.open(url, options);
    await client.identify(options);
    return client;
  }

  /* Opens the link and waits for HELLO. options: ca, timeoutMs, log. */
  static async open(url, { ca, timeoutMs = 10000, log } = {}) {
    const ws = new WebSocket(url, ca ? { ca } : {});
    const client = new LvspClient(ws, { log });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      client.closed.then((c) => reject(new Error(`LVSP closed before open: ${c.code}`)));
    });
    client.hello = (await client.next(OP.HELLO, null, timeoutMs)).d;
    return client;
  }

  /* IDENTIFY -> READY; resolves with READY's d. */
  async identify({ secret, auth = 'hmac', timeoutMs = 10000 }) {
    this.send(OP.IDENTIFY, { token: identifyToken(auth, secret, this.hello) });
    this.ready = (await this.next(OP.READY, null, timeoutMs)).d;
    return this.ready;
  }

  /* RESUME {token, seq}; resolves with { replayed: [frames before READY],
   * ready } or rejects when the server closes (stale seq: 4000). */
  async resume({ secret, auth = 'hmac', seq, timeoutMs = 10000 }) {
    const start = this.frames.length;
    this.send(OP.RESUME, { token: identifyToken(auth, secret, this.hello), seq });
    this.ready = (await this.next(OP.READY, null, timeoutMs)).d;
    const replayed = this.frames.slice(start).filter((m) => m.op !== OP.READY);
    for (const m of replayed) {
      const i = this.inbox.indexOf(m);
      if (i >= 0) this.inbox.splice(i, 1);
    }
    return { replayed, ready: this.ready };
  }

  onMessage(data, isBinary) {
    const text = data.toString();
    this.log(`<< ${text}`);
    let msg;
    try {
      if (isBinary) throw new Error('binary frame on LVSP');
      msg = decodeFrame(text);
    } catch (err) {
      this.emit('protocolError', err);
      return;
    }
    this.frames.push(msg);
    if (msg.op !== OP.HELLO && Number.isInteger(msg.s)) this.maxSeq = Math.max(this.maxSeq, msg.s);
    this.emit('frame', msg);
    const i = this.waiters.findIndex((w) => w.match(msg));
    if (i < 0) {
      this.inbox.push(msg);
      return;
    }
    const [w] = this.waiters.splice(i, 1);
    w.resolve(msg);
  }

  closedError(what) {
    const c = this.closeInfo;
    return new Error(`LVSP closed (${c.code} ${c.reason}) while waiting for ${what}`);
  }

  send(op, d) {
    const text = encodeFrame(op, d);
    this.log(`>> ${text}`);
    this.ws.send(text);
  }

  /* Resolves with the first frame of opcode op for which pred(d) holds. */
  next(op, pred, timeoutMs = 10000) {
    const match = (m) => m.op === op && (!pred || pred(m.d));
    const what = `op ${op}`;
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    if (this.closeInfo) return Promise.reject(this.closedError(what));
    return new Promise((resolve, reject) => {
      const w = { match, what, resolve: null, reject: null };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`LVSP: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      w.resolve = (m) => { clearTimeout(timer); resolve(m); };
      w.reject = (e) => { clearTimeout(timer); reject(e); };
      this.waiters.push(w);
    });
  }

  /* HEARTBEAT {s} -> HEARTBEAT_ACK {s, health}; resolves with the ACK's d. */
  async heartbeat(s, timeoutMs = 5000) {
    this.send(OP.HEARTBEAT, { s });
    return (await this.next(OP.HEARTBEAT_ACK, (d) => d.s === s, timeoutMs)).d;
  }

  /* VST_REQUEST -> INFO type VST; resolves with the VoiceInfo. */
  async requestVoiceState({ user_id, channel_id, guild_id }, timeoutMs = 10000) {
    this.send(OP.VST_REQUEST, { user_id, channel_id, guild_id });
    const reply = await this.next(
      OP.INFO,
      (d) => d.type === INFO_TYPE.VST && d.info && d.info.user_id === user_id &&
        d.info.channel_id === channel_id,
      timeoutMs,
    );
    return reply.d.info;
  }

  /* INFO type VST with the given VoiceInfo (mute, deaf, ...). */
  sendVoiceState(info) {
    this.send(OP.INFO, { type: INFO_TYPE.VST, info });
  }

  /* Seed dialect: a VST with channel_id null ends the voice state. */
  endVoiceState({ user_id, session_id }) {
    this.sendVoiceState({ user_id, channel_id: null, session_id });
  }

  /* Later dialect: INFO {type, data}. */
  info(type, data) {
    this.send(OP.INFO, { type, data });
  }

  /* CHANNEL_REQ -> CHANNEL_ASSIGN; resolves with the assign frame. */
  async channelReq(data, timeoutMs = 10000) {
    this.info(INFO_LATER.CHANNEL_REQ, data);
    return this.next(OP.INFO, (d) => d.type === INFO_LATER.CHANNEL_ASSIGN && d.data &&
      d.data.channel_id === String(data.channel_id), timeoutMs);
  }

  /* VST_CREATE (or a VST_UPDATE that moves) -> the VST_CREATE-shaped
   * reply; resolves with the frame. */
  async vstCreate(data, timeoutMs = 10000, type = INFO_LATER.VST_CREATE) {
    this.info(type, data);
    return this.next(OP.INFO, (d) => d.type === INFO_LATER.VST_CREATE && d.data &&
      d.data.user_id === String(data.user_id) && d.data.channel_id === String(data.channel_id),
    timeoutMs);
  }

  /* Drops the TCP connection without a close frame (a crash, a cut cable). */
  kill() {
    this.ws.terminate();
  }

  /* Stops reading the socket: what the server sends from now on is never
   * seen by this client (it stays in kernel buffers until kill()). */
  pauseReading() {
    this.ws._socket.pause();
  }

  async close(code = 1000) {
    if (!this.closeInfo) this.ws.close(code);
    const timer = setTimeout(() => this.ws.terminate(), 2000);
    await this.closed;
    clearTimeout(timer);
  }
}

module.exports = {
  OP, INFO_TYPE, INFO_LATER, CLOSE, encodeFrame, decodeFrame, hmacToken, LvspClient,
};
