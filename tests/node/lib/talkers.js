'use strict';
/*
 * Two real @discordjs/voice clients that keep talking to each other in
 * their own channel while a test does something else to the server
 * (hostile input, faults). They run in a child process (djs needs
 * NODE_EXTRA_CA_CERTS for the self-signed certificate); each plays a tone
 * in a loop, 50 packets/s, and counts what it hears from the other.
 *
 *   const t = await startTalkers({ srv, lvsp, buildDir, workDir });
 *   // t.ssrcs {A, B}; ... the test ...
 *   const r = await t.stop();   // { A: {...}, B: {...} } per receiver
 *   // r.B.received, r.B.sent (by A), r.B.ratio, r.B.maxGapMs
 *
 * maxGapMs is the longest silence between two packets a receiver got
 * while the other was playing: the functional "audio never stopped"
 * check (tests compare it to a generous bound, not a performance goal).
 *
 * options.impair {A: {loss, delayProb, delayMs}} makes that talker's own
 * djs client drop (loss) or hold back (delayProb, by delayMs) its RTP
 * datagrams on the way out: a lossy, jittery path for one sender only.
 */
const path = require('node:path');

const { snowflake } = require('./ids');

const FRAME_MS = 20;

/* ---- parent side -------------------------------------------------------- */

/*
 * Creates voice states for A and B over the given LVSP client (channel and
 * guild ids of their own), starts the child, resolves once both hear each
 * other. options.toneFile: an Opus packet file (lib/opus_tool format).
 */
async function startTalkers({ srv, lvsp, buildDir, workDir, impair = {} }) {
  const { spawnNode } = require('./server');
  const { opusTool } = require('./opus_tool');
  const guild = snowflake();
  const channel = snowflake();
  const infos = {};
  for (const name of ['A', 'B']) {
    const user_id = snowflake();
    const vi = await lvsp.requestVoiceState({ user_id, channel_id: channel, guild_id: guild });
    infos[name] = { ...vi, guild_id: guild };
  }
  const toneFile = path.join(workDir, 'talkers-tone.opus');
  opusTool(buildDir).encode(440, 50, toneFile);
  let readyLine;
  let resultLine;
  const waiters = [];
  const child = spawnNode(__filename, ['--child', JSON.stringify({ infos, toneFile, impair })], {
    caFile: srv.certPath,
    stdin: 'pipe',
    onLine: (l) => {
      if (l.startsWith('READY ')) readyLine = JSON.parse(l.slice(6));
      else if (l.startsWith('RESULT ')) resultLine = JSON.parse(l.slice(7));
      else if (l.trim()) console.log(`  [talkers] ${l}`);
      for (const w of waiters.splice(0)) w();
    },
  });
  const lineOrExit = () => new Promise((resolve) => {
    waiters.push(resolve);
    child.done.then(resolve);
  });
  const deadline = Date.now() + 30000;
  while (!readyLine && child.proc.exitCode === null && Date.now() < deadline) await lineOrExit();
  if (!readyLine) {
    child.proc.kill('SIGKILL');
    throw new Error('talkers did not start (see their output above)');
  }
  return {
    infos,
    ssrcs: readyLine.ssrcs,
    async stop() {
      if (child.proc.exitCode === null) child.proc.stdin.end('stop\n');
      const timer = setTimeout(() => child.proc.kill('SIGKILL'), 15000);
      await child.done;
      clearTimeout(timer);
      if (!resultLine) throw new Error('talkers exited without a result');
      return resultLine;
    },
  };
}

/* ---- child side --------------------------------------------------------- */

function receiverStats(rx, senderSent, playFrom, playTo) {
  let maxGap = 0;
  let last = playFrom;
  for (const t of rx) {
    if (t < playFrom || t > playTo) continue;
    maxGap = Math.max(maxGap, t - last);
    last = t;
  }
  maxGap = Math.max(maxGap, playTo - last);
  return {
    sent: senderSent, received: rx.length,
    ratio: senderSent ? rx.length / senderSent : 0, maxGapMs: maxGap,
  };
}

/* Wraps the djs UDP socket's send: RTP datagrams (version 2, longer than a
 * header) are dropped or delayed; keepalives and discovery pass. */
function impairUdp(udp, { loss = 0, delayProb = 0, delayMs = 0 }) {
  const send = udp.send.bind(udp);
  udp.send = (buf) => {
    if (buf.length > 12 && (buf[0] & 0xc0) === 0x80) {
      if (Math.random() < loss) return;
      if (Math.random() < delayProb) {
        setTimeout(() => send(buf), delayMs);
        return;
      }
    }
    send(buf);
  };
}

async function childMain({ infos, toneFile, impair = {} }) {
  const djs = require('./djs_adapter');
  const { readPackets } = require('./opus_tool');
  const tone = readPackets(toneFile);
  const peers = {};
  for (const name of ['A', 'B']) {
    peers[name] = { name, ...djs.join(infos[name], { group: `talker-${name}` }), sent: 0, rx: [] };
    await djs.voice.entersState(peers[name].conn, djs.voice.VoiceConnectionStatus.Ready, 20000);
    if (impair[name]) impairUdp(djs.udpSocket(peers[name].conn), impair[name]);
  }
  for (const [me, other] of [['A', 'B'], ['B', 'A']]) {
    const stream = peers[me].conn.receiver.subscribe(infos[other].user_id, {
      end: { behavior: djs.voice.EndBehaviorType.Manual },
    });
    stream.on('data', () => peers[me].rx.push(Date.now()));
  }
  let stopping = false;
  const t0 = Date.now();
  let i = 0;
  const tick = () => {
    if (stopping) return;
    for (const p of Object.values(peers)) if (p.conn.playOpusPacket(tone[i % tone.length])) p.sent++;
    i++;
    setTimeout(tick, Math.max(0, t0 + i * FRAME_MS - Date.now()));
  };
  tick();
  while (!peers.A.rx.length || !peers.B.rx.length) {
    if (Date.now() - t0 > 10000) throw new Error('talkers do not hear each other');
    await new Promise((r) => setTimeout(r, 50));
  }
  const playFrom = Date.now();
  peers.A.rx.length = 0;
  peers.B.rx.length = 0;
  const sentAtReady = { A: peers.A.sent, B: peers.B.sent };
  const ssrcs = { A: djs.connectionData(peers.A.conn).ssrc, B: djs.connectionData(peers.B.conn).ssrc };
  console.log(`READY ${JSON.stringify({ ssrcs })}`);
  await new Promise((resolve) => {
    process.stdin.on('data', (d) => { if (String(d).includes('stop')) resolve(); });
    process.stdin.on('end', resolve);
  });
  stopping = true;
  const playTo = Date.now();
  await new Promise((r) => setTimeout(r, 500)); // packets in flight
  const result = {
    A: receiverStats(peers.A.rx, peers.B.sent - sentAtReady.B, playFrom, playTo),
    B: receiverStats(peers.B.rx, peers.A.sent - sentAtReady.A, playFrom, playTo),
    status: { A: peers.A.conn.state.status, B: peers.B.conn.state.status },
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
  for (const p of Object.values(peers)) p.conn.destroy();
  setTimeout(() => process.exit(0), 200);
}

if (require.main === module && process.argv[2] === '--child') {
  childMain(JSON.parse(process.argv[3])).catch((err) => {
    console.log(`talkers failed: ${err.stack || err}`);
    process.exit(1);
  });
}

module.exports = { startTalkers, receiverStats };
