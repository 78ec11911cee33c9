'use strict';
/*
 * A Galène protocol client for the browser, written here from
 * galene-protocol.md and from what Galène's static/protocol.js (version
 * 2) sends and expects: it is the client CI drives (protocol.js is not
 * published in a registry and is not committed here).
 *
 *   const c = new GaleneClient('wss://host:port/ws');
 *   await c.connect();                       // handshake {version:["2"], id}
 *   const j = await c.join(group, {token});  // or {username, password}
 *   c.request();                             // {"": ["audio"]}: the server offers down streams
 *   await c.publish(440);                    // a WebAudio sine as an up stream (our offer)
 *   await c.inbound();                       // down pcs' inbound-rtp audio stats
 *
 * As protocol.js: one RTCPeerConnection per stream; the offerer sends
 * (our up streams are sendonly offers, the server's down streams are its
 * offers, we answer); local ICE candidates are trickled with `ice`;
 * `close` from the server closes a down stream, an offer with `replace`
 * replaces one, `abort` asks us to close an up stream (we answer
 * `close`); `renegotiate` is sent when a down stream's ICE fails (and by
 * renegotiate(id)); pings are answered. Received tracks play into muted
 * <audio> elements (Chrome decodes, and counts audio energy, only then).
 * this.events records each pc's connection states with their times.
 * Injected into a page as a classic script (window.GaleneClient).
 */
(function (root) {
  function randomId() {
    const a = new Uint8Array(8);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  class GaleneClient {
    constructor(url) {
      this.url = url;
      this.id = randomId();
      this.ws = null;
      this.version = null;
      this.messages = []; /* every message from the server, in order */
      this.waiters = [];
      this.up = {};   /* id -> {pc, ctx} */
      this.down = {}; /* id -> {pc, source, username, audio} */
      this.users = {};
      this.permissions = [];
      this.username = null;
      this.closed = null;
      this.errors = [];
      this.events = [];
    }

    watch(kind, id, pc) {
      pc.onconnectionstatechange = () => this.events.push({ t: Date.now(), kind, id, state: pc.connectionState });
    }

    send(m) {
      this.ws.send(JSON.stringify(m));
    }

    /* Resolves with the first message (from `from` on) for which pred holds. */
    waitFor(pred, ms = 10000, from = 0) {
      const found = this.messages.slice(from).find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        this.waiters.push(w);
        setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`timed out waiting (closed ${JSON.stringify(this.closed)})`));
        }, ms);
      });
    }

    connect() {
      return new Promise((resolve, reject) => {
        this.ws = new WebSocket(this.url);
        this.ws.onopen = () => this.send({ type: 'handshake', version: ['2'], id: this.id });
        this.ws.onerror = () => reject(new Error('socket error'));
        this.ws.onclose = (e) => {
          this.closed = { code: e.code, reason: e.reason };
          reject(new Error(`closed ${e.code} ${e.reason}`));
        };
        this.ws.onmessage = (e) => {
          const m = JSON.parse(e.data);
          if (m.type !== 'handshake' && !this.version) {
            this.errors.push("server didn't send handshake first");
            return;
          }
          this.messages.push(m);
          if (m.type === 'handshake') {
            if (Array.isArray(m.version) && m.version.includes('2')) {
              this.version = '2';
              resolve(m);
            } else {
              reject(new Error(`unknown protocol version ${m.version}`));
            }
          }
          this.handle(m).catch((err) => this.errors.push(String(err && err.stack || err)));
          for (const w of this.waiters.slice()) {
            if (w.pred(m)) {
              this.waiters = this.waiters.filter((x) => x !== w);
              w.resolve(m);
            }
          }
        };
      });
    }

    async join(group, { token, username, password } = {}) {
      const m = { type: 'join', kind: 'join', group };
      if (username !== undefined) m.username = username;
      if (token !== undefined) m.token = token;
      if (password !== undefined) m.password = password;
      const from = this.messages.length;
      this.send(m);
      return this.waitFor((x) => x.type === 'joined' && (x.kind === 'join' || x.kind === 'fail'), 10000, from);
    }

    request(what = { '': ['audio'] }) {
      this.send({ type: 'request', request: what });
    }

    async handle(m) {
      switch (m.type) {
        case 'joined':
          if (m.kind === 'join' || m.kind === 'change') {
            this.username = m.username;
            this.permissions = m.permissions || [];
          } else {
            this.permissions = [];
          }
          break;
        case 'user':
          if (m.kind === 'delete') delete this.users[m.id];
          else this.users[m.id] = { username: m.username, permissions: m.permissions || [] };
          break;
        case 'offer': await this.gotOffer(m); break;
        case 'answer': {
          const c = this.up[m.id];
          if (c) await c.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
          break;
        }
        case 'close': this.closeDown(m.id); break;
        case 'abort': {
          const c = this.up[m.id];
          if (c) {
            c.pc.close();
            delete this.up[m.id];
            this.send({ type: 'close', id: m.id });
          }
          break;
        }
        case 'ping': this.send({ type: 'pong' }); break;
        default: break;
      }
    }

    async gotOffer(m) {
      if (m.replace) this.closeDown(m.replace); /* as protocol.js: a new pc replaces it */
      let c = this.down[m.id];
      if (!c) {
        const pc = new RTCPeerConnection();
        c = { pc, source: m.source, username: m.username, audio: null, sent: false, pending: [] };
        this.down[m.id] = c;
        this.watch('down', m.id, pc);
        pc.onicecandidate = (e) => {
          if (!e.candidate) return;
          if (c.sent) this.send({ type: 'ice', id: m.id, candidate: e.candidate });
          else c.pending.push(e.candidate);
        };
        pc.oniceconnectionstatechange = () => {
          if (pc.iceConnectionState === 'failed') this.send({ type: 'renegotiate', id: m.id });
        };
        pc.ontrack = (e) => {
          if (e.streams.length < 1) {
            this.errors.push('track with no stream');
            return;
          }
          const audio = document.createElement('audio');
          audio.autoplay = true;
          audio.srcObject = e.streams[0];
          document.body.appendChild(audio);
          c.audio = audio;
        };
      }
      try {
        await c.pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        const answer = await c.pc.createAnswer();
        await c.pc.setLocalDescription(answer);
        this.send({ type: 'answer', id: m.id, sdp: c.pc.localDescription.sdp });
        c.sent = true;
        for (const cand of c.pending.splice(0)) this.send({ type: 'ice', id: m.id, candidate: cand });
      } catch (err) {
        this.errors.push(`down ${m.id}: ${err}`);
        this.send({ type: 'abort', id: m.id });
      }
    }

    closeDown(id) {
      const c = this.down[id];
      if (!c) return;
      c.pc.close();
      if (c.audio) c.audio.remove();
      delete this.down[id];
    }

    /* An up stream carrying a sine of freq Hz; resolves when answered. */
    async publish(freq = 440, { id = randomId(), source = this.id, username = this.username } = {}) {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      osc.frequency.value = freq;
      const gain = ctx.createGain();
      gain.gain.value = 0.5;
      const dest = ctx.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      const pc = new RTCPeerConnection();
      const c = { pc, ctx, sent: false, pending: [] };
      this.up[id] = c;
      this.watch('up', id, pc);
      pc.onicecandidate = (e) => {
        if (!e.candidate) return;
        if (c.sent) this.send({ type: 'ice', id, candidate: e.candidate });
        else c.pending.push(e.candidate);
      };
      const stream = dest.stream;
      for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
      await pc.setLocalDescription(await pc.createOffer());
      const from = this.messages.length;
      this.send({ type: 'offer', id, label: 'camera', source, username, kind: '', sdp: pc.localDescription.sdp });
      c.sent = true;
      for (const cand of c.pending.splice(0)) this.send({ type: 'ice', id, candidate: cand });
      const reply = await this.waitFor((x) => (x.type === 'answer' || x.type === 'abort') && x.id === id, 10000, from);
      if (reply.type === 'abort') throw new Error('the server aborted our up stream');
      return id;
    }

    /* A new offer for up stream id (kind "renegotiate"; iceRestart: new
     * ICE credentials, as protocol.js does when its ICE fails); resolves
     * with the server's reply (answer, applied, or abort). */
    async renegotiateUp(id, { iceRestart = false } = {}) {
      const c = this.up[id];
      await c.pc.setLocalDescription(await c.pc.createOffer({ iceRestart }));
      const from = this.messages.length;
      this.send({ type: 'offer', id, label: 'camera', source: this.id, username: this.username,
                  kind: 'renegotiate', sdp: c.pc.localDescription.sdp });
      return this.waitFor((x) => (x.type === 'answer' || x.type === 'abort') && x.id === id, 10000, from);
    }

    async waitConnected(ms = 15000) {
      const end = Date.now() + ms;
      const all = () => [...Object.values(this.up), ...Object.values(this.down)];
      while (Date.now() < end) {
        if (all().length && all().every((c) => c.pc.connectionState === 'connected')) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    }

    /* inbound-rtp audio of every down stream. */
    async inbound() {
      const out = [];
      for (const [id, c] of Object.entries(this.down)) {
        const stats = await c.pc.getStats();
        stats.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio') {
            out.push({ id, source: c.source, username: c.username, ssrc: s.ssrc,
                       packetsReceived: s.packetsReceived || 0, totalAudioEnergy: s.totalAudioEnergy || 0,
                       state: c.pc.connectionState });
          }
        });
      }
      return out;
    }

    async outbound() {
      const out = [];
      for (const [id, c] of Object.entries(this.up)) {
        const stats = await c.pc.getStats();
        stats.forEach((s) => {
          if (s.type === 'outbound-rtp' && s.kind === 'audio') {
            out.push({ id, ssrc: s.ssrc, packetsSent: s.packetsSent || 0, state: c.pc.connectionState });
          }
        });
      }
      return out;
    }

    /* Asks for a new offer of down stream id (protocol.js does on ICE failure). */
    renegotiate(id) {
      this.send({ type: 'renegotiate', id });
    }

    leave(group) {
      this.send({ type: 'join', kind: 'leave', group });
    }

    close() {
      for (const id of Object.keys(this.down)) this.closeDown(id);
      for (const c of Object.values(this.up)) {
        c.pc.close();
        c.ctx.close();
      }
      this.up = {};
      if (this.ws) this.ws.close();
    }
  }

  root.GaleneClient = GaleneClient;
})(typeof window !== 'undefined' ? window : globalThis);
