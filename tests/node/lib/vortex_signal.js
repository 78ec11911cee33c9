'use strict';
/*
 * A Vortex signalling client written from the reference table
 * (shared/reference/seed-frontends.md §1; revite's VoiceClient is not
 * published): requests {id, type, data} answered by {id, type, data} or
 * {id, type, error, message}; events {type, data}. Like revite it appends
 * "\n" to every frame and ignores binary frames. Runs in Node (pass the
 * `ws` package's WebSocket and its options) and in the browser (bundled
 * into the mediasoup-client page, lib/vortex_entry.js).
 *
 *   const sig = await VortexSignal.open(url, { WebSocket, wsOptions });
 *   const auth = await sig.request('Authenticate', { token, roomId });
 *   sig.on('UserStartProduce', (d) => ...);
 *   try { await sig.request('StartConsume', {...}) } catch (e) { e.error, e.message }
 *   const { code, reason } = await sig.closed;
 */
class VortexError extends Error {
  constructor(reply) {
    super(`${reply.type}: ${reply.error}: ${reply.message}`);
    this.error = reply.error;
    this.reply = reply;
  }
}

class VortexSignal {
  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Map();
    this.events = []; /* every event, in order */
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.onclose = (ev) => {
        this.closeInfo = { code: ev.code, reason: String(ev.reason || '') };
        for (const p of this.pending.values()) p.reject(Object.assign(new Error(`closed ${ev.code} ${ev.reason}`), { close: this.closeInfo }));
        this.pending.clear();
        resolve(this.closeInfo);
      };
    });
    ws.onmessage = (ev) => this.onMessage(ev.data);
  }

  static open(url, { WebSocket = globalThis.WebSocket, wsOptions } = {}) {
    const ws = wsOptions ? new WebSocket(url, wsOptions) : new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new VortexSignal(ws));
      ws.onerror = (e) => reject(new Error(`vortex socket: ${e.message || 'error'}`));
      ws.onclose = (e) => reject(new Error(`vortex socket closed ${e.code}`));
    });
  }

  onMessage(data) {
    if (typeof data !== 'string') return; /* binary frames: ignored, as revite does */
    const m = JSON.parse(data);
    if (m.id === undefined || m.id === null) {
      this.events.push(m);
      for (const fn of this.handlers.get(m.type) || []) fn(m.data, m);
      for (const fn of this.handlers.get('*') || []) fn(m.data, m);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error) p.reject(new VortexError(m));
    else p.resolve(m.data === undefined ? null : m.data, m);
  }

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(fn);
  }

  /* Sends any text as it is (hostile tests). */
  sendRaw(text) {
    this.ws.send(text);
  }

  request(type, data) {
    const id = this.nextId++;
    const msg = data === undefined ? { id, type } : { id, type, data };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(`${JSON.stringify(msg)}\n`);
    });
  }

  close(code = 1000) {
    this.ws.close(code);
  }
}

module.exports = { VortexSignal, VortexError };
