'use strict';
/*
 * Whole-SDP offer/answer in real headless Chromium (lib/chromium.js
 * launchBrowser), for tests/node/sdp_oa_chromium.test.js and
 * tests/fuzz/make_sdp_oa_seeds.js: the offers Galène's and ion's
 * clients make, and Chromium's verdict on what src/sc_sdp_oa writes.
 *
 *   const b = await launchBrowser();
 *   const page = await openOaPage(b.browser);
 *   const { id, sdp } = await page.evaluate((k) => oa.offer(k), 'sendonly');
 *   const r = await page.evaluate((i, a) => oa.applyAnswer(i, a), id, answerSdp);
 *   // r: { signalingState, sctp (state or null), transceivers: [{ mid, kind, direction, currentDirection }],
 *   //      tracks: [{ kind, mid, streams: [ids] }] (the track events so far) }
 *   // (a transceiver whose section was rejected is stopped and leaves the list)
 *   const a = await page.evaluate((o) => oa.answerOffer(o), offerSdp);
 *   // a: { id, sdp, transceivers, tracks } (setRemoteDescription, createAnswer,
 *   //      setLocalDescription)
 *
 * Offer kinds: 'sendonly' (a WebAudio track in a stream: Galène's and ion's
 * publish), 'recvonly' (ion's subscribe), 'av-data' (audio and video
 * sendrecv plus a data channel). Offers and answers wait for the end of
 * ICE gathering so that they carry the host candidates.
 */

/* Runs in the page: defines window.oa. */
function installOa() {
  const pcs = new Map();
  let next = 1;
  const gathered = (pc) => new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const t = setTimeout(resolve, 3000);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const toneStream = () => {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const dst = ctx.createMediaStreamDestination();
    osc.connect(dst);
    osc.start();
    return dst.stream;
  };
  const tracks = new Map();
  const keep = (pc) => {
    const id = next++;
    pcs.set(id, pc);
    tracks.set(id, []);
    pc.addEventListener('track', (e) => tracks.get(id).push({
      kind: e.track.kind, mid: e.transceiver.mid, streams: e.streams.map((st) => st.id),
    }));
    return id;
  };
  const transceivers = (pc) => pc.getTransceivers().map((t) => ({
    mid: t.mid, kind: t.receiver.track.kind, direction: t.direction, currentDirection: t.currentDirection,
  }));
  window.oa = {
    async offer(kind) {
      const pc = new RTCPeerConnection();
      const id = keep(pc);
      if (kind === 'sendonly') {
        const s = toneStream();
        pc.addTransceiver(s.getAudioTracks()[0], { direction: 'sendonly', streams: [s] });
      } else if (kind === 'recvonly') {
        pc.addTransceiver('audio', { direction: 'recvonly' });
      } else if (kind === 'av-data') {
        const s = toneStream();
        pc.addTrack(s.getAudioTracks()[0], s);
        pc.addTransceiver('video');
        pc.createDataChannel('chat');
      } else {
        throw new Error(`unknown offer kind ${kind}`);
      }
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      return { id, sdp: pc.localDescription.sdp };
    },
    async applyAnswer(id, sdp) {
      const pc = pcs.get(id);
      await pc.setRemoteDescription({ type: 'answer', sdp });
      return { transceivers: transceivers(pc), signalingState: pc.signalingState, tracks: tracks.get(id),
        sctp: pc.sctp ? pc.sctp.state : null };
    },
    async answerOffer(sdp) {
      const pc = new RTCPeerConnection();
      const id = keep(pc);
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      return { id, sdp: pc.localDescription.sdp, transceivers: transceivers(pc), tracks: tracks.get(id) };
    },
    close(id) {
      pcs.get(id)?.close();
      pcs.delete(id);
    },
  };
}

/* A blank page with window.oa. */
async function openOaPage(browser) {
  const page = await browser.newPage();
  await page.evaluate(installOa);
  return page;
}

module.exports = { openOaPage };
