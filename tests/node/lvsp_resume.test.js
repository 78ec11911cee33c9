'use strict';
/*
 * The control link fails while people talk; nobody is dropped, and
 * Litecord gets back exactly what it missed. Then a move with real clients.
 *
 * With real @discordjs/voice clients A and B in channel C1 (X in C2):
 *  1. A plays a 440 Hz tone to B. Meanwhile the Litecord stand-in (later
 *     dialect) stops reading its socket, sends CHANNEL_REQ C3 and two
 *     VST_CREATEs (the server answers them: the admin API shows the new
 *     states), and its TCP connection is killed.
 *  2. With the link down, the admin API shows it down and A and B still
 *     connected; the tone keeps flowing: B receives >= 95 % of it, intact
 *     and at 440 Hz.
 *  3. A new connection RESUMEs from the last "s" the stand-in saw: it gets
 *     exactly the three answers it missed (same frames, same "s"), in
 *     order, none it had already seen, then READY; the link works on.
 *  4. VST_UPDATE moves A to C2: A's connection is closed with 4014, B gets
 *     op 13 for A, the stand-in gets new credentials; A rejoins with them
 *     and its next tone reaches X in C2 (and no longer B).
 * The djs side runs in a child (this file with --client) that trusts the
 * server's self-signed certificate. Env: SC_BUILD_DIR.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Checks, run, sleep, ts, snowflakes } = require('./lib/checks');

const TONE_FRAMES = 200; // 4 s
const SHORT_FRAMES = 100; // 2 s
const MIN_RATIO = 0.95;

/* ---------------- child: stand-in + djs clients ---------------- */

async function play(conn, packets) {
  const t0 = performance.now();
  let sent = 0;
  for (let i = 0; i < packets.length; i++) {
    const wait = t0 + i * 20 - performance.now();
    if (wait > 0) await sleep(wait);
    if (conn.playOpusPacket(packets[i])) sent++;
  }
  conn.setSpeaking(false);
  return sent;
}

function subscribe(djs, rx, userId) {
  const got = [];
  const stream = rx.conn.receiver.subscribe(userId, { end: { behavior: djs.voice.EndBehaviorType.Manual } });
  stream.on('data', (p) => got.push(Buffer.from(p)));
  return got;
}

async function joinReady(djs, name, info, c) {
  const peer = { name, ...djs.join(info, { group: `resume-${name}` }) };
  await djs.voice.entersState(peer.conn, djs.voice.VoiceConnectionStatus.Ready, 15000);
  c.ok(true, `${name} reached Ready`);
  return peer;
}

function checkTone(c, cfg, what, got, sent, packets, hz) {
  const sentSet = new Set(packets.map((p) => p.toString('hex')));
  const intact = got.filter((p) => sentSet.has(p.toString('hex'))).length;
  c.ok(sent === packets.length && got.length >= MIN_RATIO * sent && intact === got.length,
    `${what}: received ${got.length}/${sent} packets, ${intact} byte-identical`);
  if (!got.length) return;
  const { opusTool } = require('./lib/opus_tool');
  const a = opusTool(cfg.buildDir).analyzePackets(got, path.join(cfg.workDir, `${what.replace(/\W+/g, '_')}.opus`));
  c.ok(Math.abs(a.dominant_hz - hz) <= 5, `${what}: decoded audio peaks at ${a.dominant_hz} Hz (want ${hz})`);
}

/* Step 1 + 3: requests sent while not reading, link killed, RESUME. */
async function cutAndResume(c, cfg, lv, ids, admin) {
  const { LvspClient, OP, INFO_LATER } = require('./lib/lvsp_client');
  const seen = lv.maxSeq;
  const seenSeqs = new Set(lv.frames.map((m) => m.s));
  lv.pauseReading();
  lv.info(INFO_LATER.CHANNEL_REQ, { channel_id: ids.C3, guild_id: ids.G });
  lv.info(INFO_LATER.VST_CREATE, { user_id: ids.Y, channel_id: ids.C3, guild_id: ids.G });
  lv.info(INFO_LATER.VST_CREATE, { user_id: ids.Z, channel_id: ids.C3, guild_id: ids.G });
  const processed = await admin.waitFor((st) => st.voice_states === 5);
  c.ok(processed, 'the server handled the three requests sent while the stand-in was not reading');
  lv.kill();
  await lv.closed;
  const down = await admin.waitFor((st) => !st.frontends.lvsp.connected);
  const st = await admin.state();
  const live = st.channels.flatMap((ch) => ch.members).filter((m) => m.connected).map((m) => m.user_id);
  c.ok(down && [ids.A, ids.B, ids.X].every((u) => live.includes(u)),
    `link down: admin shows LVSP disconnected, voice clients still connected (${live.length})`);
  await sleep(1000); // the tone keeps flowing with the link down
  const r = await LvspClient.open(cfg.lvspUrl, {});
  const { replayed } = await r.resume({ secret: cfg.secret, auth: 'hmac', seq: seen });
  const shape = replayed.map((m) => `${m.op}/${m.d.type}/${(m.d.data || {}).user_id || (m.d.data || {}).channel_id}`);
  const want = [`${OP.INFO}/${INFO_LATER.CHANNEL_ASSIGN}/${ids.C3}`, `${OP.INFO}/${INFO_LATER.VST_CREATE}/${ids.Y}`,
    `${OP.INFO}/${INFO_LATER.VST_CREATE}/${ids.Z}`];
  c.ok(JSON.stringify(shape) === JSON.stringify(want), `RESUME replayed exactly what was missed, in order: ${JSON.stringify(shape)}`);
  const seqs = replayed.map((m) => m.s);
  c.ok(seqs.every((s, i) => s > seen && !seenSeqs.has(s) && (i === 0 || s > seqs[i - 1])),
    `replayed "s" ${JSON.stringify(seqs)} all after ${seen}, increasing, none seen before`);
  const ack = await r.heartbeat(5);
  c.ok(ack.s === 5 && typeof ack.health === 'number', `resumed link answers heartbeats: ${JSON.stringify(ack)}`);
  return r;
}

/* Step 4: move A to C2 with real clients. */
async function moveA(c, cfg, djs, ctx) {
  const { INFO_LATER } = require('./lib/lvsp_client');
  const { A, B, X, lv, ids } = ctx;
  const S = djs.voice.VoiceConnectionStatus;
  const disconnected = new Promise((resolve) => {
    A.conn.on('stateChange', (o, n) => { if (n.status === S.Disconnected) resolve(n); });
  });
  const reply = await lv.vstCreate({ user_id: ids.A, guild_id: ids.G, channel_id: ids.C2 }, 10000, INFO_LATER.VST_UPDATE);
  const n = await Promise.race([disconnected, sleep(8000).then(() => null)]);
  c.ok(n && n.closeCode === 4014, `A after the move: ${n ? `Disconnected, close code ${n.closeCode}` : 'not Disconnected in 8 s'} (want 4014)`);
  await sleep(300);
  const op13 = djs.gatewayFrames(B.debugLines, '<<').some((f) => f.op === 13 && f.d && f.d.user_id === ids.A);
  c.ok(op13, 'B (old room) got op 13 for A');
  ctx.infoA = { ...reply.d.data, guild_id: ids.G };
  c.ok(ctx.infoA.channel_id === ids.C2 && ctx.infoA.session_id !== ctx.firstSessionA, 'the stand-in got new credentials for A in C2');
  A.conn.rejoin({ channelId: ids.C2 });
  await djs.voice.entersState(A.conn, S.Ready, 15000);
  c.ok(true, 'A rejoined in C2 with the new credentials');
  const xGot = subscribe(djs, X, ids.A);
  const bBefore = ctx.bGot.length;
  const sent = await play(A.conn, ctx.short);
  await sleep(800);
  checkTone(c, cfg, 'X <- A after the move', xGot, sent, ctx.short, 660);
  c.ok(ctx.bGot.length === bBefore, `B got nothing of A after the move (${ctx.bGot.length - bBefore})`);
}

async function clientBody(cfg, c) {
  const djs = require('./lib/djs_adapter');
  const { LvspClient } = require('./lib/lvsp_client');
  const { readPackets } = require('./lib/opus_tool');
  const { adminState } = require('./lib/admin_client');
  const [G, C1, C2, C3, A, B, X, Y, Z] = snowflakes(9);
  const ids = { G, C1, C2, C3, A, B, X, Y, Z };
  const admin = {
    state: () => adminState(cfg.adminUrl, cfg.adminToken),
    async waitFor(pred) {
      for (let i = 0; i < 100; i++) {
        if (pred(await this.state())) return true;
        await sleep(50);
      }
      return false;
    },
  };
  const lv = await LvspClient.connect(cfg.lvspUrl, { secret: cfg.secret, auth: 'hmac' });
  const ctx = { ids, lv, peers: [] };
  await lv.channelReq({ channel_id: C1, guild_id: G });
  await lv.channelReq({ channel_id: C2, guild_id: G });
  const info = {};
  for (const [u, ch] of [[A, C1], [B, C1], [X, C2]]) info[u] = { ...(await lv.vstCreate({ user_id: u, channel_id: ch, guild_id: G })).d.data, guild_id: G };
  ctx.infoA = info[A];
  ctx.firstSessionA = info[A].session_id;
  try {
    ctx.A = await joinReady(djs, 'A', () => ctx.infoA, c);
    ctx.B = await joinReady(djs, 'B', info[B], c);
    ctx.X = await joinReady(djs, 'X', info[X], c);
    ctx.peers.push(ctx.A, ctx.B, ctx.X);
    ctx.bGot = subscribe(djs, ctx.B, A);
    const tone = readPackets(cfg.tone440);
    ctx.short = readPackets(cfg.tone660);
    const playing = play(ctx.A.conn, tone);
    await sleep(800);
    ctx.lv = await c.step('cut and resume', () => cutAndResume(c, cfg, lv, ids, admin));
    const sent = await playing;
    await sleep(800);
    checkTone(c, cfg, 'B <- A across the LVSP cut', ctx.bGot, sent, tone, 440);
    if (ctx.lv) await c.step('move', () => moveA(c, cfg, djs, ctx));
  } finally {
    for (const p of ctx.peers) {
      fs.writeFileSync(path.join(cfg.workDir, `djs-${p.name}.log`), p.debugLines.join('\n'));
      p.conn.destroy();
    }
    if (ctx.lv) await ctx.lv.close();
  }
}

async function clientMain(cfg) {
  const c = new Checks('resume');
  try {
    await clientBody(cfg, c);
  } catch (err) {
    c.ok(false, `fatal: ${err.stack || err}`);
  }
  console.log(`RESULT ${JSON.stringify({ passed: c.passed, failures: c.failures })}`);
  process.exit(0);
}

/* ---------------- parent: server, tones, child ---------------- */

async function main(c, servers) {
  const { startServer, spawnNode } = require('./lib/server');
  const { opusTool } = require('./lib/opus_tool');
  const buildDir = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvsp-resume-'));
  const tool = opusTool(buildDir);
  const tone440 = path.join(workDir, 'tone440.opus');
  const tone660 = path.join(workDir, 'tone660.opus');
  tool.encode(440, TONE_FRAMES, tone440);
  tool.encode(660, SHORT_FRAMES, tone660);
  const srv = await startServer({ buildDir });
  servers.push(srv);
  const cfg = { buildDir, workDir, tone440, tone660, lvspUrl: srv.lvspUrl, secret: srv.secret,
    adminUrl: srv.adminUrl, adminToken: srv.adminToken() };
  let result = null;
  const child = spawnNode(__filename, ['--client', JSON.stringify(cfg)], {
    caFile: srv.certPath,
    onLine: (l) => { if (l.startsWith('RESULT ')) result = JSON.parse(l.slice(7)); else console.log(l); },
  });
  const exit = await child.done;
  if (!result) c.ok(false, `client exited ${JSON.stringify({ code: exit.code, signal: exit.signal })} without a result`);
  else {
    c.passed += result.passed;
    c.failures.push(...result.failures);
  }
  if (!c.failures.length) fs.rmSync(workDir, { recursive: true, force: true });
  else console.log(`${ts()} logs kept in ${workDir}`);
}

if (process.argv[2] === '--client') {
  clientMain(JSON.parse(process.argv[3]));
} else {
  const c = new Checks('resume');
  const servers = [];
  run('lvsp_resume', 170000, () => main(c, servers), { checks: () => c, servers: () => servers });
}
