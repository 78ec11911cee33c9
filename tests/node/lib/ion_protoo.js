'use strict';
/*
 * protoo-client 4.0.8 (the real library ion-sdk-js 0.4.x is built on)
 * against the ion front end, in Node: a Peer over the server's
 * self-signed wss, with every notification recorded in order.
 *
 *   const p = await openPeer(ionUrl(srv, { token, peer }), ca);
 *   const data = await p.peer.request('join', { rid, uid });
 *   const n = await p.waitNote('stream-add', (d) => d.uid === x);
 *   p.events  // ['response join', 'notification peer-join', ...] in arrival order
 *   await p.closed  // resolves once protoo gave up for good ('close')
 *   p.close()
 *   chromeLikeOffer('recvonly')  // an SDP offer for publish/subscribe signalling
 */
const crypto = require('node:crypto');
const protoo = require('protoo-client');

const { HOST, sleep } = require('./server');

function ionUrl(srv, query = {}) {
  const q = new URLSearchParams(query).toString();
  return `wss://${HOST}:${srv.ports.ion}/ws${q ? `?${q}` : ''}`;
}

/* Resolves once the peer is open; rejects if it closes or fails first.
 * retry: protoo's reconnect attempts are off unless asked for. */
function openPeer(url, ca, { retries = 0 } = {}) {
  const transport = new protoo.WebSocketTransport(url, {
    retry: { retries, factor: 1, minTimeout: 200, maxTimeout: 200 },
    clientConfig: { tlsOptions: { ca } },
  });
  const peer = new protoo.Peer(transport);
  const p = { peer, notes: [], events: [], closeEvent: null };
  peer.on('notification', (n) => {
    p.notes.push(n);
    p.events.push(`notification ${n.method}`);
  });
  const request = peer.request.bind(peer);
  peer.request = async (method, data) => {
    try {
      const r = await request(method, data);
      p.events.push(`response ${method}`);
      return r;
    } catch (err) {
      p.events.push(`error ${method}`);
      throw err;
    }
  };
  p.closed = new Promise((resolve) => peer.on('close', () => { p.closeEvent = 'close'; resolve('close'); }));
  p.waitNote = async (method, pred = () => true, ms = 5000) => {
    for (const end = Date.now() + ms; Date.now() < end;) {
      const n = p.notes.find((x) => x.method === method && pred(x.data));
      if (n) return n.data;
      await sleep(20);
    }
    throw new Error(`no ${method} notification in ${ms} ms`);
  };
  p.close = () => peer.close();
  p.opened = new Promise((resolve, reject) => {
    peer.on('open', () => resolve(p));
    peer.on('failed', () => reject(new Error('protoo transport failed')));
    p.closed.then(() => reject(new Error('closed before open')));
  });
  return p.opened;
}

/* The error a protoo request got: "<code> <reason>" or "ok". */
async function requestOutcome(p, method, data) {
  try {
    await p.peer.request(method, data);
    return 'ok';
  } catch (err) {
    return `${err.code} ${err.message}`;
  }
}

/* An offer as Chrome writes it with one Opus audio section of direction
 * dir ("sendrecv" to publish, "recvonly" to subscribe): enough for the
 * signalling; no media follows. */
function chromeLikeOffer(dir) {
  const fp = crypto.randomBytes(32).toString('hex').toUpperCase().match(/../g).join(':');
  return ['v=0', `o=- ${Date.now()} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'a=msid-semantic: WMS', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:Hx7q', 'a=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM',
    `a=fingerprint:sha-256 ${fp}`, 'a=setup:actpass', 'a=mid:0',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level', `a=${dir}`, 'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1', ''].join('\r\n');
}

module.exports = { ionUrl, openPeer, requestOutcome, chromeLikeOffer };
