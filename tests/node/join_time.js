'use strict';
/*
 * Measurement (not a test): join latency of litecord-voice.
 *
 * Starts the server, connects the LVSP stand-in, then does N sequential
 * joins with the raw gateway client: VST_REQUEST over LVSP -> Identify ->
 * Ready -> UDP IP discovery -> Select Protocol -> Session Description.
 * Prints per-join times, the median and p90 of VST_REQUEST -> op 4, and a
 * final JSON line.
 *
 *   node join_time.js [--joins 20] [--build-dir DIR] [--modes LIST]
 *                     [--auth hmac|plain] [-- extra server args...]
 * SC_BUILD_DIR is used when --build-dir is absent (default: ../../build).
 * Exit status 0 when every join completed.
 */
const fs = require('node:fs');
const path = require('node:path');
const { startServer } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { rawJoin } = require('./lib/raw_voice_client');

function parseArgs(argv) {
  const opt = {
    joins: 20,
    buildDir: process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build'),
    modes: null,
    auth: 'hmac',
    extraArgs: [],
  };
  const setters = {
    '--joins': (v) => { opt.joins = Number(v); },
    '--build-dir': (v) => { opt.buildDir = v; },
    '--modes': (v) => { opt.modes = v; },
    '--auth': (v) => { opt.auth = v; },
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') { opt.extraArgs = argv.slice(i + 1); break; }
    const set = setters[argv[i]];
    if (!set || i + 1 >= argv.length) throw new Error(`unknown or incomplete option ${argv[i]}`);
    set(argv[++i]);
  }
  if (!Number.isInteger(opt.joins) || opt.joins < 1) throw new Error('--joins must be a positive integer');
  return opt;
}

/* Nearest-rank percentile of a sorted array, p in (0, 100]. */
function percentile(sorted, p) {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function oneJoin(lvsp, ca, ids, i, mode) {
  const user_id = (ids.base + BigInt(i)).toString();
  const t0 = performance.now();
  const info = await lvsp.requestVoiceState({ user_id, channel_id: ids.channel, guild_id: ids.guild });
  const tInfo = performance.now();
  const vc = await rawJoin({ ...info, guild_id: ids.guild }, { ca, mode });
  const r = {
    total: vc.times.op4 - t0,
    lvsp: tInfo - t0,
    connect: vc.times.open - tInfo,
    ready: vc.times.ready - vc.times.open,
    discovery: vc.times.discovery - vc.times.ready,
    op4: vc.times.op4 - vc.times.discovery,
    mode: vc.session.mode,
  };
  lvsp.endVoiceState({ user_id, session_id: info.session_id });
  await vc.close();
  return r;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const srv = await startServer({ buildDir: opt.buildDir, modes: opt.modes, logLevel: 'info', extraArgs: opt.extraArgs });
  const ca = fs.readFileSync(srv.certPath);
  const results = [];
  try {
    const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: opt.auth, ca });
    const base = BigInt(Date.now() - 1420070400000) << 22n;
    const ids = { guild: (base + 1n).toString(), channel: (base + 2n).toString(), base: base + 100n };
    for (let i = 0; i < opt.joins; i++) {
      const r = await oneJoin(lvsp, ca, ids, i, null);
      results.push(r);
      console.log(`join ${String(i + 1).padStart(2)}: VST_REQUEST->op4 ${r.total.toFixed(2)} ms ` +
        `(lvsp ${r.lvsp.toFixed(2)}, wss connect ${r.connect.toFixed(2)}, identify->ready ${r.ready.toFixed(2)}, ` +
        `discovery ${r.discovery.toFixed(2)}, select->op4 ${r.op4.toFixed(2)}) mode ${r.mode}`);
    }
    await lvsp.close();
  } finally {
    await srv.stop();
  }
  srv.removeStateDir();
  const sorted = results.map((r) => r.total).sort((a, b) => a - b);
  const summary = {
    joins: sorted.length,
    median_ms: Number(percentile(sorted, 50).toFixed(2)),
    p90_ms: Number(percentile(sorted, 90).toFixed(2)),
    min_ms: Number(sorted[0].toFixed(2)),
    max_ms: Number(sorted[sorted.length - 1].toFixed(2)),
  };
  console.log(`join time VST_REQUEST->op 4 over ${summary.joins} joins: median ${summary.median_ms} ms, ` +
    `p90 ${summary.p90_ms} ms (min ${summary.min_ms}, max ${summary.max_ms})`);
  console.log(JSON.stringify(summary));
}

main().catch((err) => {
  console.error(`join_time: ${err.stack || err}`);
  process.exit(1);
});
