'use strict';
/*
 * One room, every dialect (issue 17 point 3): a real @discordjs/voice
 * 0.19.2 member with DAVE (@snazzah/davey), a Discord-webrtc browser (the
 * "Discord web client" page, lib/webrtc_page.html, its gateway spoken
 * here), and the seed dialects' own clients in the same headless Chromium:
 * mediasoup-client (Vortex, lib/vortex_peer.js), the Galène client
 * (lib/galene_peer.js) and ion-sdk-js (lib/ion_peer.js). Each member sends
 * its own tone (djs 440 Hz Opus from libopus, the browsers WebAudio sines
 * at 550, 660, 770, 880 Hz).
 *
 * Checked:
 *   - DAVE: the djs member alone is at protocol 1; the first foreign
 *     member puts it at 0 (and /state's call at 0, with every foreign
 *     member counted), the webrtc browser is told 0 in op 4;
 *   - everyone hears everyone, over one window in which the djs member
 *     plays 6 s and the browsers play on: for each receiver and each other
 *     member, the receiver's packets of that member (browsers: inbound-rtp
 *     for the member's SSRC; djs: its receiver's stream of the user) are
 *     >= 95 % of what the server received from that member (/state
 *     rx_packets, read inside the receivers' window), browsers' decoded
 *     audio of it has energy, and libopus decodes what djs got of each
 *     member to that member's tone (+- 5 Hz).
 * A receiver that misses anyone fails the test. Everything runs in the
 * child (djs needs the server's CA). Env: SC_BUILD_DIR, CHROMIUM. Exit 0 = pass.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sleep, snowflakes } = require('./lib/checks');
const { runClient, runChild, childFailures, finish } = require('./lib/child_run');
const { daveOf, joinPeer, daveAdmin } = require('./lib/dave');

const WATCHDOG_MS = 170000;
const TALK_FRAMES = 300; /* the djs member's 6 s in the window */
const MIN_RATIO = 0.95;
const HZ_TOLERANCE = 5;
const DJS_HZ = 440;
const WEB_HZ = 550;
/* The seed dialects in the room: each lib exports startPeer(browser, srv, vs, {freq}). */
const DIALECTS = [
  { name: 'vortex', lib: './lib/vortex_peer', hz: 660 },
  { name: 'galene', lib: './lib/galene_peer', hz: 770 },
  { name: 'ion', lib: './lib/ion_peer', hz: 880 },
];

/* ---- client side (child) ----------------------------------------------------- */

async function waitFor(cond, timeoutMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await cond()) return Date.now() - t0;
    await sleep(100);
  }
  return -1;
}

/* The Discord-webrtc browser: its gateway here, its media in the page.
 * Joins last, so op 5 has named every other member before it answers. */
async function startWebMember(cfg, ch, vs, others) {
  const { GwClient } = require('./lib/gw_client');
  const g = await GwClient.open(cfg.endpoint, { ca: fs.readFileSync(cfg.ca), version: 8 });
  const hello = await g.take(8);
  const hb = setInterval(() => g.send(3, { t: Date.now(), seq_ack: -1 }), Math.floor(hello.d.heartbeat_interval * 0.8));
  g.send(0, { server_id: vs.guild_id, user_id: vs.user_id, session_id: vs.session_id, token: vs.token });
  await g.take(2);
  const { id, d } = await ch.page.evaluate((hz) => startClient({ video: false, hz }), WEB_HZ);
  g.send(1, d);
  const op4 = await g.take(4);
  const remotes = [];
  for (const o of others) {
    const op5 = await g.take(5, { pred: (f) => f.d && f.d.user_id === o.vs.user_id });
    remotes.push({ user_id: o.vs.user_id, ssrc: op5.d.ssrc, kind: 'audio' });
  }
  /* One offered audio section: the others get recvonly sections, as
   * Discord's client adds them for the streams op 5 announced. */
  const applied = await ch.page.evaluate((i, sdp, r) => applyAnswer(i, sdp, r), id, op4.d.sdp, remotes);
  if (!applied.ok) throw new Error(`webrtc answer refused: ${applied.error}`);
  const again = await ch.page.evaluate((i, r) => renegotiate(i, r), id, remotes);
  if (!again.ok) throw new Error(`webrtc renegotiation refused: ${again.error}`);
  const stats = () => ch.page.evaluate((i) => clientStats(i), id);
  await waitFor(async () => (await stats()).connectionState === 'connected', 15000);
  const out = (await stats()).outbound[0];
  g.send(5, { speaking: 1, delay: 0, ssrc: out ? out.ssrc : 0 });
  return {
    op4: op4.d,
    inbound: async () => (await stats()).inbound,
    async close() {
      clearInterval(hb);
      await ch.page.evaluate((i) => closeClient(i), id).catch(() => {});
      g.kill();
    },
  };
}

/* The room's members in /state: user id -> { ssrc, rx } (rx_packets). */
async function roomCounts(cfg, channel) {
  const { adminState } = require('./lib/admin_client');
  const st = await adminState(cfg.adminUrl, cfg.adminToken);
  const ch = st.channels.find((c) => c.id === channel);
  return new Map((ch ? ch.members : []).map((m) => [m.user_id, { ssrc: m.ssrc, rx: m.stats.rx_packets }]));
}

/* What each receiver has of each sender now: receiver name -> user id ->
 * { packets, energy } (djs: packets its receiver delivered, no energy). */
async function receiverView(members) {
  const view = new Map();
  for (const r of members) {
    const per = new Map();
    if (r.kind === 'djs') {
      for (const [user, got] of r.got) per.set(user, { packets: got.packets.length, energy: null });
    } else {
      const inbound = await r.peer.inbound();
      for (const s of members) {
        /* A Vortex consumer has its own SSRC: its stats name the user. */
        const st = inbound.find((i) => (i.userId ? i.userId === s.vs.user_id : i.ssrc === s.ssrc));
        if (st) per.set(s.vs.user_id, { packets: st.packetsReceived, energy: st.totalAudioEnergy });
      }
    }
    view.set(r.name, per);
  }
  return view;
}

async function joinDialects(cfg, c, ch, members, info, users, D) {
  for (const [i, dl] of DIALECTS.entries()) {
    const { startPeer } = require(dl.lib);
    const vs = await info(users[i]);
    const peer = await startPeer(ch.browser, { ports: cfg.ports }, vs, { freq: dl.hz });
    members.push({ name: dl.name, kind: dl.name, vs, hz: dl.hz, peer });
    if (i === 0) {
      const ms = await waitFor(() => daveOf(D.conn).protocolVersion === 0, 10000);
      c.ok(ms >= 0, `${dl.name} joined: the djs member went to DAVE protocol ${daveOf(D.conn).protocolVersion}`);
    }
  }
}

/* Everyone hears everyone over one window (see the top comment). */
async function hearEveryone(cfg, c, djs, members, channel, tones) {
  const D = members[0];
  const { opusTool } = require('./lib/opus_tool');
  /* The browsers talk from their join on; the djs member only in the window. */
  const everyone = () => receiverView(members).then((v) => members.every((r) =>
    members.every((s) => s === r || s.kind === 'djs' || (v.get(r.name).get(s.vs.user_id) || { packets: 0 }).packets > 0)));
  const ms = await waitFor(everyone, 20000);
  c.ok(ms >= 0, `every member receives every browser member (${ms} ms after the last joined)`);
  const djsFrom = new Map([...D.got].map(([u, g]) => [u, g.packets.length]));
  const r0 = await receiverView(members);
  const s0 = await roomCounts(cfg, channel);
  const sent = await djs.playOpus(D.conn, tones);
  await sleep(500);
  const s1 = await roomCounts(cfg, channel);
  const r1 = await receiverView(members);
  c.ok(sent === tones.length, `the djs member played ${sent} frames in the window`);
  for (const r of members) {
    for (const s of members) {
      if (s === r) continue;
      const u = s.vs.user_id;
      const want = s1.get(u).rx - s0.get(u).rx;
      const a = r0.get(r.name).get(u) || { packets: 0, energy: 0 };
      const b = r1.get(r.name).get(u) || { packets: 0, energy: 0 };
      const got = b.packets - a.packets;
      let sound = '';
      let heard = got >= MIN_RATIO * want && want > 0;
      if (r.kind === 'djs') {
        const pkts = D.got.get(u).packets.slice(djsFrom.get(u));
        const an = pkts.length ? opusTool(cfg.buildDir).analyzePackets(pkts, path.join(cfg.workDir, `djs-from-${s.name}.opus`))
          : { dominant_hz: 0, rms: 0 };
        heard = heard && Math.abs(an.dominant_hz - s.hz) <= HZ_TOLERANCE;
        sound = `decoded to ${an.dominant_hz} Hz (sent ${s.hz}), rms ${an.rms}`;
      } else {
        heard = heard && b.energy > a.energy;
        sound = `audio energy ${a.energy} -> ${b.energy}`;
      }
      c.ok(heard, `${r.name} hears ${s.name}: ${got} of the ${want} packets the server got from it, ${sound}`);
    }
  }
}

async function scenario(cfg, c, djs, lvsp, peers, ctx) {
  const { readPackets } = require('./lib/opus_tool');
  const { launchChromium } = require('./lib/chromium');
  const tones = readPackets(cfg.tone440).slice(0, TALK_FRAMES);
  const [guild, channel, ud, uw, ...users] = snowflakes(4 + DIALECTS.length);
  const info = async (user) => ({
    ...(await lvsp.requestVoiceState({ user_id: user, channel_id: channel, guild_id: guild })),
    guild_id: guild,
  });
  const D = await joinPeer(djs, 'djs', await info(ud), peers);
  await waitFor(() => daveOf(D.conn).protocolVersion !== undefined, 5000);
  c.ok(daveOf(D.conn).protocolVersion === 1, `the djs member alone: DAVE protocol ${daveOf(D.conn).protocolVersion}`);
  const members = [{ name: 'djs', kind: 'djs', vs: D.info, hz: DJS_HZ, conn: D.conn }];
  ctx.members = members;
  ctx.ch = await launchChromium();
  await joinDialects(cfg, c, ctx.ch, members, info, users, D);
  const vw = await info(uw);
  const web = await startWebMember(cfg, ctx.ch, vw, [...members]);
  members.push({ name: 'discord-webrtc', kind: 'webrtc', vs: vw, hz: WEB_HZ, peer: web });
  c.ok(web.op4.dave_protocol_version === 0, `the webrtc browser is told DAVE protocol ${web.op4.dave_protocol_version}`);

  const counts = await roomCounts(cfg, channel);
  for (const m of members) m.ssrc = counts.get(m.vs.user_id).ssrc;
  members[0].got = new Map(members.slice(1).map((m) => [m.vs.user_id, djs.collectOpus(D.conn, m.vs.user_id)]));
  const st = (await daveAdmin(cfg)).channels[channel];
  c.ok(st && st.version === 0 && st.foreign_members === DIALECTS.length && st.members === 2,
    `/state: the call at DAVE protocol 0 with ${DIALECTS.length} foreign members: ${JSON.stringify(st)}`);
  await hearEveryone(cfg, c, djs, members, channel, tones);
  c.ok(daveOf(D.conn).protocolVersion === 0, 'the djs member stayed at protocol 0 while foreign members were here');
  for (const m of members.slice(1)) await m.peer.close();
  await ctx.ch.close();
  ctx.ch = null;
}

function clientMain(cfg) {
  runClient(cfg, 'mixed_room', scenario, {
    watchdogMs: WATCHDOG_MS - 10000,
    cleanup: (ctx) => { if (ctx.ch) ctx.ch.close(); },
  });
}

/* ---- parent ------------------------------------------------------------------ */

async function main() {
  const watchdog = setTimeout(() => { console.log('mixed_room: FAIL (timed out)'); process.exit(1); }, WATCHDOG_MS);
  watchdog.unref();
  const { startServer } = require('./lib/server');
  const { toneFiles } = require('./lib/opus_tool');
  const buildDir = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mixed-room-'));
  const { tone440 } = toneFiles(buildDir, workDir, TALK_FRAMES);
  const srv = await startServer({ buildDir });
  const result = await runChild(__filename, srv, {
    workDir, buildDir, lvspUrl: srv.lvspUrl, secret: srv.secret, tone440, ports: srv.ports,
    endpoint: srv.endpoint, ca: srv.certPath, adminUrl: srv.adminUrl, adminToken: srv.adminToken() });
  finish('mixed_room', srv, workDir, result, await childFailures(srv, result));
}

if (process.argv[2] === '--client') clientMain(JSON.parse(process.argv[3]));
else main().catch((err) => { console.log(`mixed_room: FAIL ${err.stack || err}`); process.exit(1); });
