'use strict';
/*
 * ion-sdk-js 0.4.1 (the ion/protoo client library, bundled with esbuild:
 * lib/ion_peer.js) in headless Chromium, and a real @discordjs/voice
 * member, in one room of the real server (docs/ION.md).
 *
 * The ion page joins with the voice token in the URL (?token=, uid = the
 * token's user), publishes a 440 Hz WebAudio sine (its publish peer
 * connection is the voice state's own media member) and subscribes to
 * every stream the server announces (stream-add with tracks): the djs
 * member's (a down leg carrying that source only). The djs member (child
 * process: djs needs NODE_EXTRA_CA_CERTS) plays a 660 Hz Opus tone made
 * with libopus once the ion subscription is connected.
 *
 * Checked:
 *   - ion-sdk-js's join and publish succeed, and it learns the djs
 *     member's stream (mid "<user>-<ssrc>") and subscribes to it;
 *   - the subscribe peer connection reaches "connected" (ICE-lite,
 *     DTLS, SRTP, direction sendonly from us);
 *   - the page receives >= 95 % of the djs member's packets, under the
 *     djs member's SSRC, and the decoded audio has energy
 *     (totalAudioEnergy > 0, from the subscribe PC's getStats);
 *   - djs receives the ion client's Opus under its user (it learnt the
 *     SSRC from Speaking) and libopus decodes it to 440 Hz (+- 5 Hz);
 *   - a second ion client (550 Hz) in the same room: the two subscribe
 *     to each other and receive each other's audio with energy (ion to
 *     ion through the publish member and a leg); nobody receives itself.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const fs = require('node:fs');
const path = require('node:path');

const { Checks, run, sleep } = require('./lib/checks');
const { snowflake } = require('./lib/ids');

const FRAMES = 150; /* 3 s of 20 ms frames from djs */
const MIN_RATIO = 0.95;
const MIN_FROM_ION = 100;
const HZ_TOLERANCE = 5;

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');

async function waitFor(pred, ms, step = 50) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await pred()) return true;
    await sleep(step);
  }
  return pred();
}

/* ---- djs side (child process) -------------------------------------------- */

async function childMain({ info, ionUser, toneFile, rxFile }) {
  const djs = require('./lib/djs_adapter');
  const { readPackets, writePackets } = require('./lib/opus_tool');
  const tone = readPackets(toneFile);
  const me = djs.join(info, { group: 'ion-djs' });
  await djs.voice.entersState(me.conn, djs.voice.VoiceConnectionStatus.Ready, 20000);
  const rx = [];
  const stream = me.conn.receiver.subscribe(ionUser, { end: { behavior: djs.voice.EndBehaviorType.Manual } });
  stream.on('data', (p) => rx.push(Buffer.from(p)));
  console.log(`READY ${JSON.stringify({ ssrc: djs.connectionData(me.conn).ssrc })}`);
  let sent = 0;
  const lines = [];
  process.stdin.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
  await waitFor(() => lines.includes('play'), 60000, 10);
  const t0 = Date.now();
  for (let i = 0; i < tone.length; i++) {
    const wait = t0 + i * 20 - Date.now();
    if (wait > 0) await sleep(wait);
    if (me.conn.playOpusPacket(tone[i])) sent++;
  }
  await waitFor(() => lines.includes('stop'), 60000, 10);
  if (rx.length) writePackets(rxFile, rx);
  console.log(`RESULT ${JSON.stringify({ sent, received: rx.length })}`);
  me.conn.destroy();
  setTimeout(() => process.exit(0), 200);
}

/* ---- parent ----------------------------------------------------------------- */

const checks = new Checks('ion_chromium');
const servers = [];

function startDjs(srv, args) {
  const { spawnNode } = require('./lib/server');
  const st = { ready: null, result: null };
  const child = spawnNode(__filename, ['--child', JSON.stringify(args)], {
    caFile: srv.certPath,
    stdin: 'pipe',
    onLine: (l) => {
      if (l.startsWith('READY ')) st.ready = JSON.parse(l.slice(6));
      else if (l.startsWith('RESULT ')) st.result = JSON.parse(l.slice(7));
      else if (l.trim()) console.log(`  [djs] ${l}`);
    },
  });
  st.child = child;
  st.say = (w) => child.proc.stdin.write(`${w}\n`);
  return st;
}

async function body() {
  const { launchBrowser } = require('./lib/chromium');
  const { startPeer } = require('./lib/ion_peer');
  const { LvspClient } = require('./lib/lvsp_client');
  const { opusTool } = require('./lib/opus_tool');
  const { startServer } = require('./lib/server');
  const srv = await startServer({ buildDir });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const guild_id = snowflake();
  const channel_id = snowflake();
  const vs = async () => ({ ...await lvsp.requestVoiceState({ user_id: snowflake(), channel_id, guild_id }), guild_id });
  const djsInfo = await vs();
  const ionInfo = await vs();
  const ion2Info = await vs();
  const tool = opusTool(buildDir);
  const toneFile = path.join(srv.stateDir, 'tone660.opus');
  tool.encode(660, FRAMES, toneFile);
  const rxFile = path.join(srv.stateDir, 'from-ion.opus');

  const djs = startDjs(srv, { info: djsInfo, ionUser: ionInfo.user_id, toneFile, rxFile });
  const b = await launchBrowser();
  let peer = null;
  let peer2 = null;
  try {
    checks.ok(await waitFor(() => djs.ready || djs.child.proc.exitCode !== null, 30000) && djs.ready,
      'djs member is Ready');
    peer = await startPeer(b.browser, srv, ionInfo, { freq: 440 });
    checks.ok(new RegExp(`^${ionInfo.user_id}-\\d+$`).test(peer.mid || ''), `ion-sdk-js published, mid ${peer.mid}`);
    const djsMid = `${djsInfo.user_id}-${djs.ready.ssrc}`;
    checks.ok(await waitFor(async () => (await peer.state()).streams.includes(djsMid), 10000),
      `ion-sdk-js learnt the djs member's stream ${djsMid}: ${JSON.stringify((await peer.state()).streams)}`);
    const connected = (st, role) => st.pcs.some((p) => p.role === role && p.connectionState === 'connected');
    checks.ok(await waitFor(async () => connected(await peer.state(), 'publish'), 15000),
      `publish peer connection connected: ${JSON.stringify((await peer.state()).pcs)}`);
    checks.ok(await waitFor(async () => connected(await peer.state(), 'subscribe'), 15000),
      `subscribe peer connection connected: ${JSON.stringify((await peer.state()).pcs)}`);
    /* A second ion client (550 Hz): the two hear each other, ion to ion. */
    peer2 = await startPeer(b.browser, srv, ion2Info, { freq: 550 });
    checks.ok(await waitFor(async () => (await peer.state()).subscribed.includes(peer2.mid) &&
      (await peer2.state()).subscribed.includes(peer.mid), 15000),
      `the two ion clients subscribed to each other (${peer.mid}, ${peer2.mid})`);
    await sleep(300);

    djs.say('play');
    await sleep(FRAMES * 20 + 700);
    const inbound = await peer.inbound();
    djs.say('stop');
    await waitFor(() => djs.result || djs.child.proc.exitCode !== null, 10000);
    const res = djs.result || { sent: 0, received: 0 };
    const st = await peer.state();
    checks.ok(st.subscribed.includes(djsMid), `ion-sdk-js's subscribe resolved (a track unmuted): ${JSON.stringify(st)}`);
    const rx = inbound.find((s) => s.ssrc === djs.ready.ssrc) || { packetsReceived: 0, totalAudioEnergy: 0 };
    checks.ok(res.sent > 0 && rx.packetsReceived >= res.sent * MIN_RATIO,
      `the subscribe PC received ${rx.packetsReceived}/${res.sent} of the djs member's packets (SSRC ${djs.ready.ssrc}); inbound ${JSON.stringify(inbound)}`);
    checks.ok(rx.totalAudioEnergy > 0, `its decoded audio has energy: totalAudioEnergy ${rx.totalAudioEnergy}`);
    checks.ok(res.received >= MIN_FROM_ION, `djs received ${res.received} Opus packets from the ion client`);
    const ssrcOf = (mid) => Number(String(mid).split('-')[1]);
    const in2 = await peer2.inbound();
    const from2 = inbound.find((x) => x.ssrc === ssrcOf(peer2.mid)) || { packetsReceived: 0, totalAudioEnergy: 0 };
    const from1 = in2.find((x) => x.ssrc === ssrcOf(peer.mid)) || { packetsReceived: 0, totalAudioEnergy: 0 };
    checks.ok(from2.packetsReceived >= MIN_FROM_ION && from2.totalAudioEnergy > 0 &&
      from1.packetsReceived >= MIN_FROM_ION && from1.totalAudioEnergy > 0,
      `ion to ion: ${from2.packetsReceived} packets (energy ${from2.totalAudioEnergy}) one way, ` +
      `${from1.packetsReceived} (energy ${from1.totalAudioEnergy}) the other`);
    checks.ok(!inbound.some((x) => x.ssrc === ssrcOf(peer.mid)), 'an ion client never receives its own stream');
    if (res.received > 0) {
      const a = tool.analyze(rxFile);
      checks.ok(Math.abs(a.dominant_hz - 440) <= HZ_TOLERANCE,
        `libopus decodes the ion client's audio to ${a.dominant_hz} Hz (want 440 +- ${HZ_TOLERANCE}), rms ${a.rms}`);
    }
  } finally {
    if (peer2) await peer2.close();
    if (peer) await peer.close();
    await b.close();
    if (djs.child.proc.exitCode === null) djs.child.proc.kill('SIGKILL');
    await lvsp.close().catch(() => {});
  }
}

if (require.main === module && process.argv[2] === '--child') {
  childMain(JSON.parse(process.argv[3])).catch((err) => {
    console.log(`djs child failed: ${err.stack || err}`);
    process.exit(1);
  });
} else {
  run('ion_chromium', 120000, body, { checks: () => checks, servers: () => servers });
}
