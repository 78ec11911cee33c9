#!/usr/bin/env node
'use strict';
/*
 * Soak: many simulated sessions against one server for a long time, with
 * churn, watching the server's memory. Run by contrib/soak.sh (30 min,
 * 500 sessions) and, short, by fault_soak.test.js in every CI run.
 *
 * Each session is a real client (lib/media_client.js): a voice state made
 * over LVSP, Identify on the gateway, IP discovery, Select Protocol,
 * heartbeats, and encrypted RTP. Rooms of --room-size members have
 * --speakers speakers sending 50 packets/s; every member receives and
 * verifies (decrypts) one packet in --verify-every. Every 6 s a share of
 * the listeners leaves (LVSP ends the voice state, the server closes the
 * socket with 4014) and joins again with a new voice state, so the run
 * keeps allocating and freeing sessions, ciphers and media members.
 *
 * Every --sample-s seconds the server's RSS (VmRSS), open fds and threads
 * are read from /proc. RSS drift = (mean of the last 3 samples - mean of
 * the 3 samples after the warm-up) / the latter. The run fails if a join
 * fails beyond 1 %, delivery falls below --min-delivery, a verified packet
 * does not decrypt, the drift exceeds --max-drift (when given), the
 * server dies, exits non-zero, or reports a sanitizer error.
 *
 *   node tests/node/soak.js --sessions 500 --minutes 30 [--json out.json]
 *                           [--server-args "--lvsp-replay 0 ..."]
 */
const fs = require('node:fs');
const path = require('node:path');
const { startServer, sleep } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { MediaClient } = require('./lib/media_client');
const { snowflake } = require('./lib/ids');

const DEFAULTS = {
  sessions: 500, minutes: 30, 'room-size': 10, speakers: 1, 'churn-per-min': 0.1,
  'sample-s': 5, 'warmup-s': 0, 'max-drift': null, 'min-delivery': 0.9, 'verify-every': 10,
  'join-batch': 20, json: null, 'server-args': '',
};

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in DEFAULTS)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = k === 'json' || k === 'server-args' ? argv[i + 1] : Number(argv[i + 1]);
  }
  if (!o['warmup-s']) o['warmup-s'] = Math.min(120, Math.round(o.minutes * 60 * 0.2));
  return o;
}


function procSample(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((new RegExp(`${k}:\\s+(\\d+)`).exec(status) || [])[1]);
  return { t: Date.now(), rssKb: kb('VmRSS'), threads: kb('Threads'), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

class Soak {
  constructor(o, srv, ca) {
    Object.assign(this, { o, srv, ca });
    this.rooms = [];
    this.counts = { joins: 0, joinFailures: 0, churned: 0, sent: 0 };
    this.samples = [];
    this.retired = { received: 0, verified: 0, undecryptable: 0 };
  }

  async connectLvsp() {
    this.lvsp = await LvspClient.connect(this.srv.lvspUrl, { secret: this.srv.secret, ca: this.ca });
    let s = 0;
    const every = Math.max(1000, Math.floor(this.lvsp.hello.heartbeat_interval * 0.5));
    this.lvspBeat = setInterval(() => this.lvsp.heartbeat(++s).catch(() => {}), every);
  }

  async join(room, slot) {
    const vi = await this.lvsp.requestVoiceState({ user_id: snowflake(), channel_id: room.channel, guild_id: room.guild });
    try {
      const mc = await MediaClient.join({ ...vi, guild_id: room.guild }, { ca: this.ca });
      mc.verifyEvery = this.o['verify-every'];
      mc.vi = vi;
      room.members[slot] = mc;
      this.counts.joins++;
    } catch (err) {
      this.counts.joinFailures++;
      room.members[slot] = null;
      if (this.counts.joinFailures < 5) console.log(`join failed: ${err.message}`);
    }
  }

  async joinAll() {
    const n = Math.ceil(this.o.sessions / this.o['room-size']);
    const jobs = [];
    for (let r = 0; r < n; r++) {
      const room = { guild: snowflake(), channel: snowflake(), members: [] };
      this.rooms.push(room);
      const size = Math.min(this.o['room-size'], this.o.sessions - r * this.o['room-size']);
      for (let m = 0; m < size; m++) jobs.push([room, m]);
    }
    for (let i = 0; i < jobs.length; i += this.o['join-batch']) {
      await Promise.all(jobs.slice(i, i + this.o['join-batch']).map(([room, m]) => this.join(room, m)));
    }
  }

  /* The first `speakers` members of every room send one packet each. */
  tick() {
    for (const room of this.rooms) {
      for (let m = 0; m < this.o.speakers && m < room.members.length; m++) {
        const mc = room.members[m];
        if (mc && !mc.vc.closeInfo) {
          mc.sendOpus(Buffer.from('soak-opus-frame-0123456789abcdef'));
          this.counts.sent += room.members.filter((x) => x && x !== mc).length;
        }
      }
    }
  }

  /* A listener leaves (LVSP ends its state) and a new one takes its place. */
  async churnOne() {
    const room = this.rooms[Math.floor(Math.random() * this.rooms.length)];
    const slot = this.o.speakers + Math.floor(Math.random() * Math.max(1, room.members.length - this.o.speakers));
    const mc = room.members[slot];
    if (!mc) return;
    room.members[slot] = null;
    this.lvsp.endVoiceState({ user_id: mc.vi.user_id, session_id: mc.vi.session_id });
    await Promise.race([new Promise((r) => mc.vc.ws.once('close', r)), sleep(3000)]);
    for (const k of Object.keys(this.retired)) this.retired[k] += mc.stats[k];
    await mc.close();
    await this.join(room, slot);
    this.counts.churned++;
  }

  totals() {
    const t = { ...this.retired };
    for (const room of this.rooms) {
      for (const mc of room.members) if (mc) for (const k of Object.keys(t)) t[k] += mc.stats[k];
    }
    return t;
  }

  async run() {
    const durMs = this.o.minutes * 60000;
    const t0 = Date.now();
    let ticks = 0;
    const media = setInterval(() => { this.tick(); ticks++; }, 20);
    const churnEvery = 6000;
    const perRound = this.o.sessions * this.o['churn-per-min'] / (60000 / churnEvery);
    let owed = 0; // fractions of a session carried to the next round
    let nextChurn = t0 + churnEvery;
    let nextSample = t0;
    while (Date.now() - t0 < durMs) {
      if (Date.now() >= nextSample) {
        this.samples.push(procSample(this.srv.proc.pid));
        nextSample += this.o['sample-s'] * 1000;
      }
      if (Date.now() >= nextChurn) {
        owed += perRound;
        for (; owed >= 1; owed--) await this.churnOne();
        nextChurn += churnEvery;
      }
      if (this.srv.diedUnexpectedly()) break;
      await sleep(100);
    }
    clearInterval(media);
    await sleep(500);
    return { ticks, seconds: (Date.now() - t0) / 1000 };
  }

  async close() {
    clearInterval(this.lvspBeat);
    for (const room of this.rooms) for (const mc of room.members) if (mc) await mc.close().catch(() => {});
    await this.lvsp.close().catch(() => {});
  }
}

/* Drift over the samples after warm-up (see the header). */
function rssDrift(samples, warmupS) {
  const t0 = samples.length ? samples[0].t : 0;
  const after = samples.filter((s) => s.t - t0 >= warmupS * 1000);
  if (after.length < 6) return null;
  const mean = (a) => a.reduce((x, s) => x + s.rssKb, 0) / a.length;
  const base = mean(after.slice(0, 3));
  const end = mean(after.slice(-3));
  return { baseKb: Math.round(base), endKb: Math.round(end), drift: (end - base) / base,
    maxKb: Math.max(...after.map((s) => s.rssKb)), minKb: Math.min(...after.map((s) => s.rssKb)) };
}

async function soakMain(argv, log = console.log) {
  const o = parseArgs(argv);
  const source = process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..');
  const buildDir = process.env.SC_BUILD_DIR || path.join(source, 'build');
  log(`soak: ${o.sessions} sessions in rooms of ${o['room-size']} (${o.speakers} speaking), ${o.minutes} min, ` +
    `churn ${100 * o['churn-per-min']} %/min, warm-up ${o['warmup-s']} s, build ${buildDir}`);
  const srv = await startServer({ buildDir, logLevel: 'warn', readyTimeoutMs: 30000,
    extraArgs: o['server-args'].split(/\s+/).filter(Boolean) });
  const soak = new Soak(o, srv, fs.readFileSync(srv.certPath));
  const failures = [];
  let timing = null;
  try {
    await soak.connectLvsp();
    const tj = Date.now();
    await soak.joinAll();
    log(`soak: ${soak.counts.joins} sessions joined in ${((Date.now() - tj) / 1000).toFixed(1)} s, ${soak.counts.joinFailures} failed`);
    timing = await soak.run();
  } catch (err) {
    failures.push(`run: ${err.stack || err}`);
  }
  const totals = soak.totals();
  await soak.close();
  const exit = await srv.stop(10000);
  const drift = rssDrift(soak.samples, o['warmup-s']);
  const delivery = soak.counts.sent ? totals.received / soak.counts.sent : 0;
  const result = { options: o, counts: soak.counts, totals, delivery, drift, timing, exit,
    sanitizer: srv.sanitizerReports.slice(0, 5), samples: soak.samples };
  if (soak.counts.joinFailures > 0.01 * o.sessions) failures.push(`${soak.counts.joinFailures} joins failed`);
  if (delivery < o['min-delivery']) failures.push(`delivery ${(100 * delivery).toFixed(2)} % < ${100 * o['min-delivery']} %`);
  if (totals.undecryptable) failures.push(`${totals.undecryptable} received packets did not decrypt`);
  if (o['max-drift'] !== null && (!drift || drift.drift > o['max-drift'])) {
    failures.push(`RSS drift ${drift ? (100 * drift.drift).toFixed(2) : '?'} % > ${100 * o['max-drift']} %`);
  }
  if (exit.code !== 0) failures.push(`server exit ${JSON.stringify(exit)}`);
  if (result.sanitizer.length) failures.push(`sanitizer: ${result.sanitizer[0]}`);
  result.failures = failures;
  if (o.json) fs.writeFileSync(o.json, JSON.stringify(result, null, 1));
  const first = soak.samples[0] || {};
  const last = soak.samples[soak.samples.length - 1] || {};
  log(`soak: sent ${soak.counts.sent} (packet x receiver), received ${totals.received} ` +
    `(${(100 * delivery).toFixed(2)} %), verified ${totals.verified}, undecryptable ${totals.undecryptable}, ` +
    `churned ${soak.counts.churned}`);
  log(`soak: RSS ${first.rssKb} kB at start, ${last.rssKb} kB at end; after warm-up ` +
    (drift ? `${drift.baseKb} -> ${drift.endKb} kB (drift ${(100 * drift.drift).toFixed(2)} %, ` +
      `range ${drift.minKb}..${drift.maxKb} kB)` : 'too few samples') +
    `; fds ${first.fds} -> ${last.fds}, threads ${last.threads}`);
  log(`soak: ${failures.length ? `FAIL: ${failures.join('; ')}` : 'PASS'}`);
  if (!failures.length) srv.removeStateDir();
  else log(srv.tail(30));
  return result;
}

if (require.main === module) {
  soakMain(process.argv.slice(2)).then((r) => process.exit(r.failures.length ? 1 : 0), (err) => {
    console.log(`soak: FAIL ${err.stack || err}`);
    process.exit(1);
  });
}

module.exports = { soakMain, rssDrift };
