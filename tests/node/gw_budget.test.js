'use strict';
/*
 * Byte budgets of the voice gateway (docs/GATEWAY.md "Budgets"), against
 * the real binary with the default limits: five v8 members of a room that
 * never acknowledge anything (raw gateway clients that read their socket
 * but send no seq_ack) while two members flood 15 KB op 12 messages at the
 * rate limit for FLOOD_MS. A flooder closed by the server (4021: relay
 * budget) identifies again and goes on, as a persistent attacker would.
 *
 * Checked: the server's RSS (VmRSS of /proc/<pid>/status) grows by less
 * than 16 MB in total from before the flood to its end (before the fix
 * every silent peer held up to 512 of those messages: ~8 MB each), and
 * the admin API's budget counters (frontends."discord voice gateway")
 * moved. A memory bound, not a timing assertion: the flood's pace only
 * decides how much is offered.
 *
 * Env: SC_BUILD_DIR (the server). Prints "N passed, N failed".
 */
const fs = require('node:fs');
const path = require('node:path');
const { Checks, run, sleep, snowflakes } = require('./lib/checks');
const { GwClient } = require('./lib/gw_client');
const { LvspClient } = require('./lib/lvsp_client');
const { adminState } = require('./lib/admin_client');
const { startServer } = require('./lib/server');

const SILENT_PEERS = 5;
const FLOODERS = 2;
const FLOOD_MS = 20000;
const BURST = 100;          // of the default 120 messages per 10 s
const PER_SECOND = 11;      // under the default refill of 12/s
const OP12_BYTES = 15000;
const MAX_GROWTH_KB = 16 * 1024;

const c = new Checks('gw_budget');
const servers = [];

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function identifyData(vi) {
  return { server_id: vi.guild_id, user_id: vi.user_id, session_id: vi.session_id, token: vi.token };
}

async function join(ctx, vi) {
  const g = await GwClient.open(ctx.srv.endpoint, { ca: ctx.ca, version: 8 });
  g.send(0, identifyData(vi));
  g.ready = (await g.take(2)).d;
  return g;
}

/* A 15 KB op 12: plausible fields, padded with fields nobody knows. */
function bigVideo(g, who) {
  const base = 1000000 + who * 2;
  return {
    audio_ssrc: g.ready.ssrc, video_ssrc: base, rtx_ssrc: base + 1,
    streams: [{ type: 'video', rid: '100', ssrc: base, rtx_ssrc: base + 1, active: true, quality: 100,
                padding: 'x'.repeat(OP12_BYTES) }],
  };
}

/* One flooder: sends op 12 at the rate limit (acknowledging what it gets,
 * so its own buffer is not the point), re-identifying when closed. */
async function flood(ctx, vi, who, until, stats) {
  while (Date.now() < until) {
    const g = await join(ctx, vi);
    const beat = setInterval(() => {
      const seqs = g.frames.filter((f) => f.seq).map((f) => f.seq);
      g.send(3, { t: Date.now(), seq_ack: seqs.length ? Math.max(...seqs) : -1 });
    }, 2000);
    const t0 = Date.now();
    let sent = 0;
    while (!g.closeInfo && Date.now() < until) {
      const allowed = BURST + Math.floor(((Date.now() - t0) / 1000) * PER_SECOND);
      if (sent < allowed) {
        g.send(12, bigVideo(g, who));
        sent++;
      } else {
        await sleep(20);
      }
      if (sent % 20 === 0) await sleep(0);
    }
    clearInterval(beat);
    stats.sent += sent;
    if (g.closeInfo) stats.closes.push(g.closeInfo.code);
    else await g.close();
  }
}

async function main() {
  const ids = snowflakes(20);
  const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  /* Under ASan freed memory waits in a quarantine (256 MB by default) and
   * would count as growth: the memory bound is about what the server
   * keeps, so the quarantine is turned off here (no effect otherwise). */
  const asan = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=0:thread_local_quarantine_size_kb=0']
    .filter(Boolean).join(':');
  const srv = await startServer({ buildDir: build, env: { ASAN_OPTIONS: asan } });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const ctx = { srv, ca };
  const guild = ids[0], channel = ids[1];
  const state = async (i) => ({ ...(await lvsp.requestVoiceState({ user_id: ids[2 + i], channel_id: channel, guild_id: guild })), guild_id: guild });

  /* Silent peers: v8, read everything, heartbeat without seq_ack. */
  const peers = [];
  for (let i = 0; i < SILENT_PEERS; i++) {
    const g = await join(ctx, await state(i));
    const beat = setInterval(() => g.send(3, { t: Date.now() }), 5000);
    g.closed.then(() => clearInterval(beat));
    peers.push(g);
  }
  const flooders = [];
  for (let i = 0; i < FLOODERS; i++) flooders.push(await state(SILENT_PEERS + i));
  await sleep(500);
  const admin = () => adminState(srv.adminUrl, srv.adminToken());
  const before = (await admin()).frontends['discord voice gateway'];
  const rss0 = rssKb(srv.proc.pid);

  const until = Date.now() + FLOOD_MS;
  const stats = flooders.map(() => ({ sent: 0, closes: [] }));
  let peak = rss0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKb(srv.proc.pid)); }, 200);
  await Promise.all(flooders.map((vi, i) => flood(ctx, vi, i, until, stats[i])));
  await sleep(1000);
  clearInterval(sampler);
  const rss1 = rssKb(srv.proc.pid);
  peak = Math.max(peak, rss1);
  const after = (await admin()).frontends['discord voice gateway'];

  const sent = stats.reduce((a, s) => a + s.sent, 0);
  const got = peers.map((g) => g.seen(12).length);
  const bytesIn = peers.map((g) => g.seen(12).reduce((a, f) => a + JSON.stringify(f).length, 0));
  console.log(`flood: ${sent} op 12 of ${OP12_BYTES} bytes sent; flooder closes by code ${JSON.stringify(stats.map((s) => s.closes.reduce((m, k) => ({ ...m, [k]: (m[k] || 0) + 1 }), {})))}; ` +
    `silent peers got ${JSON.stringify(got)} op 12 (${JSON.stringify(bytesIn)} bytes); ` +
    `RSS ${rss0} -> ${rss1} kB (peak ${peak} kB)`);
  c.ok(sent > 200, `the flood offered ${sent} op 12 messages`);
  c.ok(peak - rss0 < MAX_GROWTH_KB,
    `server RSS grew ${peak - rss0} kB at most with ${SILENT_PEERS} silent v8 peers (limit ${MAX_GROWTH_KB} kB)`);
  const moved = ['resume_over_budget', 'relay_over_budget'].filter((k) => after && before && after[k] > before[k]);
  c.ok(moved.length > 0, `a budget counter moved: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
  c.ok(peers.every((g) => !g.closeInfo || g.closeInfo.code === 4015),
    `silent peers were not closed, or only with 4015 (resume): ${JSON.stringify(peers.map((g) => g.closeInfo && g.closeInfo.code))}`);
  for (const g of peers) if (!g.closeInfo) await g.close();
  await lvsp.close();
}

run('gw_budget', 120000, main, { checks: () => c, servers: () => servers });
