'use strict';
/*
 * Generates the MLS vectors of tests/unit/test_dv_mls.c with the real
 * @snazzah/davey (OpenMLS) and an External Sender written here with Node's
 * crypto, independent of discord_voice/dv_mls.c (reference dave-server.md
 * section 4). Four davey sessions A, B, C, D in one channel:
 *   epoch 0: Add(KP_B), Add(KP_D) -> A commits (commit_add_b + welcome_b,
 *            two secrets), B and D join;
 *   epoch 1: Add(KP_C) -> A commits (commit_add_c + welcome_c), B and D
 *            apply, C joins;
 *   epoch 2: Remove(leaf of B) -> A commits (commit_remove, with a path).
 * Every step is checked with davey (equal voice privacy codes), so the
 * committed vectors are known good. Output: tests/unit/data/dave/vectors.json
 * and seeds for tests/fuzz/corpus/fuzz_mls_{keypackage,commit}/.
 * Usage: node tests/node/dave_vectors.js (rerun only to refresh vectors).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { DAVESession } = require('@snazzah/davey');

const USER_A = 158049329150427136n;
const USER_B = 343383572805058560n;
const USER_C = 1060223446135812136n;
const USER_D = 412345678901234567n;
const OTHER_USER = 80351110224678912n;
const CHANNEL = 1228734981395251230n;

function varint(n) {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n | 0x80000000);
  return b;
}
const vec = (b) => Buffer.concat([varint(b.length), b]);
const u16 = (v) => Buffer.from([v >> 8, v & 0xff]);
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(v)); return b; };
const refHash = (label, v) =>
  crypto.createHash('sha256').update(Buffer.concat([vec(Buffer.from(label)), vec(v)])).digest();

const es = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const jwk = es.publicKey.export({ format: 'jwk' });
const esPub = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'),
                             Buffer.from(jwk.y, 'base64url')]);
const esIdentity = Buffer.from('vector-sender');
const externalSender = Buffer.concat([vec(esPub), u16(1), vec(esIdentity)]);

function signWithLabel(label, content) {
  const tbs = Buffer.concat([vec(Buffer.from('MLS 1.0 ' + label)), vec(content)]);
  return crypto.sign('sha256', tbs, { key: es.privateKey, dsaEncoding: 'der' });
}

function proposal(epoch, type, body) {
  const framed = Buffer.concat([u16(1), u16(1), vec(u64(CHANNEL)), u64(epoch), Buffer.from([2]),
                                u32(0), vec(Buffer.alloc(0)), Buffer.from([2]), u16(type), body]);
  const msg = Buffer.concat([framed, vec(signWithLabel('FramedContentTBS', framed))]);
  return { msg, ref: refHash('MLS 1.0 Proposal Reference', msg.subarray(2)) };
}

const kpRef = (kp) => refHash('MLS 1.0 KeyPackage Reference', kp);
const ids = (...u) => u.map(String);
const hex = (b) => Buffer.from(b).toString('hex');
function check(cond, what) {
  if (!cond) throw new Error('vector generation: ' + what);
}

const A = new DAVESession(1, String(USER_A), String(CHANNEL));
const B = new DAVESession(1, String(USER_B), String(CHANNEL));
const C = new DAVESession(1, String(USER_C), String(CHANNEL));
const D = new DAVESession(1, String(USER_D), String(CHANNEL));
for (const s of [A, B, C, D]) s.setExternalSender(externalSender);
const kpA = A.getSerializedKeyPackage();
const kpB = B.getSerializedKeyPackage();
const kpC = C.getSerializedKeyPackage();
const kpD = D.getSerializedKeyPackage();

// epoch 0: A adds B and D.
const addB = proposal(0, 1, kpB);
const addD = proposal(0, 1, kpD);
const r1 = A.processProposals(0, vec(Buffer.concat([addB.msg, addD.msg])),
                              ids(USER_A, USER_B, USER_D));
check(r1.commit && r1.welcome, 'no commit/welcome for Add(B), Add(D)');
B.processWelcome(r1.welcome);
D.processWelcome(r1.welcome);
A.processCommit(r1.commit);
check(A.epoch === 1n && B.epoch === 1n && D.voicePrivacyCode === A.voicePrivacyCode, 'epoch 1');

// epoch 1: A adds C, B applies, C joins.
const addC = proposal(1, 1, kpC);
const all = ids(USER_A, USER_B, USER_C, USER_D);
const r2 = A.processProposals(0, vec(addC.msg), all);
B.processProposals(0, vec(addC.msg), all);
D.processProposals(0, vec(addC.msg), all);
check(r2.commit && r2.welcome, 'no commit/welcome for Add(C)');
A.processCommit(r2.commit);
B.processCommit(r2.commit);
D.processCommit(r2.commit);
C.processWelcome(r2.welcome);
check(C.epoch === 2n && A.voicePrivacyCode === C.voicePrivacyCode, 'epoch 2 codes');

// epoch 2: remove B (leaf 1).
const removeB = proposal(2, 3, u32(B.ownLeafIndex));
const rest = ids(USER_A, USER_C, USER_D);
const r3 = A.processProposals(0, vec(removeB.msg), rest);
C.processProposals(0, vec(removeB.msg), rest);
D.processProposals(0, vec(removeB.msg), rest);
check(r3.commit && !r3.welcome, 'remove commit');
A.processCommit(r3.commit);
C.processCommit(r3.commit);
D.processCommit(r3.commit);
check(A.epoch === 3n && A.voicePrivacyCode === C.voicePrivacyCode &&
      D.voicePrivacyCode === C.voicePrivacyCode, 'epoch 3 codes');

const out = {
  generator: 'tests/node/dave_vectors.js with @snazzah/davey ' +
             require('@snazzah/davey/package.json').version,
  channel: String(CHANNEL),
  user_a: String(USER_A), user_b: String(USER_B), user_c: String(USER_C), user_d: String(USER_D),
  other_user: String(OTHER_USER),
  external_sender: hex(externalSender),
  kp_a: hex(kpA), kp_a_ref: hex(kpRef(kpA)),
  kp_b: hex(kpB), kp_b_ref: hex(kpRef(kpB)),
  kp_c: hex(kpC), kp_c_ref: hex(kpRef(kpC)),
  kp_d: hex(kpD), kp_d_ref: hex(kpRef(kpD)),
  add_b: hex(addB.msg), add_b_ref: hex(addB.ref),
  add_c: hex(addC.msg), add_c_ref: hex(addC.ref),
  add_d: hex(addD.msg), add_d_ref: hex(addD.ref),
  remove_b: hex(removeB.msg), remove_b_ref: hex(removeB.ref), remove_b_leaf: B.ownLeafIndex,
  commit_add_b: hex(r1.commit), welcome_b: hex(r1.welcome),
  commit_add_c: hex(r2.commit), welcome_c: hex(r2.welcome),
  commit_remove: hex(r3.commit),
  a_leaf: A.ownLeafIndex,
};
const root = path.join(__dirname, '..');
const dataDir = path.join(root, 'unit', 'data', 'dave');
fs.mkdirSync(dataDir, { recursive: true });
fs.writeFileSync(path.join(dataDir, 'vectors.json'), JSON.stringify(out, null, 1) + '\n');
const seeds = {
  // input = the authenticated user id (u64 BE) || op 26 payload
  fuzz_mls_keypackage: {
    kp_a: Buffer.concat([u64(USER_A), kpA]),
    kp_b_wrong_user: Buffer.concat([u64(OTHER_USER), kpB]),
    kp_c_wrapped: Buffer.concat([u64(USER_C), u16(1), u16(5), kpC]),
  },
  fuzz_mls_commit: {
    add_b: Buffer.concat([r1.commit, r1.welcome]),
    add_c: Buffer.concat([r2.commit, r2.welcome]),
    remove: r3.commit,
  },
};
for (const [target, files] of Object.entries(seeds)) {
  const dir = path.join(root, 'fuzz', 'corpus', target);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), bytes);
}
console.log('dave vectors written to', dataDir);
