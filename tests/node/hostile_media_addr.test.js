'use strict';
/*
 * Media addresses under attack, against the running binary, while two djs
 * clients keep talking in another channel (harness: lib/hostile.js). The
 * server runs one media worker, so every room here shares its sendmmsg
 * batches.
 *
 * A1-A3: a member names an address that can never be a destination in
 *   Select Protocol (255.255.255.255, multicast 239.1.2.3, 0.0.0.0) and
 *   never sends UDP, while its roommate speaks and two members of another
 *   room exchange 100 packets each way (sent interleaved with the
 *   roommate's, so their copies share batches with the copies for the bad
 *   address): the other room must get all 100 both ways, and the refused
 *   hint must be counted (hint_refused).
 * B1: a roommate sends IP discovery for a newcomer's SSRC (learnt from the
 *   op 5 it receives when the newcomer identifies) from another socket,
 *   before the newcomer does (the newcomer, a real @discordjs/voice client
 *   in a child process, has its first discovery datagram held back 500 ms,
 *   as a slow network would). The newcomer must then send and receive
 *   normally: >= 99 of 100 packets both ways; the thief's socket gets its
 *   discovery answer and nothing else.
 * C1: NAT rebinding: a member's packets move to a new source port mid
 *   call; it keeps hearing and being heard (all of 50 each way, at the new
 *   port only); then a forged packet (its SSRC, another member's key) from
 *   a third address moves nothing.
 */
const dgram = require('node:dgram');
const path = require('node:path');
const { runSuite, voiceState } = require('./lib/hostile');
const { MediaClient, sealRtpsize, rtpHeader } = require('./lib/media_client');
const { discoveryRequest, parseDiscoveryResponse } = require('./lib/raw_voice_client');
const { HOST, sleep } = require('./lib/server');

const N = 100;
const MIN_OK = 99;

async function waitFor(pred, ms) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (pred()) return true;
    await sleep(10);
  }
  return pred();
}

/* A raw media client that records the payloads it hears. */
async function member(ctx, where, options = {}) {
  const info = await voiceState(ctx, where);
  const mc = await MediaClient.join(info, { ca: ctx.ca, ...options });
  mc.info = info;
  mc.rx = [];
  mc.on('audio', (a) => mc.rx.push(a.payload.toString('latin1')));
  return mc;
}

const room = (ctx) => ({ guild_id: ctx.snowflake(), channel_id: ctx.snowflake() });
const count = (mc, prefix) => mc.rx.filter((p) => p.startsWith(prefix)).length;

async function udpSocket() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, HOST, r));
  return s;
}

/* ---- A: hints that can never be destinations ------------------------------ */

function badHintCase(id, address) {
  return {
    id, plane: 'udp', what: `a member names ${address} in Select Protocol and never sends UDP`,
    counter: 'hint_refused', expect: `other room ${N}/${N} both ways`,
    run: async (ctx) => {
      const here = room(ctx);
      const bad = await member(ctx, here, { discover: false, select: { address, port: 50000 } });
      const mate = await member(ctx, here);
      const other = room(ctx);
      const p = await member(ctx, other);
      const q = await member(ctx, other);
      try {
        // The roommate's packet first in each tick: its copy for the bad
        // address is queued before the other room's copies.
        for (let i = 0; i < N; i++) {
          mate.sendOpus(Buffer.from(`mate-${id}-${i}`));
          p.sendOpus(Buffer.from(`p-${id}-${i}`));
          q.sendOpus(Buffer.from(`q-${id}-${i}`));
          if (i % 10 === 9) await sleep(20);
        }
        await waitFor(() => count(q, `p-${id}-`) >= N && count(p, `q-${id}-`) >= N, 3000);
        const pq = count(q, `p-${id}-`);
        const qp = count(p, `q-${id}-`);
        return pq === N && qp === N ? `other room ${N}/${N} both ways` : `other room ${pq}/${N} and ${qp}/${N}`;
      } finally {
        for (const m of [bad, mate, p, q]) await m.close();
      }
    },
  };
}

/* ---- B: discovery for a newcomer's SSRC, sent first by a roommate ---------- */

async function discoveryTheft(ctx) {
  const { spawnNode } = require('./lib/server');
  const { opusTool, readPackets } = require('./lib/opus_tool');
  const here = room(ctx);
  const mate = await member(ctx, here);
  const thief = await udpSocket();
  const stolen = { answers: 0, other: 0 };
  let newcomerSsrc = null;
  thief.on('message', (msg) => {
    if (newcomerSsrc !== null && parseDiscoveryResponse(msg, newcomerSsrc)) stolen.answers++;
    else stolen.other++;
  });
  const info = await voiceState(ctx, here);
  // The roommate learns the newcomer's SSRC from op 5 and asks first.
  mate.vc.ws.on('message', (data) => {
    let m;
    try { m = JSON.parse(data.toString()); } catch { return; }
    if (m.op === 5 && m.d && m.d.user_id === info.user_id && newcomerSsrc === null) {
      newcomerSsrc = m.d.ssrc;
      thief.send(discoveryRequest(newcomerSsrc), mate.server.port, mate.server.ip);
    }
  });
  const toneFile = path.join(ctx.workDir, 'addr-tone.opus');
  opusTool(ctx.buildDir).encode(440, N, toneFile);
  const tone = readPackets(toneFile);
  let ready = null;
  let result = null;
  const child = spawnNode(__filename, ['--child', JSON.stringify({ info, toneFile, mateUser: mate.info.user_id })], {
    caFile: ctx.srv.certPath,
    stdin: 'pipe',
    onLine: (l) => {
      if (l.startsWith('READY ')) ready = JSON.parse(l.slice(6));
      else if (l.startsWith('RESULT ')) result = JSON.parse(l.slice(7));
      else if (l.trim()) console.log(`  [newcomer] ${l}`);
    },
  });
  try {
    if (!await waitFor(() => ready || child.proc.exitCode !== null, 20000) || !ready) return 'newcomer did not get Ready';
    if (!await waitFor(() => stolen.answers > 0, 2000)) return 'the thief got no discovery answer';
    // Both speak 100 packets on the 20 ms grid.
    const fromMate = tone.map((t, i) => ({ t, i }));
    const t0 = Date.now();
    child.proc.stdin.write('play\n');
    for (const { t, i } of fromMate) {
      const wait = t0 + i * 20 - Date.now();
      if (wait > 0) await sleep(wait);
      mate.sendOpus(t);
    }
    await waitFor(() => result || child.proc.exitCode !== null, 10000);
    if (!result) return 'newcomer gave no result';
    const heardNewcomer = mate.stats.verified;
    const got = `newcomer sent ${result.sent}, roommate heard ${heardNewcomer}; newcomer heard ${result.received}/${N}; thief got ${stolen.other} other datagrams`;
    console.log(`     B1: ${got}`);
    const ok = result.sent >= N && heardNewcomer >= MIN_OK && result.received >= MIN_OK && stolen.other === 0;
    return ok ? `>= ${MIN_OK}/${N} both ways, thief got nothing` : got;
  } finally {
    if (child.proc.exitCode === null) child.proc.stdin.end('stop\n');
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), 10000);
    await child.done;
    clearTimeout(timer);
    thief.close();
    await mate.close();
  }
}

/* ---- C: NAT rebinding, then a forgery from a third address ----------------- */

async function natRebinding(ctx) {
  const here = room(ctx);
  const m1 = await member(ctx, here);
  const m2 = await member(ctx, here);
  const third = await udpSocket();
  let thirdGot = 0;
  third.on('message', () => { thirdGot++; });
  try {
    const exchange = async (tag, n) => {
      for (let i = 0; i < n; i++) {
        m1.sendOpus(Buffer.from(`${tag}-m1-${i}`));
        m2.sendOpus(Buffer.from(`${tag}-m2-${i}`));
        if (i % 10 === 9) await sleep(20);
      }
      await waitFor(() => count(m2, `${tag}-m1-`) >= n && count(m1, `${tag}-m2-`) >= n, 3000);
      return [count(m2, `${tag}-m1-`), count(m1, `${tag}-m2-`)];
    };
    let [a, b] = await exchange('before', 20);
    if (a < 20 || b < 20) return `before the move: ${a}/20 and ${b}/20`;
    const old = await m1.switchSocket();
    let oldGot = 0;
    old.on('message', () => { oldGot++; });
    [a, b] = await exchange('moved', 50);
    if (a < 50 || b < 50) return `after the move: m2 heard ${a}/50, m1 heard ${b}/50`;
    if (oldGot) return `the old port still got ${oldGot} datagrams`;
    // A forgery with m1's SSRC under m2's key, from a third address.
    const forged = sealRtpsize(m2.mode, m2.key, rtpHeader({ seq: 1, ts: 1, ssrc: m1.ssrc }),
      Buffer.from('forged'), (m1.ctr + 1) >>> 0);
    for (let i = 0; i < 5; i++) third.send(forged, m1.server.port, m1.server.ip);
    await sleep(150);
    [a, b] = await exchange('after-forgery', 50);
    old.close();
    if (a < 50 || b < 50) return `after the forgery: m2 heard ${a}/50, m1 heard ${b}/50`;
    if (thirdGot) return `the forger got ${thirdGot} datagrams`;
    if (m2.rx.includes('forged')) return 'the forgery was forwarded';
    return 'moved, forgery moved nothing';
  } finally {
    third.close();
    await m1.close();
    await m2.close();
  }
}

const cases = [
  badHintCase('A1', '255.255.255.255'),
  badHintCase('A2', '239.1.2.3'),
  badHintCase('A3', '0.0.0.0'),
  { id: 'B1', plane: 'udp', what: 'a roommate asks IP discovery for a newcomer\'s SSRC before the newcomer (djs) does',
    counter: 'discovery', expect: `>= ${MIN_OK}/${N} both ways, thief got nothing`, run: discoveryTheft },
  { id: 'C1', plane: 'udp', what: 'NAT rebinding mid call, then a forged packet with the member\'s SSRC from a third address',
    counter: 'addr_moved, drop_foreign_addr', expect: 'moved, forgery moved nothing', run: natRebinding },
];

/* ---- child: the newcomer, a real @discordjs/voice client ------------------ */

async function childMain({ info, toneFile, mateUser }) {
  // A slow first hop: the first discovery datagram leaves 500 ms late.
  const nodeDgram = require('node:dgram');
  const send = nodeDgram.Socket.prototype.send;
  let held = false;
  nodeDgram.Socket.prototype.send = function delayed(buf, ...rest) {
    if (!held && Buffer.isBuffer(buf) && buf.length === 74) {
      held = true;
      setTimeout(() => send.call(this, buf, ...rest), 500);
      return undefined;
    }
    return send.call(this, buf, ...rest);
  };
  const djs = require('./lib/djs_adapter');
  const { readPackets } = require('./lib/opus_tool');
  const tone = readPackets(toneFile);
  const { conn } = djs.join(info, { group: 'newcomer' });
  await djs.voice.entersState(conn, djs.voice.VoiceConnectionStatus.Ready, 20000);
  const got = djs.collectOpus(conn, mateUser);
  console.log(`READY ${JSON.stringify({ ssrc: djs.connectionData(conn).ssrc })}`);
  await new Promise((resolve) => {
    process.stdin.on('data', (d) => { if (String(d).includes('play')) resolve(); });
  });
  const sent = await djs.playOpus(conn, tone);
  await new Promise((r) => setTimeout(r, 700)); // the roommate's last packets
  console.log(`RESULT ${JSON.stringify({ sent, received: got.packets.length })}`);
  conn.destroy();
  setTimeout(() => process.exit(0), 200);
}

if (require.main === module && process.argv[2] === '--child') {
  childMain(JSON.parse(process.argv[3])).catch((err) => {
    console.log(`newcomer failed: ${err.stack || err}`);
    process.exit(1);
  });
} else if (require.main === module) {
  runSuite({ name: 'hostile_media_addr', cases }).catch((err) => {
    console.log(`hostile_media_addr: FAIL ${err.stack || err}`);
    process.exit(1);
  });
}
