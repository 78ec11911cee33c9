#!/usr/bin/env node
'use strict';
/*
 * Writes the seed corpus of fuzz_rtcp (tests/fuzz/corpus/fuzz_rtcp/seed-*):
 * compound and reduced-size RTCP built with werift's RTCP code (an
 * implementation independent of src/sc_rtcp), one packet type of each
 * kind a browser sends (SR, RR, SDES, BYE, PLI, FIR, REMB, NACK,
 * transport-cc), and a few malformed ones. Deterministic.
 *
 *   node tests/fuzz/make_rtcp_seeds.js   (needs tests/node/node_modules)
 */
const fs = require('node:fs');
const path = require('node:path');
const w = require(path.join(__dirname, '..', 'node', 'node_modules', 'werift'));

const dir = path.join(__dirname, 'corpus', 'fuzz_rtcp');
fs.mkdirSync(dir, { recursive: true });
const put = (name, buf) => fs.writeFileSync(path.join(dir, `seed-${name}`), buf);

const block = (ssrc) =>
  new w.RtcpReceiverInfo({ ssrc, fractionLost: 12, packetsLost: 34, highestSequence: 70000,
    jitter: 96, lsr: 0x12345678, dlsr: 65536 });
const sr = new w.RtcpSrPacket({ ssrc: 0xAABBCCDD, senderInfo: new w.RtcpSenderInfo({
  ntpTimestamp: 0xE9B0C1D2A0000000n, rtpTimestamp: 48000, packetCount: 50, octetCount: 4000 }),
  reports: [block(1)] });
const rr = new w.RtcpRrPacket({ ssrc: 0x4C560001, reports: [block(0xAABBCCDD), block(2)] });
const sdes = new w.RtcpSourceDescriptionPacket({ chunks: [new w.SourceDescriptionChunk({
  source: 0xAABBCCDD, items: [new w.SourceDescriptionItem({ type: 1, text: 'browser-cname' })] })] });
const psfb = (feedback) => new w.RtcpPayloadSpecificFeedback({ feedback }).serialize();
const rtpfb = (feedback) => new w.RtcpTransportLayerFeedback({ feedback }).serialize();
const PSFB = path.join(__dirname, '..', 'node', 'node_modules', 'werift', 'lib', 'rtp', 'src',
  'rtcp', 'psfb');
const { PictureLossIndication } = require(path.join(PSFB, 'pictureLossIndication'));
const { FullIntraRequest: FIR } = require(path.join(PSFB, 'fullIntraRequest'));
const pli = psfb(new PictureLossIndication({ senderSsrc: 1, mediaSsrc: 2 }));
const fir = psfb(new FIR({ senderSsrc: 1, mediaSsrc: 0,
  fir: [{ ssrc: 2, sequenceNumber: 1 }, { ssrc: 3, sequenceNumber: 7 }] }));
const remb = psfb(new w.ReceiverEstimatedMaxBitrate({ senderSsrc: 1, mediaSsrc: 0,
  bitrate: 300000n, ssrcFeedbacks: [2] }));
const nack = rtpfb(new w.GenericNack({ senderSsrc: 1, mediaSsrc: 2, lost: [10, 11, 15, 40] }));
const twcc = Buffer.from('8fcd0005000000010000000200010003000100ee2000031900000000', 'hex');

put('sr-sdes', Buffer.concat([sr.serialize(), sdes.serialize()]));
put('rr-sdes', Buffer.concat([rr.serialize(), sdes.serialize()]));
put('sr-rr-sdes-bye', Buffer.concat([sr.serialize(), rr.serialize(), sdes.serialize(),
  Buffer.from('81cb0001aabbccdd', 'hex')]));
put('pli', pli);
put('fir', fir);
put('remb', remb);
put('nack', nack);
put('twcc', twcc);
put('rr-pli-remb', Buffer.concat([rr.serialize(), pli, remb]));
/* Key-frame requests for more SSRCs than the parser keeps, one twice. */
put('many-keyframe', Buffer.concat([rr.serialize(), fir,
  ...[2, 4, 5, 6, 7, 8].map((m) => psfb(new PictureLossIndication({ senderSsrc: 1, mediaSsrc: m })))]));
put('bad-length', Buffer.concat([sr.serialize().subarray(0, 20)]));
put('bad-count', Buffer.from('9fc9000100000001', 'hex'));
put('short-fb', Buffer.from('81ce000100000001', 'hex'));
