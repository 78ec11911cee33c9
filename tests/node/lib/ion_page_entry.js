/*
 * The page side of an ion client (lib/ion_peer.js bundles this file with
 * esbuild for headless Chromium): ion-sdk-js 0.4.1 itself (Client,
 * LocalStream), a WebAudio sine as its microphone, every stream the
 * server announces subscribed to. Every RTCPeerConnection the library
 * makes is recorded, so the test reads its getStats and plays received
 * tracks into <audio> elements (Chrome counts audio energy only of a
 * track that plays, unmuted; the browser runs with autoplay allowed).
 *
 *   await ionStart({ url, rid, uid, freq })  -> { joined, mid }
 *   await ionInbound()  -> [{ ssrc, packetsReceived, totalAudioEnergy }]
 *   ionState()          -> { pcs: [{ role, connectionState }], streams: [mid], subscribed: [mid],
 *                            removed: [mid], requests: [{ method, outcome }], errors }
 *   await ionLeave()    -> ion-sdk-js's leave(), once what it sends after it was answered:
 *                          [{ method, outcome }] ("ok" or "<code> <reason>")
 *   ionStop()
 *
 * A stream the server removes (stream-remove: ion-sdk-js closes its
 * subscription) is subscribed to again if it is announced again.
 */
import { Client, LocalStream } from 'ion-sdk-js';

const pcs = [];
const errors = [];
const subscribed = new Map(); /* mid -> RemoteStream (once a track unmuted) */
const announced = [];
const removed = [];
const requests = []; /* every protoo request ion-sdk-js made, with its outcome */
let client = null;
let audioCtx = null;

const NativePC = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePC {
  constructor(...args) {
    super(...args);
    pcs.push(this);
    this.addEventListener('track', (ev) => {
      const a = document.createElement('audio');
      a.autoplay = true;
      a.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      document.body.appendChild(a);
    });
  }
};

function sineStream(freq) {
  audioCtx = audioCtx || new AudioContext();
  const osc = audioCtx.createOscillator();
  osc.frequency.value = freq;
  const gain = audioCtx.createGain();
  gain.gain.value = 0.3;
  const dest = audioCtx.createMediaStreamDestination();
  osc.connect(gain).connect(dest);
  osc.start();
  return dest.stream;
}

function subscribe(mid) {
  if (subscribed.has(mid) || !client) return;
  subscribed.set(mid, null);
  client.subscribe(mid).then((s) => subscribed.set(mid, s),
    (e) => errors.push(`subscribe ${mid}: ${e && e.message}`));
}

window.ionStart = async ({ url, rid, uid, freq = 440, publish = true }) => {
  client = new Client({ url, uid, rtc: { iceServers: [] } });
  /* ion-sdk-js's Stream class shares this protoo Peer: every request goes here. */
  const request = client.dispatch.request.bind(client.dispatch);
  client.dispatch.request = (method, data) => request(method, data).then((r) => {
    requests.push({ method, outcome: 'ok' });
    return r;
  }, (e) => {
    requests.push({ method, outcome: `${e && e.code} ${e && e.message}` });
    throw e;
  });
  client.dispatch.on('notification', ({ method, data }) => {
    if (method !== 'stream-remove') return;
    removed.push(data.mid);
    subscribed.delete(data.mid);
  });
  client.on('stream-add', (mid) => {
    announced.push(mid);
    subscribe(mid);
  });
  await new Promise((resolve, reject) => {
    client.on('transport-open', resolve);
    client.on('transport-closed', () => reject(new Error('transport closed')));
  });
  await client.join(rid, { name: `ion-${uid}` });
  if (!publish) return { joined: true, mid: null };
  const local = new LocalStream(sineStream(freq), { codec: 'VP8', resolution: 'hd', audio: true, video: false });
  await client.publish(local);
  for (let i = 0; i < 200 && !local.mid; i++) await new Promise((r) => setTimeout(r, 50));
  return { joined: true, mid: local.mid || null };
};

window.ionInbound = async () => {
  const out = [];
  for (const pc of pcs) {
    if (pc.connectionState === 'closed') continue;
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.push({ ssrc: s.ssrc, packetsReceived: s.packetsReceived || 0, totalAudioEnergy: s.totalAudioEnergy || 0 });
      }
    });
  }
  return out;
};

window.ionState = () => ({
  pcs: pcs.map((pc) => ({
    role: pc.getSenders().some((s) => s.track) ? 'publish' : 'subscribe',
    connectionState: pc.connectionState,
  })),
  streams: announced.slice(),
  subscribed: [...subscribed.entries()].filter(([, s]) => s).map(([m]) => m),
  removed: removed.slice(),
  requests: requests.slice(),
  errors: errors.slice(),
});

window.ionLeave = async () => {
  const from = requests.length;
  const subs = [...subscribed.values()].filter(Boolean).length;
  const published = requests.some((r) => r.method === 'publish' && r.outcome === 'ok');
  /* leave, then (not awaited by ion-sdk-js) unpublish and one unsubscribe per subscription */
  const want = 1 + (published ? 1 : 0) + subs;
  await client.leave();
  for (let i = 0; i < 100 && requests.length - from < want; i++) await new Promise((r) => setTimeout(r, 50));
  return requests.slice(from);
};

window.ionStop = () => {
  if (client) client.close();
  for (const pc of pcs) pc.close();
};

window.ionPageReady = true;
