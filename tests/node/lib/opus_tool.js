'use strict';
/*
 * Opus packet files and the opus_tone tool (tests/tools/opus_tone.c).
 *
 * File format: a sequence of (u16 big-endian length, packet bytes).
 * The tool is built by tests/CMakeLists.txt into <build>/tests/opus_tone.
 *
 *   const tool = opusTool(buildDir);
 *   tool.encode(440, 250, file);     // 250 x 20 ms frames of 440 Hz
 *   tool.analyze(file);              // {packets, decoded_samples, dominant_hz, rms}
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function readPackets(file) {
  const buf = fs.readFileSync(file);
  const packets = [];
  let off = 0;
  while (off + 2 <= buf.length) {
    const len = buf.readUInt16BE(off);
    if (len === 0 || off + 2 + len > buf.length) {
      throw new Error(`${file}: bad packet length ${len} at offset ${off}`);
    }
    packets.push(buf.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  if (off !== buf.length) throw new Error(`${file}: trailing byte at ${off}`);
  return packets;
}

function writePackets(file, packets) {
  const parts = [];
  for (const p of packets) {
    if (p.length === 0 || p.length > 0xffff) throw new Error(`bad packet size ${p.length}`);
    const hdr = Buffer.alloc(2);
    hdr.writeUInt16BE(p.length);
    parts.push(hdr, p);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

function opusTool(buildDir) {
  const bin = path.join(buildDir, 'tests', 'opus_tone');
  if (!fs.existsSync(bin)) throw new Error(`opus_tone not built: ${bin}`);
  const run = (args) => execFileSync(bin, args, { encoding: 'utf8', timeout: 30000 });
  return {
    bin,
    encode(hz, nframes, file) {
      run(['encode', String(hz), String(nframes), file]);
      return readPackets(file);
    },
    analyze(file) {
      return JSON.parse(run(['analyze', file]).trim());
    },
    /* Writes packets to file and analyzes them. */
    analyzePackets(packets, file) {
      writePackets(file, packets);
      return this.analyze(file);
    },
  };
}

/* Encodes the two test tones (440 and 660 Hz, `frames` 20 ms frames each)
 * into dir; returns {tone440, tone660} (file paths). */
function toneFiles(buildDir, dir, frames) {
  const tool = opusTool(buildDir);
  const out = {};
  for (const hz of [440, 660]) {
    out[`tone${hz}`] = path.join(dir, `tone${hz}.opus`);
    tool.encode(hz, frames, out[`tone${hz}`]);
  }
  return out;
}

module.exports = { readPackets, writePackets, opusTool, toneFiles };
