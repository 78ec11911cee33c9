'use strict';
/*
 * A real browser against the core's ICE-lite agent: Debian's headless
 * Chromium (puppeteer-core) gets an ICE-lite answer whose only candidate
 * is a UDP socket of this process, with the agent's credentials; every
 * datagram Chromium sends there goes through tests/tools/stun_tool (the
 * agent, src/sc_ice) and the agent's answer goes back. Chromium must
 * reach iceConnectionState "connected" (it drops answers without a valid
 * MESSAGE-INTEGRITY, so this proves they verify), and the agent must have
 * selected Chromium's tuple through USE-CANDIDATE.
 */
const { spawn } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const puppeteer = require('puppeteer-core');
const { Checks, run } = require('./lib/checks');

const source = process.env.SC_SOURCE_DIR || path.join(__dirname, '..', '..');
const buildDir = process.env.SC_BUILD_DIR || path.join(source, 'build');
const TOOL = path.join(buildDir, 'tests', 'stun_tool');
const UFRAG = 'ChrmTest';
const PWD = 'cHr0mePwd/0123456789+abc';

const c = new Checks('stun_chromium');

function answerSdp(port) {
  const fp = Array.from({ length: 32 }, (_, i) => (i * 5 + 3).toString(16).padStart(2, '0').toUpperCase());
  return ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=ice-lite',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:0',
    `a=ice-ufrag:${UFRAG}`, `a=ice-pwd:${PWD}`, `a=fingerprint:sha-256 ${fp.join(':')}`,
    'a=setup:passive', 'a=sctp-port:5000',
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`, 'a=end-of-candidates', ''].join('\r\n');
}

async function main() {
  c.ok(fs.existsSync(TOOL), `stun_tool built: ${TOOL}`);
  const tool = spawn(TOOL, [UFRAG, PWD], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: tool.stdout });
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const t0 = Date.now();
  const pending = [];
  const seen = { requests: 0, answers: 0, refused: 0, sends: new Set(), from: null };
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 1 || msg[0] > 3) return; /* DTLS after ICE: nobody here to answer it */
    seen.requests++;
    seen.from = `${rinfo.address}:${rinfo.port}`;
    pending.push(rinfo);
    tool.stdin.write(`${rinfo.address} ${rinfo.port} ${Date.now() - t0} ${msg.toString('hex')}\n`);
  });
  lines.on('line', (line) => {
    const to = pending.shift();
    const [answer, send] = line.split(' send=');
    seen.sends.add(send);
    if (answer.startsWith('- ')) {
      seen.refused++;
      return;
    }
    seen.answers++;
    sock.send(Buffer.from(answer, 'hex'), to.port, to.address);
  });
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--allow-loopback-in-peer-connection', '--disable-background-networking',
      `--user-data-dir=${fs.mkdtempSync('/tmp/stun-chromium-')}`],
  });
  try {
    const page = await browser.newPage();
    const state = await page.evaluate(async (sdp) => {
      const pc = new RTCPeerConnection();
      pc.createDataChannel('x');
      await pc.setLocalDescription(await pc.createOffer());
      await pc.setRemoteDescription({ type: 'answer', sdp });
      for (const end = Date.now() + 15000; Date.now() < end;) {
        if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return pc.iceConnectionState;
    }, answerSdp(sock.address().port));
    c.ok(state === 'connected' || state === 'completed', `Chromium's ICE state with our agent: ${state}`);
    /* Chromium may report connected on the first answered check and
     * nominate (USE-CANDIDATE) right after: wait for that check. */
    for (const end = Date.now() + 10000; Date.now() < end && !seen.sends.has(seen.from);) {
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await browser.close();
    /* Answers to checks still in the tool's pipe arrive first. */
    for (const end = Date.now() + 2000; Date.now() < end && pending.length;) {
      await new Promise((r) => setTimeout(r, 20));
    }
    sock.close();
    tool.stdin.end();
  }
  c.ok(seen.requests > 0 && seen.answers === seen.requests,
    `every Chromium check answered (${seen.answers}/${seen.requests}, refused ${seen.refused})`);
  c.ok(seen.sends.has(seen.from), `the agent's send tuple is Chromium's (${[...seen.sends].join(', ')})`);
}

run('stun_chromium', 120000, main, { checks: () => c });
