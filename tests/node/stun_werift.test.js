'use strict';
/*
 * Cross-check of the core's ICE-lite agent (src/sc_ice, src/sc_stun) with
 * an independent STUN implementation: werift's (0.24.4). werift builds
 * binding requests with MESSAGE-INTEGRITY and FINGERPRINT for a password;
 * the agent, driven through tests/tools/stun_tool, must answer them, and
 * werift's parser must accept the answers with the same password (it
 * verifies MI and FINGERPRINT) and read the source back from
 * XOR-MAPPED-ADDRESS, for IPv4 and IPv6. Requests werift signs with
 * another password, or that fail werift-computed FINGERPRINT, get no
 * answer at all.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Message, parseMessage, classes, methods } = require('werift');
const { Checks, run } = require('./lib/checks');

const source = process.env.SC_SOURCE_DIR || path.join(__dirname, '..', '..');
const buildDir = process.env.SC_BUILD_DIR || path.join(source, 'build');
const TOOL = path.join(buildDir, 'tests', 'stun_tool');

const UFRAG = 'Srv0ufrg';
const PWD = 'sRvPwd0123456789abcdef+/';
const PEER = 'Pe3r';
/* sc_ice_refusal_t */
const BAD_INTEGRITY = 6;
const UNKNOWN_UFRAG = 3;
const BAD_FINGERPRINT = 4;

const c = new Checks('stun_werift');

function request({ pwd = PWD, user = `${UFRAG}:${PEER}`, nominate = false, controlled = false } = {}) {
  const m = new Message(methods.BINDING, classes.REQUEST);
  m.setAttribute('USERNAME', user);
  m.setAttribute('PRIORITY', 0x6e7f1eff);
  m.setAttribute(controlled ? 'ICE-CONTROLLED' : 'ICE-CONTROLLING', 0x0102030405060708n);
  if (nominate) m.setAttribute('USE-CANDIDATE', null);
  m.addMessageIntegrity(Buffer.from(pwd)).addFingerprint();
  return m;
}

/* Runs the agent over [{ip, port, now, msg|bytes}]; returns its lines. */
function agent(rows) {
  const input = rows
    .map((r) => `${r.ip} ${r.port} ${r.now} ${(r.bytes || r.msg.bytes).toString('hex')}\n`)
    .join('');
  const out = execFileSync(TOOL, [UFRAG, PWD], { input, encoding: 'utf8', timeout: 30000 });
  return out.trim().split('\n').map((line) => {
    const [answer, send] = line.split(' send=');
    const refused = answer.startsWith('- ') ? Number(answer.slice(2)) : 0;
    return { refused, answer: refused ? null : Buffer.from(answer, 'hex'), send };
  });
}

function checkSuccess(what, req, res, ip, port) {
  c.ok(res.answer && res.answer.length <= req.bytes.length,
    `${what}: answered, ${res.answer && res.answer.length} <= ${req.bytes.length} bytes`);
  if (!res.answer) return;
  const parsed = parseMessage(res.answer, Buffer.from(PWD));
  c.ok(parsed, `${what}: werift accepts the answer (MI under the password, FINGERPRINT)`);
  c.ok(!parseMessage(res.answer, Buffer.from('another-password-entirely')),
    `${what}: werift refuses the answer under another password`);
  if (!parsed) return;
  c.ok(parsed.messageClass === classes.RESPONSE && parsed.messageMethod === methods.BINDING,
    `${what}: a binding success response`);
  c.ok(parsed.transactionId.equals(req.transactionId), `${what}: same transaction id`);
  const mapped = parsed.getAttributeValue('XOR-MAPPED-ADDRESS');
  c.ok(mapped && mapped[0] === ip && mapped[1] === port,
    `${what}: XOR-MAPPED-ADDRESS ${JSON.stringify(mapped)} is ${ip}:${port}`);
  c.ok(parsed.rawAttributes.length === 0, `${what}: no attributes werift does not know`);
}

async function main() {
  c.ok(fs.existsSync(TOOL), `stun_tool built: ${TOOL}`);
  const r4 = request();
  const r6 = request({ nominate: true });
  const r4n = request({ nominate: true });
  const wrongPwd = request({ pwd: 'not-our-password-at-all!', nominate: true });
  const wrongUfrag = request({ user: `XXXXXXXX:${PEER}` });
  const controlled = request({ controlled: true });
  const badFp = Buffer.from(request().bytes);
  badFp[badFp.length - 1] ^= 0x01;
  const res = agent([
    { ip: '127.0.0.1', port: 40000, now: 1000, msg: r4 },
    { ip: '2001:db8::5', port: 40001, now: 1100, msg: r6 },
    { ip: '127.0.0.1', port: 40000, now: 1200, msg: r4n },
    { ip: '127.0.0.2', port: 40002, now: 1300, msg: wrongPwd },
    { ip: '127.0.0.2', port: 40002, now: 1400, msg: wrongUfrag },
    { ip: '127.0.0.2', port: 40002, now: 1500, bytes: badFp },
    { ip: '127.0.0.3', port: 40003, now: 1600, msg: controlled },
  ]);
  c.ok(res.length === 7, `one line per datagram (${res.length})`);
  checkSuccess('IPv4 check', r4, res[0], '127.0.0.1', 40000);
  c.ok(res[0].send === '-', `no send tuple before nomination (${res[0].send})`);
  checkSuccess('IPv6 check with USE-CANDIDATE', r6, res[1], '2001:db8::5', 40001);
  c.ok(res[1].send === '2001:db8::5:40001', `IPv6 tuple nominated (${res[1].send})`);
  checkSuccess('IPv4 check with USE-CANDIDATE', r4n, res[2], '127.0.0.1', 40000);
  c.ok(res[2].send === '127.0.0.1:40000', `latest nomination wins (${res[2].send})`);
  c.ok(res[3].refused === BAD_INTEGRITY && res[3].send === '127.0.0.1:40000',
    `werift request under another password: no answer (- ${res[3].refused}), send tuple kept`);
  c.ok(res[4].refused === UNKNOWN_UFRAG, `request for another ufrag: no answer (- ${res[4].refused})`);
  c.ok(res[5].refused === BAD_FINGERPRINT, `corrupted FINGERPRINT: no answer (- ${res[5].refused})`);
  const err = res[6].answer && parseMessage(res[6].answer, Buffer.from(PWD));
  c.ok(err && err.messageClass === classes.ERROR, 'ICE-CONTROLLED: an error response werift verifies');
  const code = err && err.getAttributeValue('ERROR-CODE');
  c.ok(code && code[0] === 487, `ICE-CONTROLLED: 487 Role Conflict (${JSON.stringify(code)})`);
  c.ok(res[6].answer && res[6].answer.length <= controlled.bytes.length, 'the 487 is not larger than its request');
}

run('stun_werift', 60000, main, { checks: () => c });
