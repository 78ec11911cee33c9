'use strict';
/*
 * Call quality per member (docs/ADMIN.md "quality"), measured on our own
 * receive path with real @discordjs/voice clients (which send no RTCP):
 *  - two talkers in one channel (lib/talkers.js); A's djs client drops
 *    10 % of its RTP datagrams and holds 30 % back by 40 ms on the way out
 *    (a lossy, jittery path for A only), B's path is clean;
 *  - /state, over the 2 s sampling intervals: A's quality shows
 *    loss_fraction > 0, lost_total > 0 and a jitter well above B's; B's
 *    loss_fraction and lost_total are ~0; both have rx_kbps and tx_kbps
 *    near an Opus stream's, and rtt_ms (the gateway socket's TCP RTT) is
 *    a number;
 *  - `litecord-voice status` prints the figures (kbit/s, loss, jitter, rtt);
 *  - /metrics: litecord_voice_media_packets_lost_total > 0 and the
 *    member_loss_ratio, member_jitter_seconds, member_rtt_seconds
 *    histograms counted member-intervals.
 * Env: SC_BUILD_DIR. Prints "N passed, N failed".
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { startServer } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { adminGet, adminState, findMember } = require('./lib/admin_client');
const { startTalkers } = require('./lib/talkers');
const { Checks, run, sleep } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const IMPAIR_A = { loss: 0.10, delayProb: 0.30, delayMs: 40 };
const READINGS = 3;
const INTERVAL_MS = 2000; // SC_QSAMPLE_INTERVAL_MS
const c = new Checks('quality');
const servers = [];

function runStatus(srv) {
  return new Promise((resolve) => {
    execFile(path.join(build, 'litecord-voice'),
      ['status', '--admin-url', srv.adminUrl, '--admin-token', srv.adminToken()], { timeout: 20000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

function metricValue(text, name) {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

const fmt = (q) => q && `loss ${q.loss_fraction.toFixed(3)} (total ${q.lost_total}), jitter ` +
  `${q.jitter_ms.toFixed(2)} ms, in ${q.rx_kbps.toFixed(1)} / out ${q.tx_kbps.toFixed(1)} kbit/s, rtt ${q.rtt_ms}`;

async function main() {
  const srv = await startServer({ buildDir: build, logLevel: 'info' });
  servers.push(srv);
  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca: fs.readFileSync(srv.certPath) });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcv-quality-'));
  const talkers = await startTalkers({ srv, lvsp: lv, buildDir: build, workDir, impair: { A: IMPAIR_A } });
  const userA = talkers.infos.A.user_id, userB = talkers.infos.B.user_id;
  const token = srv.adminToken();
  // Two sampling intervals, so the first reading covers a whole one of talking.
  await sleep(2 * INTERVAL_MS + 200);
  const readings = [];
  for (let i = 0; i < READINGS; i++) {
    const st = await adminState(srv.adminUrl, token);
    const a = findMember(st, userA), b = findMember(st, userB);
    readings.push({ A: a && a.member.quality, B: b && b.member.quality });
    console.log(`  reading ${i}: A ${fmt(readings[i].A)}; B ${fmt(readings[i].B)}`);
    await sleep(INTERVAL_MS);
  }
  const status = await runStatus(srv);
  const metrics = await adminGet(srv.adminUrl, '/metrics');
  const r = await talkers.stop();
  console.log(`  talkers: B heard ${r.B.received}/${r.B.sent} of A, A heard ${r.A.received}/${r.A.sent} of B`);

  const all = (who, f) => readings.every((x) => x[who] && f(x[who]));
  const mean = (who, k) => readings.reduce((s, x) => s + (x[who] ? x[who][k] : 0), 0) / readings.length;
  const names = ['rx_kbps', 'tx_kbps', 'loss_fraction', 'lost_total', 'jitter_ms', 'rtt_ms'];
  c.ok(all('A', (q) => names.every((n) => n in q)) && all('B', (q) => names.every((n) => n in q)),
    `/state quality has ${names.join(', ')} for both members`);
  const lossA = mean('A', 'loss_fraction'), lossB = mean('B', 'loss_fraction');
  c.ok(lossA > 0.03 && lossA < 0.25 && all('A', (q) => q.lost_total > 0),
    `A (10 % dropped by its client): mean loss_fraction ${lossA.toFixed(3)}, lost_total ` +
    `${readings.at(-1).A && readings.at(-1).A.lost_total}`);
  c.ok(lossB <= 0.01 && all('B', (q) => q.lost_total <= 2),
    `B (clean path): mean loss_fraction ${lossB.toFixed(3)}, lost_total ${readings.at(-1).B && readings.at(-1).B.lost_total}`);
  const jA = mean('A', 'jitter_ms'), jB = mean('B', 'jitter_ms');
  c.ok(jA > 5 && jA > 2 * jB, `jitter: A ${jA.toFixed(2)} ms (30 % held 40 ms), B ${jB.toFixed(2)} ms`);
  // An Opus tone at 50 packets/s: tens of kbit/s each way (A's in is 10 % less).
  c.ok(all('B', (q) => q.rx_kbps > 8 && q.rx_kbps < 200 && q.tx_kbps > 5) &&
    all('A', (q) => q.rx_kbps > 5 && q.tx_kbps > 8),
  `bitrates: A in ${mean('A', 'rx_kbps').toFixed(1)} / out ${mean('A', 'tx_kbps').toFixed(1)}, ` +
    `B in ${mean('B', 'rx_kbps').toFixed(1)} / out ${mean('B', 'tx_kbps').toFixed(1)} kbit/s`);
  c.ok(all('A', (q) => typeof q.rtt_ms === 'number' && q.rtt_ms > 0 && q.rtt_ms < 1000) &&
    all('B', (q) => typeof q.rtt_ms === 'number' && q.rtt_ms > 0),
  `rtt_ms (gateway TCP RTT): A ${readings[0].A && readings[0].A.rtt_ms}, B ${readings[0].B && readings[0].B.rtt_ms}`);
  c.ok(status.code === 0 && /kbit\/s/.test(status.stdout) && /loss \d/.test(status.stdout) &&
    /jitter [\d.]+ ms, rtt [\d.]+ ms/.test(status.stdout),
  `litecord-voice status prints the figures: ${(status.stdout.match(/.*kbit\/s.*/) || [status.stderr])[0].trim()}`);
  const t = metrics.text;
  const lost = metricValue(t, 'litecord_voice_media_packets_lost_total');
  const expected = metricValue(t, 'litecord_voice_media_packets_expected_total');
  const lossCount = metricValue(t, 'litecord_voice_member_loss_ratio_count');
  const jitterCount = metricValue(t, 'litecord_voice_member_jitter_seconds_count');
  const rttCount = metricValue(t, 'litecord_voice_member_rtt_seconds_count');
  c.ok(metrics.status === 200 && lost > 0 && expected > 10 * lost && lossCount >= 4 &&
    jitterCount === lossCount && rttCount >= 4,
  `/metrics: packets lost ${lost} of ${expected} expected; histogram counts loss ${lossCount}, ` +
    `jitter ${jitterCount}, rtt ${rttCount}`);
  await lv.close();
  await srv.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
}

run('quality', 120000, main, { checks: () => c, servers: () => servers });
