#!/usr/bin/env node
'use strict';
/*
 * Writes the seed corpora of fuzz_stun and fuzz_demux (tests/fuzz/corpus/
 * <target>/seed-*): the RFC 5769 vectors, binding requests built with
 * werift's STUN code (an implementation independent of src/sc_stun)
 * signed for fuzz_stun's agent (ufrag "fuzzfuzz", the RFC 5769 password),
 * and for fuzz_demux one datagram of each kind on a shared port.
 * Deterministic: rerunning rewrites identical files.
 *
 *   node tests/fuzz/make_stun_seeds.js             (needs tests/node/node_modules)
 *   node tests/fuzz/make_stun_seeds.js --chromium  (also captures real requests)
 *
 * --chromium runs Debian's headless Chromium (puppeteer-core) against a
 * UDP socket of this process: the page offers a data channel, gets an
 * ICE-lite answer naming that socket with fuzz_stun's credentials, and
 * the first binding request and the nominating one (USE-CANDIDATE), which
 * werift's code answers in between, are written as seed-chromium-*.
 */
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');
const NODE_MODULES = path.join(__dirname, '..', 'node', 'node_modules');
const { Message, parseMessage, classes, methods } = require(path.join(NODE_MODULES, 'werift'));

const CORPUS = path.join(__dirname, 'corpus');
const UFRAG = 'fuzzfuzz';
const PWD = 'VOkJxbRl1RmTxUk/WvJxBt';
const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function write(target, name, data) {
  const dir = path.join(CORPUS, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `seed-${name}`), data);
}

const RFC5769_REQUEST = hex(`000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74
  002400046e0001ff80290008932ff9b151263b36000600096576746a3a6836765920202000080014
  9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf`);
const RFC5769_RESPONSE_V4 = hex(`0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220
  00200008 0001a147e112a643 00080014 2b91f599fd9e90c38c7489f92af9ba53f06be7d7 80280004c07d4c96`);
const RFC5769_RESPONSE_V6 = hex(`010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220
  00200014 0002a1470113a9faa5d3f179bc25f4b5bed2b9d9 00080014 a382954e4be67bf11784c97c8292c275bfe3ed41
  80280004c8fb0b4c`);

function request(seed, { user = `${UFRAG}:abcd`, pwd = PWD, nominate = false, controlled = false,
  priority = true, unknown = false, fingerprint = true } = {}) {
  const tid = Buffer.alloc(12, seed);
  const m = new Message(methods.BINDING, classes.REQUEST, tid);
  m.setAttribute('USERNAME', user);
  if (priority) m.setAttribute('PRIORITY', 0x6e7f1eff);
  m.setAttribute(controlled ? 'ICE-CONTROLLED' : 'ICE-CONTROLLING', 0x1122334455667788n);
  if (nominate) m.setAttribute('USE-CANDIDATE', null);
  if (unknown) m.appendRawAttribute(0x7f01, Buffer.from('zz'));
  m.addMessageIntegrity(Buffer.from(pwd));
  if (fingerprint) m.addFingerprint();
  return m.bytes;
}

function stunSeeds() {
  write('fuzz_stun', 'rfc5769-request', RFC5769_REQUEST);
  write('fuzz_stun', 'rfc5769-response-v4', RFC5769_RESPONSE_V4);
  write('fuzz_stun', 'rfc5769-response-v6', RFC5769_RESPONSE_V6);
  write('fuzz_stun', 'werift-check', request(1));
  write('fuzz_stun', 'werift-nominate', request(2, { nominate: true }));
  write('fuzz_stun', 'werift-controlled', request(3, { controlled: true }));
  write('fuzz_stun', 'werift-no-priority', request(4, { priority: false }));
  write('fuzz_stun', 'werift-unknown-attr', request(5, { unknown: true }));
  write('fuzz_stun', 'werift-no-fingerprint', request(6, { fingerprint: false }));
  write('fuzz_stun', 'werift-wrong-password', request(7, { pwd: 'not-the-fuzz-password!' }));
  write('fuzz_stun', 'werift-other-ufrag', request(8, { user: 'someone:abcd' }));
  write('fuzz_stun', 'truncated', RFC5769_REQUEST.subarray(0, 60));
}

function demuxSeeds() {
  write('fuzz_demux', 'stun-rfc5769', RFC5769_REQUEST);
  write('fuzz_demux', 'stun-werift', request(9, { nominate: true }));
  const discovery = Buffer.alloc(74);
  discovery.writeUInt16BE(1, 0);
  discovery.writeUInt16BE(70, 2);
  discovery.writeUInt32BE(0x2112a442, 4); /* the cookie as SSRC: still discovery */
  write('fuzz_demux', 'discovery-request', discovery);
  write('fuzz_demux', 'rtp-opus', Buffer.concat([hex('806f0001000003c0deadbeef'), Buffer.alloc(40, 0xf8)]));
  write('fuzz_demux', 'rtcp-rr', hex('81c90007deadbeef0000000100000000000000000000000000000000'));
  write('fuzz_demux', 'dtls-client-hello', Buffer.concat([hex('16fefd0000000000000000003d'), Buffer.alloc(61, 1)]));
  write('fuzz_demux', 'keepalive', hex('1337cafe00000001'));
}

/* ---- --chromium -------------------------------------------------------- */

function answerSdp(port) {
  const fp = Array.from({ length: 32 }, (_, i) => (i * 7 + 11).toString(16).padStart(2, '0').toUpperCase());
  return ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=ice-lite',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:0',
    `a=ice-ufrag:${UFRAG}`, `a=ice-pwd:${PWD}`, `a=fingerprint:sha-256 ${fp.join(':')}`,
    'a=setup:passive', 'a=sctp-port:5000',
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`, 'a=end-of-candidates', ''].join('\r\n');
}

async function captureChromium() {
  const puppeteer = require(path.join(NODE_MODULES, 'puppeteer-core'));
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const got = { first: null, nominate: null };
  sock.on('message', (msg, rinfo) => {
    const req = parseMessage(msg);
    if (!req || req.messageClass !== classes.REQUEST) return;
    if (!got.first) got.first = msg;
    if (req.getAttributeValue('USE-CANDIDATE') !== undefined && !got.nominate) got.nominate = msg;
    const res = new Message(methods.BINDING, classes.RESPONSE, req.transactionId);
    res.setAttribute('XOR-MAPPED-ADDRESS', [rinfo.address, rinfo.port]);
    res.addMessageIntegrity(Buffer.from(PWD)).addFingerprint();
    sock.send(res.bytes, rinfo.port, rinfo.address);
  });
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--allow-loopback-in-peer-connection', '--disable-background-networking',
      `--user-data-dir=${fs.mkdtempSync('/tmp/stun-seeds-')}`],
  });
  try {
    const page = await browser.newPage();
    await page.evaluate(async (sdp) => {
      const pc = new RTCPeerConnection();
      window.pc = pc;
      pc.createDataChannel('x');
      await pc.setLocalDescription(await pc.createOffer());
      await pc.setRemoteDescription({ type: 'answer', sdp });
    }, answerSdp(sock.address().port));
    for (const end = Date.now() + 20000; Date.now() < end && !(got.first && got.nominate);) {
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log('chromium', await browser.version());
  } finally {
    await browser.close();
    sock.close();
  }
  if (!got.first || !got.nominate) throw new Error(`captured first=${!!got.first} nominate=${!!got.nominate}`);
  for (const t of ['fuzz_stun', 'fuzz_demux']) {
    write(t, 'chromium-check', got.first);
    write(t, 'chromium-nominate', got.nominate);
  }
}

async function main() {
  stunSeeds();
  demuxSeeds();
  if (process.argv.includes('--chromium')) await captureChromium();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
