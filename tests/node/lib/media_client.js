'use strict';
/*
 * A voice client that talks media without djs: joins with rawJoin
 * (Identify, IP discovery, Select Protocol), then sends and receives RTP
 * sealed in the negotiated rtpsize mode (Node's crypto for AES-256-GCM,
 * @noble/ciphers for XChaCha20-Poly1305), and keeps the gateway alive with
 * heartbeats. Tests use it where they need byte-level control of what is
 * sent (forgeries, replays, foreign sources) or many light clients (soak).
 *
 *   const mc = await MediaClient.join(info, { ca });
 *   mc.on('audio', ({ ssrc, seq, payload }) => ...);
 *   mc.sendOpus(Buffer.from('...'));           // next seq/timestamp/nonce
 *   const pkt = mc.seal(header, payload, ctr);  // a packet, not sent
 *   const old = await mc.switchSocket();        // a NAT rebinding: new port
 *   await mc.close();
 *
 * Wire format (rtpsize): clear RTP header (AAD) || AEAD(payload) ||
 * tag16 || u32be counter; the nonce is the counter followed by zeros.
 */
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const { EventEmitter } = require('node:events');
const path = require('node:path');
const { rawJoin } = require('./raw_voice_client');

const { xchacha20poly1305 } = require(path.join(__dirname, '..', 'node_modules', '@noble',
  'ciphers', 'chacha'));

const MODE_AES = 'aead_aes256_gcm_rtpsize';
const MODE_XCHACHA = 'aead_xchacha20_poly1305_rtpsize';
const OPUS_PT = 0x78;

function nonceFor(mode, ctr) {
  const n = Buffer.alloc(mode === MODE_AES ? 12 : 24);
  n.writeUInt32BE(ctr >>> 0, 0);
  return n;
}

/* clear || ciphertext || tag || counter. */
function sealRtpsize(mode, key, clear, payload, ctr) {
  let body;
  if (mode === MODE_AES) {
    const c = crypto.createCipheriv('aes-256-gcm', key, nonceFor(mode, ctr), { authTagLength: 16 });
    c.setAAD(clear);
    body = Buffer.concat([c.update(payload), c.final(), c.getAuthTag()]);
  } else if (mode === MODE_XCHACHA) {
    body = Buffer.from(xchacha20poly1305(key, nonceFor(mode, ctr), clear).encrypt(payload));
  } else {
    throw new Error(`media_client: mode ${mode} not implemented`);
  }
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(ctr >>> 0);
  return Buffer.concat([clear, body, tail]);
}

/* Clear header length of an rtpsize packet (RTP with CSRCs/extension
 * preamble, or RTCP); -1 if it cannot be one. */
function clearLength(pkt) {
  if (pkt.length < 8 || pkt[0] >> 6 !== 2) return -1;
  if (pkt[1] >= 200 && pkt[1] <= 204) return 8;
  let n = 12 + 4 * (pkt[0] & 0x0f);
  if (pkt[0] & 0x10) n += 4;
  return pkt.length >= n ? n : -1;
}

/* Returns the plaintext (extension body included) or null. */
function openRtpsize(mode, key, pkt) {
  const clear = clearLength(pkt);
  if (clear < 0 || pkt.length < clear + 20) return null;
  const ctr = pkt.readUInt32BE(pkt.length - 4);
  const ct = pkt.subarray(clear, pkt.length - 20);
  const tag = pkt.subarray(pkt.length - 20, pkt.length - 4);
  try {
    if (mode === MODE_AES) {
      const d = crypto.createDecipheriv('aes-256-gcm', key, nonceFor(mode, ctr), { authTagLength: 16 });
      d.setAAD(pkt.subarray(0, clear));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(ct), d.final()]);
    }
    return Buffer.from(xchacha20poly1305(key, nonceFor(mode, ctr), pkt.subarray(0, clear))
      .decrypt(Buffer.concat([ct, tag])));
  } catch {
    return null;
  }
}

function rtpHeader({ pt = OPUS_PT, seq, ts, ssrc }) {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return h;
}

class MediaClient extends EventEmitter {
  constructor(vc) {
    super();
    this.vc = vc;
    this.ssrc = vc.ready.ssrc;
    this.server = vc.via || { ip: vc.ready.ip, port: vc.ready.port };
    this.mode = vc.session.mode;
    this.key = Buffer.from(vc.session.secret_key);
    this.seq = crypto.randomInt(0, 65536);
    this.ts = crypto.randomInt(0, 2 ** 31);
    this.ctr = 0;
    this.stats = { sent: 0, received: 0, verified: 0, undecryptable: 0, other: 0 };
    this.hbTimer = null;
    this.verifyEvery = 1;
    this.skipped = 0;
    this.lastSeq = -1; // v8: the last numbered message, acknowledged in heartbeats
    vc.udp.on('message', (msg) => this.onDatagram(msg));
    vc.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const seq = /"seq":(\d+)/.exec(data.toString());
      if (seq) this.lastSeq = Number(seq[1]);
    });
  }

  /* Joins with a VoiceInfo; options as rawJoin (ca, mode, version, via). */
  static async join(info, options = {}) {
    const vc = await rawJoin(info, options);
    vc.via = options.via; // media goes where discovery went
    const mc = new MediaClient(vc);
    const hello = vc.frames.find((f) => f.op === 8);
    mc.startHeartbeat(hello && hello.d ? hello.d.heartbeat_interval : 41250);
    return mc;
  }

  onDatagram(msg) {
    if (msg.length < 12 + 20 || msg[0] >> 6 !== 2) {
      this.stats.other++;
      return;
    }
    // Load tests verify one packet in verifyEvery and only count the rest.
    if (this.verifyEvery > 1 && ++this.skipped % this.verifyEvery !== 0) {
      this.stats.received++;
      return;
    }
    const plain = openRtpsize(this.mode, this.key, msg);
    if (!plain) {
      this.stats.undecryptable++;
      return;
    }
    this.stats.received++;
    this.stats.verified++;
    this.emit('audio', { ssrc: msg.readUInt32BE(8), seq: msg.readUInt16BE(2), pt: msg[1] & 0x7f, payload: plain, at: Date.now() });
  }

  /* Seals header+payload under this client's key with counter ctr. */
  seal(header, payload, ctr) {
    return sealRtpsize(this.mode, this.key, header, payload, ctr);
  }

  /* The next packet this client would send, without sending it. */
  nextPacket(payload) {
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 960) >>> 0;
    this.ctr = (this.ctr + 1) >>> 0;
    return this.seal(rtpHeader({ seq: this.seq, ts: this.ts, ssrc: this.ssrc }), payload, this.ctr);
  }

  /* Sends from a fresh UDP socket from now on (what a NAT rebinding looks
   * like to the server); returns the old socket, still open, for the
   * caller to watch or close. */
  async switchSocket() {
    const old = this.vc.udp;
    const s = dgram.createSocket('udp4');
    await new Promise((resolve) => s.bind(0, resolve));
    s.on('message', (msg) => this.onDatagram(msg));
    old.removeAllListeners('message');
    this.vc.udp = s;
    return old;
  }

  sendRaw(buf) {
    this.vc.udp.send(buf, this.server.port, this.server.ip);
  }

  sendOpus(payload) {
    this.sendRaw(this.nextPacket(payload));
    this.stats.sent++;
  }

  speaking(on) {
    this.vc.send(5, { speaking: on ? 1 : 0, delay: 0, ssrc: this.ssrc });
  }

  startHeartbeat(intervalMs) {
    const beat = () => {
      if (this.vc.closeInfo) return;
      // The ack lets the server trim this session's resume buffer.
      this.vc.send(3, { t: Date.now(), seq_ack: this.lastSeq });
      // A long-lived client keeps only recent frames (next() looks there).
      if (this.vc.frames.length > 64) this.vc.frames.splice(0, this.vc.frames.length - 64);
    };
    this.hbTimer = setInterval(beat, Math.max(1000, Math.floor(intervalMs * 0.8)));
    this.hbTimer.unref();
  }

  async close(code = 1000) {
    clearInterval(this.hbTimer);
    await this.vc.close(code);
  }
}

module.exports = {
  MediaClient, sealRtpsize, openRtpsize, rtpHeader, clearLength, MODE_AES, MODE_XCHACHA, OPUS_PT,
};
