'use strict';
/*
 * The room the browser tests share: the real server, Litecord's LVSP link,
 * voice states in one channel, and a real @discordjs/voice member in a
 * child process (djs needs NODE_EXTRA_CA_CERTS) that plays a libopus tone
 * when told and records what it hears from one user.
 *
 *   const room = await openRoom({ buildDir, servers });  // servers: run()'s list
 *   // options: toneHz (default 660; null: none), frames (default FRAMES)
 *   const djsInfo = await room.member();                  // a voice state
 *   const djs = room.startDjs({ info: djsInfo, listenTo: userId, rxName: 'from-x.opus' });
 *   await djs.untilReady(30000);   // djs.ready {ssrc} once it is Ready
 *   djs.say('play');               // room.frames packets of room.toneHz (room.tone), 20 ms apart
 *   const res = await djs.finish(); // {sent, received}; djs.rxFile: what it heard
 *   djs.kill(); await room.close();
 *
 * The child options: group (djs's voice group), dave: false (join without
 * DAVE, for a member who cannot take part in it). The tests make their
 * own checks on what these return.
 */
const fs = require('node:fs');
const path = require('node:path');

const { sleep, waitFor } = require('./checks');
const { snowflake } = require('./ids');

const FRAMES = 150; /* 3 s of 20 ms frames from djs */

/* ---- parent side -------------------------------------------------------- */

async function openRoom({ buildDir, servers, toneHz = 660, frames = FRAMES }) {
  const { LvspClient } = require('./lvsp_client');
  const { opusTool } = require('./opus_tool');
  const { startServer } = require('./server');
  const srv = await startServer({ buildDir });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const guild_id = snowflake();
  const channel_id = snowflake();
  const tool = opusTool(buildDir);
  const room = { srv, ca, lvsp, guild_id, channel_id, tool, toneHz, frames };
  if (toneHz) { /* toneHz null: a room without a tone */
    room.toneFile = path.join(srv.stateDir, `tone${toneHz}.opus`);
    room.tone = tool.encode(toneHz, frames, room.toneFile);
  }
  /* A new user's voice state in the room's channel (or another of its guild). */
  room.member = async (channel = channel_id) =>
    ({ ...await lvsp.requestVoiceState({ user_id: snowflake(), channel_id: channel, guild_id }), guild_id });
  room.startDjs = (opts) => startDjs(room, opts);
  room.close = () => lvsp.close().catch(() => {});
  return room;
}

function startDjs(room, { info, listenTo, rxName, group, dave }) {
  const { spawnNode } = require('./server');
  const rxFile = path.join(room.srv.stateDir, rxName);
  const args = { info, listenTo, toneFile: room.toneFile, rxFile, group, dave };
  const st = { ready: null, result: null, rxFile };
  const child = spawnNode(__filename, ['--child', JSON.stringify(args)], {
    caFile: room.srv.certPath,
    stdin: 'pipe',
    onLine: (l) => {
      if (l.startsWith('READY ')) st.ready = JSON.parse(l.slice(6));
      else if (l.startsWith('RESULT ')) st.result = JSON.parse(l.slice(7));
      else if (l.trim()) console.log(`  [djs] ${l}`);
    },
  });
  const exited = () => child.proc.exitCode !== null;
  st.child = child;
  st.say = (w) => child.proc.stdin.write(`${w}\n`);
  /* Its READY line ({ssrc}), or null when it exited or took longer than ms. */
  st.untilReady = async (ms) => ((await waitFor(() => st.ready || exited(), ms)) && st.ready) || null;
  /* 'stop', then its RESULT ({sent, received}; zeros when none came). */
  st.finish = async () => {
    st.say('stop');
    await waitFor(() => st.result || exited(), 10000);
    return st.result || { sent: 0, received: 0 };
  };
  st.kill = () => {
    if (!exited()) child.proc.kill('SIGKILL');
  };
  return st;
}

/* ---- child side ----------------------------------------------------------- */

function joinDjs(djs, info, group, dave) {
  if (dave !== false) return djs.join(info, { group }).conn;
  return djs.voice.joinVoiceChannel({
    guildId: info.guild_id, channelId: info.channel_id, group, selfDeaf: false,
    selfMute: false, daveEncryption: false, adapterCreator: djs.createAdapterCreator(info),
  });
}

async function childMain({ info, listenTo, toneFile, rxFile, group, dave }) {
  const djs = require('./djs_adapter');
  const { readPackets, writePackets } = require('./opus_tool');
  const tone = readPackets(toneFile);
  const conn = joinDjs(djs, info, group || 'tone-room-djs', dave);
  await djs.voice.entersState(conn, djs.voice.VoiceConnectionStatus.Ready, 20000);
  const rx = [];
  const stream = conn.receiver.subscribe(listenTo, { end: { behavior: djs.voice.EndBehaviorType.Manual } });
  stream.on('data', (p) => rx.push(Buffer.from(p)));
  console.log(`READY ${JSON.stringify({ ssrc: djs.connectionData(conn).ssrc })}`);
  let sent = 0;
  const lines = [];
  process.stdin.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
  await waitFor(() => lines.includes('play'), 60000, 10);
  const t0 = Date.now();
  for (let i = 0; i < tone.length; i++) {
    const wait = t0 + i * 20 - Date.now();
    if (wait > 0) await sleep(wait);
    if (conn.playOpusPacket(tone[i])) sent++;
  }
  await waitFor(() => lines.includes('stop'), 60000, 10);
  if (rx.length) writePackets(rxFile, rx);
  console.log(`RESULT ${JSON.stringify({ sent, received: rx.length })}`);
  conn.destroy();
  setTimeout(() => process.exit(0), 200);
}

if (require.main === module && process.argv[2] === '--child') {
  childMain(JSON.parse(process.argv[3])).catch((err) => {
    console.log(`djs child failed: ${err.stack || err}`);
    process.exit(1);
  });
}

/* Packets and audio energy summed over a page's inbound-rtp rows (the
 * streams one source reaches it by: subscriptions, consumers, down streams). */
function sumInbound(rows) {
  return {
    packets: rows.reduce((n, s) => n + s.packetsReceived, 0),
    energy: rows.reduce((n, s) => n + s.totalAudioEnergy, 0),
  };
}

module.exports = { openRoom, sumInbound, FRAMES };
