'use strict';
/*
 * @discordjs/voice without a Discord main gateway: an adapter that answers
 * djs's voice-state payloads with the VoiceInfo the LVSP stand-in got from
 * litecord-voice (user_id, guild_id, channel_id, session_id, token,
 * endpoint), plus small helpers to join and to look inside a connection.
 *
 * Recipe (shared/reference/discord-voice-protocol.md §4): on every payload
 * with a non-null channel_id, on a later tick, feed first the voice state
 * and then the voice server update; only the server update makes djs
 * connect, and re-feeding on every payload makes djs's rejoin path work.
 *
 * The process must trust the server's certificate (NODE_EXTRA_CA_CERTS);
 * see lib/server.js spawnNode.
 */
const voice = require('@discordjs/voice');

/*
 * info: a VoiceInfo object, or a function returning the current one (so a
 * test can hand out a new token/session on rejoin). payloads: optional
 * array that records every payload djs sends through the adapter.
 */
function createAdapterCreator(info, { payloads } = {}) {
  const current = typeof info === 'function' ? info : () => info;
  return (methods) => ({
    sendPayload(p) {
      if (payloads) payloads.push(p);
      if (p.d && p.d.channel_id !== null && p.d.channel_id !== undefined) {
        setImmediate(() => feed(methods, current(), p.d));
      }
      return true;
    },
    destroy() {},
  });
}

function feed(methods, vi, d) {
  methods.onVoiceStateUpdate({
    guild_id: vi.guild_id,
    channel_id: vi.channel_id,
    user_id: vi.user_id,
    session_id: vi.session_id,
    deaf: Boolean(vi.deaf),
    mute: Boolean(vi.mute),
    self_deaf: Boolean(d.self_deaf),
    self_mute: Boolean(d.self_mute),
    suppress: Boolean(vi.suppress),
  });
  methods.onVoiceServerUpdate({
    token: vi.token,
    guild_id: vi.guild_id,
    endpoint: vi.endpoint,
  });
}

/*
 * Joins with a fresh adapter (info: a VoiceInfo, or a function returning
 * the current one). Returns { conn, debugLines, payloads }:
 * debugLines collects djs's debug output (every WS frame in and out).
 * options: group (must be unique per connection of one process),
 * selfDeaf (default false, so the receiver works), onDebug(line).
 */
function join(info, { group, selfDeaf = false, onDebug } = {}) {
  const debugLines = [];
  const payloads = [];
  const first = typeof info === 'function' ? info() : info;
  const conn = voice.joinVoiceChannel({
    guildId: first.guild_id,
    channelId: first.channel_id,
    group: group || `g-${first.user_id}`,
    selfDeaf,
    selfMute: false,
    debug: true,
    adapterCreator: createAdapterCreator(info, { payloads }),
  });
  conn.on('debug', (line) => {
    debugLines.push(`${new Date().toISOString()} ${line}`);
    if (onDebug) onDebug(line);
  });
  conn.on('error', (err) => debugLines.push(`ERROR ${err.stack || err}`));
  return { conn, debugLines, payloads };
}

/* The networking state's connection data (ssrc, encryptionMode, ...). */
function connectionData(conn) {
  const nw = conn.state && conn.state.networking;
  return nw && nw.state ? nw.state.connectionData : undefined;
}

function encryptionMode(conn) {
  const cd = connectionData(conn);
  return cd ? cd.encryptionMode : undefined;
}

/* The VoiceUDPSocket of a Ready connection (emits 'message'). */
function udpSocket(conn) {
  const nw = conn.state && conn.state.networking;
  return nw && nw.state ? nw.state.udp : undefined;
}

/* JSON gateway frames from djs's debug lines: dir '<<' (in) or '>>' (out). */
function gatewayFrames(debugLines, dir = '<<') {
  const marker = `[WS] ${dir} {`;
  const frames = [];
  for (const line of debugLines) {
    const i = line.indexOf(marker);
    if (i < 0) continue;
    try {
      frames.push(JSON.parse(line.slice(i + marker.length - 1)));
    } catch { /* not a JSON frame */ }
  }
  return frames;
}

/* Plays Opus packets on the 20 ms grid; resolves with how many djs sent
 * (it sends nothing while not Ready, e.g. while resuming). */
async function playOpus(conn, packets) {
  const t0 = performance.now();
  let sent = 0;
  for (let i = 0; i < packets.length; i++) {
    const wait = t0 + i * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (conn.playOpusPacket(packets[i])) sent++;
  }
  conn.setSpeaking(false);
  return sent;
}

/* Subscribes conn to userId's audio until the connection ends; returns
 * {packets, times}: the Opus packets and their arrival times
 * (performance.now()), filled as they come. */
function collectOpus(conn, userId) {
  const got = { packets: [], times: [] };
  const stream = conn.receiver.subscribe(userId, { end: { behavior: voice.EndBehaviorType.Manual } });
  stream.on('data', (p) => { got.packets.push(Buffer.from(p)); got.times.push(performance.now()); });
  return got;
}

module.exports = {
  voice, createAdapterCreator, join, connectionData, encryptionMode, udpSocket, gatewayFrames,
  playOpus, collectOpus,
};
