'use strict';
/*
 * Measurement (not a test): what DAVE (E2EE) costs the server, with real
 * @discordjs/voice 0.19.2 + @snazzah/davey 0.1.12 clients in one channel.
 *
 *  1. joins: N members join one after the other (each waits for the one
 *     before to be in the group): the server's CPU per join (utime+stime
 *     from /proc/PID/stat over all the joins / N), and the transition
 *     latency of each join: from the joiner's Ready (its stateChange) to
 *     the last existing member's `transitioned` (op 22 received), p50/p99,
 *     and from the LVSP voice-state request to that `transitioned`.
 *  2. churn: with N members in, C cycles of one member leaving (the others
 *     wait for their new epoch) and joining again (all wait for theirs):
 *     membership changes per second it sustains that way, and the server's
 *     CPU per change.
 *  The same joins with DAVE off (LITECORD_VOICE_DAVE=off) give the
 *  baseline CPU per join; the difference is DAVE's.
 * The clients run in one Node process on the same cores as the server:
 * the latencies include the clients' own MLS work (every member computes
 * a commit for every change), the server's CPU does not.
 *
 *   node tests/bench/dave_bench.js [--members 25] [--cycles 10]
 *        [--build-dir DIR] [--markdown]
 * Prints one JSON line per run, and with --markdown the rows for
 * docs/BENCHMARKS.md. Exit 0 when every run completed.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const nodeDir = path.resolve(__dirname, '..', 'node');
const { sleep, snowflakes } = require(path.join(nodeDir, 'lib', 'checks'));
const TICK_MS = 10; /* /proc/PID/stat times are in USER_HZ = 100 ticks/s */

function parseArgs(argv) {
  const opt = { members: 25, cycles: 10, markdown: false,
    buildDir: process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--members') opt.members = Number(argv[++i]);
    else if (argv[i] === '--cycles') opt.cycles = Number(argv[++i]);
    else if (argv[i] === '--build-dir') opt.buildDir = argv[++i];
    else if (argv[i] === '--markdown') opt.markdown = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return opt;
}

function cpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; /* utime, stime */
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/* ---- client side (child: djs needs the server's CA) ---------------------- */

function epochOf(peer) {
  const nw = peer.conn.state && peer.conn.state.networking;
  const d = nw && nw.state ? nw.state.dave : undefined;
  const s = d && d.session;
  return s && s.ready && s.status === 3 ? String(s.epoch) : null;
}

async function allInOneEpoch(peers, notEpoch, timeoutMs = 20000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const e = peers.map(epochOf);
    if (e[0] && e[0] !== notEpoch && e.every((x) => x === e[0])) return e[0];
    await sleep(5);
  }
  throw new Error(`no common epoch in ${timeoutMs} ms: ${peers.map(epochOf)}`);
}

/* Every peer got op 22 (`transitioned`) after `since`: the change's
 * transition is over everywhere (a common epoch alone comes earlier, at
 * the commit, before the op 23s and op 22). */
async function allTransitioned(peers, since, timeoutMs = 20000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (peers.every((p) => p.transitions.some((t) => t >= since))) return;
    await sleep(5);
  }
  throw new Error(`not every member transitioned in ${timeoutMs} ms`);
}

async function clientMain(cfg) {
  const djs = require(path.join(nodeDir, 'lib', 'djs_adapter'));
  const { LvspClient } = require(path.join(nodeDir, 'lib', 'lvsp_client'));
  const lvsp = await LvspClient.connect(cfg.lvspUrl, { secret: cfg.secret });
  const [guild, channel, ...users] = snowflakes(2 + cfg.members);
  const peers = [];
  let n = 0;
  const join = async (user) => {
    const info = { ...(await lvsp.requestVoiceState({ user_id: user, channel_id: channel, guild_id: guild })),
      guild_id: guild };
    const peer = { info, transitions: [], tReady: null, ...djs.join(info, { group: `b-${n++}` }) };
    peer.conn.on('transitioned', () => peer.transitions.push(performance.now()));
    peer.conn.on('stateChange', (_, next) => {
      if (next.status === djs.voice.VoiceConnectionStatus.Ready && peer.tReady === null) {
        peer.tReady = performance.now();
      }
    });
    await djs.voice.entersState(peer.conn, djs.voice.VoiceConnectionStatus.Ready, 20000);
    return peer;
  };
  const leave = (peer) => {
    peer.conn.destroy();
    lvsp.endVoiceState({ user_id: peer.info.user_id, session_id: peer.info.session_id });
  };
  const out = { dave: cfg.dave, members: cfg.members };
  let epoch = null;
  const latencies = [], fromRequest = [];
  let missed = 0;
  const cpu0 = cpuMs(cfg.pid);
  const t0 = performance.now();
  for (const user of users) {
    const existing = peers.slice();
    const tRequest = performance.now();
    const peer = await join(user);
    peers.push(peer);
    if (!cfg.dave || !existing.length) continue;
    epoch = await allInOneEpoch(peers, epoch);
    await allTransitioned(peers, tRequest);
    const last = existing.map((p) => p.transitions.find((t) => t >= tRequest));
    if (last.some((t) => t === undefined)) {
      missed++;
      continue;
    }
    latencies.push(Math.max(...last) - peer.tReady);
    fromRequest.push(Math.max(...last) - tRequest);
  }
  out.join_wall_s = (performance.now() - t0) / 1000;
  out.cpu_per_join_ms = (cpuMs(cfg.pid) - cpu0) / cfg.members;
  latencies.sort((a, b) => a - b);
  fromRequest.sort((a, b) => a - b);
  Object.assign(out, { transitions: latencies.length, missed, transition_p50_ms: pct(latencies, 50),
    transition_p99_ms: pct(latencies, 99), transition_max_ms: latencies[latencies.length - 1] || null,
    request_to_transitioned_p50_ms: pct(fromRequest, 50), request_to_transitioned_p99_ms: pct(fromRequest, 99) });
  if (cfg.dave && cfg.cycles > 0) {
    const c0 = cpuMs(cfg.pid);
    const t1 = performance.now();
    for (let k = 0; k < cfg.cycles; k++) {
      const i = 1 + (k % (peers.length - 1));
      const [gone] = peers.splice(i, 1);
      const tLeave = performance.now();
      leave(gone);
      epoch = await allInOneEpoch(peers, epoch);
      await allTransitioned(peers, tLeave);
      const tJoin = performance.now();
      const back = await join(gone.info.user_id);
      peers.push(back);
      epoch = await allInOneEpoch(peers, epoch);
      await allTransitioned(peers, tJoin);
    }
    const s = (performance.now() - t1) / 1000;
    out.churn_changes = 2 * cfg.cycles;
    out.churn_per_s = out.churn_changes / s;
    out.cpu_per_change_ms = (cpuMs(cfg.pid) - c0) / out.churn_changes;
    out.final_epoch = epoch;
  }
  for (const p of peers) p.conn.destroy();
  await lvsp.close();
  console.log(`RESULT ${JSON.stringify(out)}`);
  process.exit(0);
}

/* ---- parent ------------------------------------------------------------------ */

async function run(opt, dave) {
  const { startServer, spawnNode } = require(path.join(nodeDir, 'lib', 'server'));
  const srv = await startServer({ buildDir: opt.buildDir, logLevel: 'info',
    env: dave ? {} : { LITECORD_VOICE_DAVE: 'off' } });
  let result = null;
  try {
    const child = spawnNode(__filename, ['--client', JSON.stringify({ lvspUrl: srv.lvspUrl,
      secret: srv.secret, pid: srv.proc.pid, members: opt.members, cycles: opt.cycles, dave })], {
      caFile: srv.certPath,
      onLine: (l) => { if (l.startsWith('RESULT ')) result = JSON.parse(l.slice(7)); else console.error(l); },
    });
    await child.done;
  } finally {
    await srv.stop();
    srv.removeStateDir();
  }
  if (!result) throw new Error(`the ${dave ? 'DAVE' : 'plain'} run gave no result`);
  console.log(JSON.stringify(result));
  return result;
}

function markdown(opt, d, p) {
  const f = (x, n = 1) => (x === null || x === undefined ? '–' : x.toFixed(n));
  const cpu = os.cpus();
  return [
    `${new Date().toISOString().slice(0, 10)}, ${cpu.length} × ${cpu[0] ? cpu[0].model.trim() : '?'}, ` +
    `\`node tests/bench/dave_bench.js --members ${opt.members} --cycles ${opt.cycles}\` (normal build):`,
    '',
    '| run | members | server CPU per join | Ready → transitioned p50 / p99 / max | request → transitioned p50 / p99 | churn (joins + leaves) | server CPU per change |',
    '|---|--:|--:|--:|--:|--:|--:|',
    `| DAVE on | ${d.members} | ${f(d.cpu_per_join_ms)} ms | ${f(d.transition_p50_ms)} / ` +
    `${f(d.transition_p99_ms)} / ${f(d.transition_max_ms)} ms (${d.transitions} joins) | ` +
    `${f(d.request_to_transitioned_p50_ms)} / ${f(d.request_to_transitioned_p99_ms)} ms | ` +
    `${f(d.churn_per_s, 2)} /s (${d.churn_changes} changes) | ${f(d.cpu_per_change_ms)} ms |`,
    `| DAVE off | ${p.members} | ${f(p.cpu_per_join_ms)} ms | – | – | – | – |`,
    '',
  ].join('\n');
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const d = await run(opt, true);
  const p = await run(opt, false);
  if (opt.markdown) console.log(markdown(opt, d, p));
}

if (process.argv[2] === '--client') {
  clientMain(JSON.parse(process.argv[3])).catch((err) => {
    console.log(`FATAL ${err.stack || err}`);
    process.exit(1);
  });
} else {
  main().catch((err) => { console.error(`dave_bench: ${err.stack || err}`); process.exit(1); });
}
