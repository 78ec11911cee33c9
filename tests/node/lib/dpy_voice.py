#!/usr/bin/python3
"""
A real discord.py VoiceClient (Debian's python3-discord 2.2.2: gateway v4,
xsalsa20 modes only) driven without Discord's main gateway, for
tests/node/gw_legacy_client.test.js.

discord.py normally learns its voice session from the main gateway
(VOICE_STATE_UPDATE, VOICE_SERVER_UPDATE). Here a stand-in client, guild
and channel feed it the VoiceInfo that Litecord would have sent, the
analogue of the @discordjs/voice adapter in lib/djs_adapter.js. Everything
else is discord.py's own code: its voice WebSocket (Identify, heartbeats,
IP discovery as the first datagram it reads, Select Protocol, Speaking
without ssrc) and its packet encryption for sending. discord.py 2.2.2 has
no receive path, so received datagrams are read from its UDP socket and
opened here with PyNaCl (libsodium) under its key and mode.

Usage: dpy_voice.py '<json config>'  with endpoint ("host:port"), guild_id,
channel_id, user_id, session_id, token, ca (PEM path), log (path).
stdin: one JSON command per line: {"cmd":"play","file":F} (Opus packets,
u16 BE length each, every 20 ms), {"cmd":"dump","ssrc":N,"file":F}
(received payloads of that SSRC, same format), {"cmd":"quit"}.
stdout: one JSON event per line: ready, played, dumped, error, bye.
"""
import asyncio
import json
import logging
import ssl
import struct
import sys
import time

import aiohttp
import nacl.secret
import discord
from discord.gateway import SpeakingState


def emit(**event):
    print(json.dumps(event), flush=True)


class StubUser:
    def __init__(self, user_id):
        self.id = int(user_id)


class StubHTTP:
    """The one HTTPClient method the voice code uses, with our CA."""

    def __init__(self, ca):
        self.ssl = ssl.create_default_context(cafile=ca)
        self.session = None

    async def ws_connect(self, url, *, compress=0):
        if self.session is None:
            self.session = aiohttp.ClientSession()
        return await self.session.ws_connect(url, ssl=self.ssl, max_msg_size=0, timeout=30.0,
                                             autoclose=False, compress=compress)


class StubState:
    def __init__(self, loop, cfg):
        self.loop = loop
        self.http = StubHTTP(cfg['ca'])
        self.user = StubUser(cfg['user_id'])

    def _remove_voice_client(self, key):
        pass


class StubClient:
    def __init__(self, loop, cfg):
        self.loop = loop
        self._connection = StubState(loop, cfg)


class StubGuild:
    """change_voice_state is where the main gateway would answer with the
    two voice events; we answer with the VoiceInfo, state first."""

    def __init__(self, cfg):
        self.id = int(cfg['guild_id'])
        self.cfg = cfg
        self.vc = None

    def get_channel(self, channel_id):
        return self.vc.channel

    async def change_voice_state(self, *, channel, self_mute=False, self_deaf=False):
        if channel is None:
            return
        cfg = self.cfg
        await self.vc.on_voice_state_update({'session_id': cfg['session_id'],
                                             'channel_id': cfg['channel_id']})
        # discord.py 2.2.2 drops the last ":port" of the endpoint (Discord used
        # to send "host:80"), so the real port must not be the last one.
        await self.vc.on_voice_server_update({'token': cfg['token'], 'guild_id': cfg['guild_id'],
                                              'endpoint': cfg['endpoint'] + ':80'})


class StubChannel:
    def __init__(self, cfg, guild):
        self.id = int(cfg['channel_id'])
        self.guild = guild

    def _get_voice_client_key(self):
        return self.guild.id, 'guild_id'


def open_packet(mode, key, data):
    """Opens one datagram the server sent (independently of the server's
    code: PyNaCl). Returns (ssrc, payload) or None."""
    if len(data) < 12 + 16 or data[0] >> 6 != 2 or 200 <= data[1] <= 204:
        return None
    header = bytes(data[:12])
    box = nacl.secret.SecretBox(bytes(key))
    if mode == 'xsalsa20_poly1305_lite':
        plain = box.decrypt(bytes(data[12:-4]), bytes(data[-4:]) + bytes(20))
    elif mode == 'xsalsa20_poly1305_suffix':
        plain = box.decrypt(bytes(data[12:-24]), bytes(data[-24:]))
    else:
        plain = box.decrypt(bytes(data[12:]), header + bytes(12))
    skip = 4 * (header[0] & 0x0F)
    if header[0] & 0x10:
        skip += 4 + 4 * struct.unpack_from('>H', plain, skip + 2)[0]
    end = len(plain) - (plain[-1] if header[0] & 0x20 else 0)
    return struct.unpack_from('>I', header, 8)[0], plain[skip:end]


def read_packets(path):
    data, out, off = open(path, 'rb').read(), [], 0
    while off + 2 <= len(data):
        n = struct.unpack_from('>H', data, off)[0]
        out.append(data[off + 2:off + 2 + n])
        off += 2 + n
    return out


def write_packets(path, packets):
    with open(path, 'wb') as f:
        for p in packets:
            f.write(struct.pack('>H', len(p)) + p)


class Driver:
    def __init__(self, loop, cfg):
        self.loop = loop
        self.cfg = cfg
        self.received = {}
        self.bad = 0
        guild = StubGuild(cfg)
        self.vc = discord.VoiceClient(StubClient(loop, cfg), StubChannel(cfg, guild))
        guild.vc = self.vc

    def on_datagram(self):
        while True:
            try:
                data = self.vc.socket.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            try:
                got = open_packet(self.vc.mode, self.vc.secret_key, data)
            except Exception:  # authentication failure: counted
                self.bad += 1
                continue
            if got:
                self.received.setdefault(got[0], []).append(got[1])

    async def connect(self):
        await self.vc.connect(reconnect=False, timeout=15.0)
        sock = self.vc.socket
        self.loop.add_reader(sock.fileno(), self.on_datagram)
        local = sock.getsockname()
        emit(event='ready', mode=self.vc.mode, ssrc=self.vc.ssrc,
             discovered={'ip': self.vc.ip, 'port': self.vc.port},
             local={'ip': local[0], 'port': local[1]})

    async def play(self, path):
        packets = read_packets(path)
        await self.vc.ws.speak(SpeakingState.voice)  # op 5 without ssrc (v4 shape)
        start = time.perf_counter()
        for i, p in enumerate(packets):
            delay = start + i * 0.02 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.vc.send_audio_packet(p, encode=False)
        await self.vc.ws.speak(SpeakingState.none)
        emit(event='played', count=len(packets))

    def dump(self, ssrc, path):
        packets = self.received.get(int(ssrc), [])
        write_packets(path, packets)
        emit(event='dumped', ssrc=int(ssrc), count=len(packets), bad=self.bad,
             ssrcs={str(k): len(v) for k, v in self.received.items()})


async def commands(driver):
    reader = asyncio.StreamReader()
    await driver.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        cmd = json.loads(line)
        if cmd['cmd'] == 'play':
            await driver.play(cmd['file'])
        elif cmd['cmd'] == 'dump':
            driver.dump(cmd['ssrc'], cmd['file'])
        elif cmd['cmd'] == 'quit':
            return


async def main():
    cfg = json.loads(sys.argv[1])
    logging.basicConfig(filename=cfg['log'], level=logging.DEBUG,
                        format='%(asctime)s %(name)s %(levelname)s %(message)s')
    loop = asyncio.get_running_loop()
    driver = Driver(loop, cfg)
    try:
        await driver.connect()
        await commands(driver)
    except Exception as err:  # reported, and the exit status says so
        logging.exception('driver failed')
        emit(event='error', message=repr(err))
        return 1
    finally:
        if driver.vc.is_connected():
            await driver.vc.disconnect(force=True)
        http = driver.vc._state.http
        if http.session:
            await http.session.close()
    emit(event='bye', version=discord.__version__)
    return 0


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
