'use strict';
/*
 * v8 buffered resume with real @discordjs/voice clients. A and B talk in
 * one channel (each plays an Opus tone on the 20 ms grid, each subscribes
 * to the other); then B's gateway connection is broken three ways while
 * the audio goes on:
 *   1. its TCP socket is destroyed (no close frame: djs sees 1006);
 *   2. its WebSocket is closed with 1000;
 *   3. its WebSocket is closed with 4015 (what the server sends when it
 *      restarts; here B's side sends it and the server echoes it, so djs
 *      reacts to the code exactly as to a server-sent 4015 — the
 *      server-sent one is in gw_close_codes.test.js).
 * Each time djs must resume (op 7 on a new socket, op 9, back to Ready)
 * without a new Ready (op 2) and without A seeing B leave (op 13), and
 * both directions of audio must go on, byte-identical. Then Litecord ends
 * B's voice state: close 4014, djs goes Disconnected and does not resume.
 *
 * Printed, not asserted: the largest gap between packets of A that B
 * received around each resume (the media path is untouched, so ~20 ms)
 * and the gap in B's own audio at A (djs pauses sending while resuming).
 *
 * The djs side runs in a child process (this file with --client) started
 * with NODE_EXTRA_CA_CERTS = the server's certificate. Env: SC_BUILD_DIR.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sleep, ts, snowflakes } = require('./lib/checks');
const { runClient, runChild, childFailures, finish } = require('./lib/child_run');

const TONE_FRAMES = 100; // 2 s, played in a loop
const SETTLE_MS = 2500;  // audio after each event before the next
const WATCHDOG_MS = 150000;

/* ------------------------------------------------------------------ */
/* Client side (child process).                                        */

/* Plays packets in a loop on the 20 ms grid until stop(); counts what djs
 * actually dispatched (nothing while it is resuming). */
function player(peer, packets) {
  const p = { sent: 0, stopped: false };
  const t0 = performance.now();
  p.done = (async () => {
    for (let i = 0; !p.stopped; i++) {
      const wait = t0 + i * 20 - performance.now();
      if (wait > 0) await sleep(wait);
      if (peer.conn.playOpusPacket(packets[i % packets.length])) p.sent++;
    }
    peer.conn.setSpeaking(false);
  })();
  p.stop = () => { p.stopped = true; return p.done; };
  return p;
}

function networking(conn) { return conn.state.networking; }

/* Resolves when B's networking went Resuming and back to Ready, with the
 * close code djs saw; rejects after timeoutMs. */
function watchResume(conn, timeoutMs) {
  const nw = networking(conn);
  const seen = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      nw.off('stateChange', on);
      reject(new Error(`no resume within ${timeoutMs} ms (states ${JSON.stringify(seen)})`));
    }, timeoutMs);
    function on(oldS, newS) {
      seen.push(newS.code);
      if (newS.code === 4 && seen.includes(5)) {
        clearTimeout(timer);
        nw.off('stateChange', on);
        resolve({ states: seen, at: performance.now() });
      }
    }
    nw.on('stateChange', on);
  });
}

/* The underlying `ws` WebSocket of a Ready djs connection, with the close
 * code it reports recorded in ws.__code. */
function gatewaySocket(conn) {
  const ws = networking(conn).state.ws.ws;
  ws.on('close', (code) => { ws.__code = code; });
  return ws;
}

function maxGap(times, from, to) {
  const t = times.filter((x) => x >= from && x <= to);
  let gap = 0;
  for (let i = 1; i < t.length; i++) gap = Math.max(gap, t[i] - t[i - 1]);
  return { gap: Math.round(gap), packets: t.length };
}

const BREAKS = [
  { name: 'TCP destroyed', act: (ws) => ws._socket.destroy(), want: (c) => c === 1006 },
  { name: 'close 1000', act: (ws) => ws.close(1000), want: (c) => c === 1000 },
  { name: 'close 4015', act: (ws) => ws.close(4015), want: (c) => c === 4015 },
];

async function breakAndResume(c, djs, A, B, brk, subs) {
  const wsBefore = gatewaySocket(B.conn);
  const readyBefore = djs.gatewayFrames(B.debugLines, '<<').filter((f) => f.op === 2).length;
  const resumesBefore = djs.gatewayFrames(B.debugLines, '>>').filter((f) => f.op === 7).length;
  const resumed = watchResume(B.conn, 15000);
  const t0 = performance.now();
  /* A's Speaking goes off and (with its next packet) on again: relays to B
   * that race the break, so some must be re-delivered by the resume. */
  A.conn.setSpeaking(false);
  brk.act(wsBefore);
  const r = await resumed;
  const closeCode = wsBefore.__code;
  c.ok(brk.want(closeCode), `${brk.name}: djs saw close code ${closeCode}`);
  await sleep(SETTLE_MS);
  const inB = djs.gatewayFrames(B.debugLines, '<<');
  const outB = djs.gatewayFrames(B.debugLines, '>>');
  const op7 = outB.filter((f) => f.op === 7);
  c.ok(op7.length === resumesBefore + 1 && typeof op7[op7.length - 1].d.seq_ack === 'number',
    `${brk.name}: B sent op 7 Resume with seq_ack ${op7.length ? op7[op7.length - 1].d.seq_ack : '-'}`);
  c.ok(inB.filter((f) => f.op === 9).length === resumesBefore + 1, `${brk.name}: B got op 9 Resumed`);
  c.ok(inB.filter((f) => f.op === 2).length === readyBefore, `${brk.name}: no new Ready for B`);
  c.ok(networking(B.conn).state.code === 4, `${brk.name}: B back to Ready (states ${JSON.stringify(r.states)})`);
  const op13 = djs.gatewayFrames(A.debugLines, '<<').filter((f) => f.op === 13);
  c.ok(op13.length === 0, `${brk.name}: A saw no op 13 for B (${op13.length})`);
  const aToB = maxGap(subs.bFromA.times, t0 - 1000, performance.now());
  const bToA = maxGap(subs.aFromB.times, t0 - 1000, performance.now());
  const resumeMs = Math.round(r.at - t0);
  c.ok(aToB.packets > 50 && bToA.packets > 50,
    `${brk.name}: audio continues both ways (A->B ${aToB.packets}, B->A ${bToA.packets} packets in the window)`);
  console.log(`${ts()} MEASURE ${brk.name}: resume took ${resumeMs} ms; max gap A->B at B ${aToB.gap} ms, ` +
    `B->A at A ${bToA.gap} ms`);
  return { name: brk.name, resumeMs, gapAtoB: aToB.gap, gapBtoA: bToA.gap };
}

async function endWith4014(c, djs, lvsp, B) {
  const S = djs.voice.VoiceConnectionStatus;
  const outBefore = djs.gatewayFrames(B.debugLines, '>>').filter((f) => f.op === 7).length;
  const disconnected = new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 8000);
    B.conn.on('stateChange', (o, n) => {
      if (n.status === S.Disconnected) { clearTimeout(timer); resolve(n); }
    });
  });
  lvsp.endVoiceState({ user_id: B.userId, session_id: B.info.session_id });
  const d = await disconnected;
  c.ok(d && d.closeCode === 4014, `after LVSP ends B: Disconnected with close code ${d && d.closeCode}`);
  await sleep(1500);
  const outAfter = djs.gatewayFrames(B.debugLines, '>>').filter((f) => f.op === 7).length;
  c.ok(outAfter === outBefore, `no resume after 4014 (op 7 sent ${outAfter - outBefore} times)`);
}

async function scenario(cfg, c, djs, lvsp, peers) {
  const [guild, channel, uA, uB] = snowflakes(4);
  for (const [name, user_id] of [['A', uA], ['B', uB]]) {
    const vi = { ...(await lvsp.requestVoiceState({ user_id, channel_id: channel, guild_id: guild })), guild_id: guild };
    const peer = { name, userId: user_id, info: vi, ...djs.join(vi, { group: `resume-${name}` }) };
    peers.push(peer);
    await djs.voice.entersState(peer.conn, djs.voice.VoiceConnectionStatus.Ready, 15000);
    c.ok(true, `${name} Ready (mode ${djs.encryptionMode(peer.conn)})`);
  }
  const [A, B] = peers;
  const subs = { bFromA: djs.collectOpus(B.conn, A.userId), aFromB: djs.collectOpus(A.conn, B.userId) };
  const { readPackets } = require('./lib/opus_tool');
  const tones = { A: readPackets(cfg.tone440), B: readPackets(cfg.tone660) };
  const play = { A: player(A, tones.A), B: player(B, tones.B) };
  await sleep(SETTLE_MS);
  const results = [];
  for (const brk of BREAKS) {
    const r = await c.step(brk.name, () => breakAndResume(c, djs, A, B, brk, subs));
    if (r) results.push(r);
  }
  await play.A.stop();
  await play.B.stop();
  await sleep(500);
  for (const [rx, tx, sub] of [['B', 'A', subs.bFromA], ['A', 'B', subs.aFromB]]) {
    const sent = new Set(tones[tx].map((p) => p.toString('hex')));
    const intact = sub.packets.filter((p) => sent.has(p.toString('hex'))).length;
    /* Which packet was not one of the tone's frames, to tell a client's own
     * frame (e.g. silence) from a damaged one. */
    const odd = sub.packets.findIndex((p) => !sent.has(p.toString('hex')));
    const oddText = odd < 0 ? '' : `; first other packet #${odd} of ${sub.packets.length}, ` +
      `${sub.packets[odd].length} bytes: ${sub.packets[odd].subarray(0, 48).toString('hex')}`;
    c.ok(sub.packets.length > 300 && intact === sub.packets.length,
      `${rx} received ${sub.packets.length} packets of ${tx} (${play[tx].sent} dispatched), ${intact} byte-identical${oddText}`);
  }
  /* Across three resumes B got every numbered message once, in order. */
  const seqs = djs.gatewayFrames(B.debugLines, '<<').filter((f) => f.seq).map((f) => f.seq);
  const gaps = seqs.filter((q, i) => q !== i + 1);
  c.ok(seqs.length > 10 && gaps.length === 0,
    `B's numbered messages: ${seqs.length}, seq 1..${seqs[seqs.length - 1]} without gap or repeat ` +
    `(${JSON.stringify(seqs)})`);
  await c.step('4014', () => endWith4014(c, djs, lvsp, B));
  return results;
}

function clientMain(cfg) {
  runClient(cfg, 'resume', scenario, { watchdogMs: WATCHDOG_MS - 20000 });
}

/* ------------------------------------------------------------------ */
/* Orchestrator (parent process).                                      */

async function main() {
  const watchdog = setTimeout(() => { console.log('gw_resume: FAIL (timed out)'); process.exit(1); }, WATCHDOG_MS);
  watchdog.unref();
  const { startServer } = require('./lib/server');
  const { toneFiles } = require('./lib/opus_tool');
  const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-resume-'));
  const { tone440, tone660 } = toneFiles(build, workDir, TONE_FRAMES);
  /* Without DAVE: @discordjs/voice 0.19.2 hands E2EE frames to the app
   * undecrypted while its connection is not Ready (during a resume), and
   * this test wants every packet byte-identical across resumes. DAVE with
   * a resume: dave_e2e.test.js. */
  const srv = await startServer({ buildDir: build, env: { LITECORD_VOICE_DAVE: 'off' } });
  const result = await runChild(__filename, srv, {
    workDir, lvspUrl: srv.lvspUrl, secret: srv.secret, tone440, tone660 });
  const failures = await childFailures(srv, result);
  const replays = fs.readFileSync(srv.logPath, 'utf8').split('\n').filter((l) => /resumed;/.test(l));
  for (const l of replays) console.log(`server: ${l}`);
  if (replays.length !== BREAKS.length) failures.push(`server logged ${replays.length} resumes`);
  for (const r of (result && result.results) || []) {
    console.log(`gw_resume: ${r.name}: resume ${r.resumeMs} ms, max audio gap A->B ${r.gapAtoB} ms, ` +
      `B->A ${r.gapBtoA} ms`);
  }
  finish('gw_resume', srv, workDir, result, failures, 60);
}

if (process.argv[2] === '--client') clientMain(JSON.parse(process.argv[3]));
else main().catch((err) => { console.log(`gw_resume: FAIL ${err.stack || err}`); process.exit(1); });
