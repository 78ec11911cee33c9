'use strict';
/*
 * The mediasoup-client page's script (bundled with esbuild by
 * lib/vortex_peer.js; entry inside tests/node so node_modules resolves):
 * a Vortex client as revite's VoiceClient behaves, on mediasoup-client
 * 3.24.1 and our signaller (lib/vortex_signal.js). It authenticates,
 * loads the Device with the router's capabilities, reads RoomInfo,
 * creates the SplitWebRTC transports, consumes every user with audio
 * (and everyone who starts producing later), and publishes a WebAudio
 * oscillator of `freq` Hz. Consumed tracks play into <audio> elements
 * (Chrome counts audio energy only of a track that plays out).
 *
 *   await vxJoin({ url, token, roomId, freq })  -> { userId, roomInfo, producerId }
 *   await vxInbound()   -> [{ userId, ssrc, packetsReceived, totalAudioEnergy }]
 *   await vxOutbound()  -> [{ ssrc, packetsSent }]
 *   vxState()           -> { events, errors, consumers, close }
 *   await vxReproduce(freq)  closes the producer (StopProduce) and makes a new
 *                       one, as revite's microphone toggle does (a new SSRC)
 *   await vxProduce(freq)  a producer for a page that joined with produce: false
 *   await vxServerPause(userId, paused)  SetConsumerPause only (the page's
 *                       consumer keeps running: what arrives is what the server sends)
 *   await vxRequest(type, data)  one request as it is -> {data} or {error}
 *   await vxLeave()
 */
const { Device } = require('mediasoup-client');
const { VortexSignal } = require('./vortex_signal');

const st = { sig: null, device: null, send: null, recv: null, producer: null, consumers: new Map(),
  errors: [], audio: null };

function toneTrack(freq) {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  osc.frequency.value = freq;
  const gain = ctx.createGain();
  gain.gain.value = 0.3;
  const dest = ctx.createMediaStreamDestination();
  osc.connect(gain).connect(dest);
  osc.start();
  st.audio = ctx;
  return dest.stream.getAudioTracks()[0];
}

function wireTransport(t) {
  t.on('connect', ({ dtlsParameters }, ok, fail) => {
    st.sig.request('ConnectTransport', { id: t.id, dtlsParameters }).then(() => ok(), fail);
  });
}

async function consume(userId) {
  if (userId === st.userId || st.consumers.has(userId)) return;
  st.consumers.set(userId, null);
  try {
    const d = await st.sig.request('StartConsume', { type: 'audio', userId });
    const consumer = await st.recv.consume({ id: d.id, producerId: d.producerId, kind: d.kind,
                                             rtpParameters: d.rtpParameters });
    st.consumers.set(userId, consumer);
    const a = document.createElement('audio');
    a.autoplay = true;
    a.srcObject = new MediaStream([consumer.track]);
    document.body.appendChild(a);
    await st.sig.request('SetConsumerPause', { id: consumer.id, paused: false });
    consumer.resume();
  } catch (err) {
    st.consumers.delete(userId);
    st.errors.push(String(err.message || err));
  }
}

async function stopConsuming(userId) {
  const c = st.consumers.get(userId);
  st.consumers.delete(userId);
  if (!c) return;
  c.close();
  await st.sig.request('StopConsume', { id: c.id }).catch((e) => st.errors.push(String(e.message)));
}

window.vxJoin = async ({ url, token, roomId, freq = 440, produce = true }) => {
  st.sig = await VortexSignal.open(url);
  const auth = await st.sig.request('Authenticate', { token, roomId });
  st.userId = auth.userId;
  st.device = new Device();
  const [, roomInfo] = await Promise.all([
    st.device.load({ routerRtpCapabilities: auth.rtpCapabilities }),
    st.sig.request('RoomInfo'),
  ]);
  const tr = await st.sig.request('InitializeTransports',
    { mode: 'SplitWebRTC', rtpCapabilities: st.device.rtpCapabilities });
  st.send = st.device.createSendTransport(tr.sendTransport);
  st.recv = st.device.createRecvTransport(tr.recvTransport);
  wireTransport(st.send);
  wireTransport(st.recv);
  st.send.on('produce', ({ rtpParameters }, ok, fail) => {
    st.sig.request('StartProduce', { type: 'audio', rtpParameters }).then((d) => ok({ id: d.producerId }), fail);
  });
  st.sig.on('UserStartProduce', (d) => { if (d.type === 'audio') consume(d.id); });
  st.sig.on('UserStopProduce', (d) => { if (d.type === 'audio') stopConsuming(d.id); });
  st.sig.on('UserLeft', (d) => stopConsuming(d.id));
  for (const [uid, u] of Object.entries(roomInfo.users)) if (u.audio) await consume(uid);
  if (produce) st.producer = await st.send.produce({ track: toneTrack(freq) });
  return { userId: auth.userId, roomInfo, producerId: st.producer && st.producer.id,
           canProduce: st.device.canProduce('audio') };
};

window.vxInbound = async () => {
  const out = [];
  for (const [userId, c] of st.consumers) {
    if (!c) continue;
    (await c.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') {
        out.push({ userId, ssrc: s.ssrc, packetsReceived: s.packetsReceived || 0,
                   totalAudioEnergy: s.totalAudioEnergy || 0 });
      }
    });
  }
  return out;
};

window.vxOutbound = async () => {
  const out = [];
  if (!st.producer) return out;
  (await st.producer.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp') out.push({ ssrc: s.ssrc, packetsSent: s.packetsSent || 0 });
  });
  return out;
};

window.vxState = () => ({
  userId: st.userId,
  events: st.sig ? st.sig.events : [],
  errors: st.errors,
  consumers: [...st.consumers.entries()].map(([u, c]) => ({ userId: u, id: c && c.id, paused: c && c.paused })),
  close: st.sig && st.sig.closeInfo,
  sendState: st.send && st.send.connectionState,
  recvState: st.recv && st.recv.connectionState,
});

window.vxReproduce = async (freq) => {
  st.producer.close();
  await st.sig.request('StopProduce', { type: 'audio' });
  st.producer = await st.send.produce({ track: toneTrack(freq) });
  return st.producer.rtpParameters.encodings[0].ssrc;
};

window.vxProduce = async (freq) => {
  st.producer = await st.send.produce({ track: toneTrack(freq) });
  return st.producer.rtpParameters.encodings[0].ssrc;
};

window.vxServerPause = async (userId, paused) => {
  const c = st.consumers.get(userId);
  if (!c) throw new Error(`no consumer of ${userId}`);
  await st.sig.request('SetConsumerPause', { id: c.id, paused });
};

window.vxRequest = (type, data) =>
  st.sig.request(type, data).then((d) => ({ data: d }), (e) => ({ error: e.error || String(e.message) }));

window.vxLeave = async () => {
  if (st.producer) st.producer.close();
  for (const c of st.consumers.values()) if (c) c.close();
  if (st.send) st.send.close();
  if (st.recv) st.recv.close();
  if (st.sig) st.sig.close();
  if (st.audio) await st.audio.close();
};

window.vxReady = true;
