'use strict';
/*
 * Discord's web client, the SDP half (reference webrtc.md §1), as pure
 * functions over SDP text, shared by the werift client (discord_webrtc.js)
 * and the browser page (webrtc_page.html loads this file as a script:
 * window.DiscordSdp).
 *
 *   makeFragment(offer, { video })
 *                              the trimmed fragment op 1 carries
 *   codecsOf(offer, { video }) op 1 `codecs` (Opus with its PT first)
 *   selectProtocol(offer, { video })
 *                              the whole op 1 `d`; video: the video codecs
 *                              offered in codecs, ['VP8'] unless told
 *                              (['H264', 'VP8'] as Discord's Chrome client)
 *   parsePartialAnswer(sdp)    op 4's eight lines -> {port, ip, ufrag, pwd,
 *                              fingerprint, candidate}; throws on what the
 *                              client checks (fingerprint, ufrag, pwd,
 *                              candidate, a 3-part c= line)
 *   synthesizeAnswer(offer, partial, remotes)
 *                              the full answer the client builds itself:
 *                              BUNDLE, one section per offered m-line in
 *                              order, UDP/TLS/RTP/SAVPF, setup:passive,
 *                              rtcp-mux, the client's own PTs and extmap IDs,
 *                              a=msid + a=ssrc per remote stream;
 *                              { videoCodec }: op 4's video_codec (VP8
 *                              unless told), answered with the PT
 *                              codecs gave it and that PT's own fmtp
 *   pickH264(offer, profile)   the offered H264 PT with packetization-mode=1
 *                              and that profile-level-id (default 42e01f,
 *                              constrained baseline), else the first
 *                              mode-1 one
 */
(function (root) {
  const lines = (sdp) => sdp.split(/\r?\n/).filter((l) => l.length > 0);

  /* Codec names by PT, rtx PT by the PT it repairs (fmtp apt=). */
  function codecMaps(ls) {
    const name = new Map();
    const rtxOf = new Map();
    const fmtp = new Map();
    for (const l of ls) {
      let m = /^a=rtpmap:(\d+) ([^/\s]+)\//.exec(l);
      if (m) name.set(Number(m[1]), m[2]);
      m = /^a=fmtp:(\d+) .*\bapt=(\d+)/.exec(l);
      if (m) rtxOf.set(Number(m[2]), Number(m[1]));
      m = /^a=fmtp:(\d+) (.+)$/.exec(l);
      if (m) fmtp.set(Number(m[1]), m[2]);
    }
    return { name, rtxOf, fmtp };
  }

  const ptsNamed = (maps, codec) => [...maps.name].filter(([, n]) => n.toLowerCase() === codec).map(([pt]) => pt);

  /* H264 needs packetization-mode=1 (FU-A) for frames over one MTU. */
  function h264Pt(maps, profile = '42e01f') {
    const mode1 = ptsNamed(maps, 'h264').filter((pt) => /\bpacketization-mode=1\b/.test(maps.fmtp.get(pt) || ''));
    const exact = mode1.find((pt) => new RegExp(`\\bprofile-level-id=${profile}\\b`, 'i').test(maps.fmtp.get(pt)));
    return exact !== undefined ? exact : mode1[0];
  }

  const pickH264 = (offer, profile) => h264Pt(codecMaps(lines(offer)), profile);

  /* The PT the client answers a codec with (`codecs` names the same). */
  function videoPt(maps, codec, h264Profile) {
    return codec.toLowerCase() === 'h264' ? h264Pt(maps, h264Profile) : ptsNamed(maps, codec.toLowerCase())[0];
  }

  /* Lines matching ^a=(extmap-allow-mixed|ice-|fingerprint|extmap:), plus
   * the rtpmaps of Opus and of the video codecs' PTs and their rtx (VP8
   * alone unless told); no duplicates; joined by LF. */
  function makeFragment(offer, { video = ['VP8'], h264Profile } = {}) {
    const ls = lines(offer);
    const maps = codecMaps(ls);
    const keep = new Set(ptsNamed(maps, 'opus'));
    for (const codec of video) {
      const pt = videoPt(maps, codec, h264Profile);
      if (pt === undefined) continue;
      keep.add(pt);
      if (maps.rtxOf.has(pt)) keep.add(maps.rtxOf.get(pt));
    }
    const out = [];
    for (const l of ls) {
      const m = /^a=rtpmap:(\d+) /.exec(l);
      const wanted = /^a=(extmap-allow-mixed|ice-|fingerprint|extmap:)/.test(l) || (m && keep.has(Number(m[1])));
      if (wanted && !out.includes(l)) out.push(l);
    }
    return out.join('\n');
  }

  const PRIORITY = { H264: 1000, VP8: 2000, VP9: 3000 }; /* Chrome's, as captured */

  function codecsOf(offer, { video = ['VP8'], h264Profile } = {}) {
    const maps = codecMaps(lines(offer));
    const opus = ptsNamed(maps, 'opus')[0];
    const codecs = [{ name: 'opus', type: 'audio', priority: 1000, payload_type: opus, rtx_payload_type: null }];
    for (const name of video) {
      const pt = videoPt(maps, name, h264Profile);
      if (pt === undefined) continue;
      codecs.push({ name, type: 'video', priority: PRIORITY[name] || 4000, payload_type: pt,
                    rtx_payload_type: maps.rtxOf.has(pt) ? maps.rtxOf.get(pt) : null });
    }
    return codecs;
  }

  function uuid() {
    const hex = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  function selectProtocol(offer, opts = {}) {
    const fragment = makeFragment(offer, opts);
    return { protocol: 'webrtc', data: fragment, sdp: fragment, codecs: codecsOf(offer, opts), rtc_connection_id: uuid() };
  }

  function parsePartialAnswer(sdp) {
    const ls = lines(sdp);
    const find = (re) => { for (const l of ls) { const m = re.exec(l); if (m) return m; } return null; };
    const mline = find(/^m=audio (\d+) /);
    const c = find(/^c=(.*)$/);
    const ufrag = find(/^a=ice-ufrag:(.+)$/);
    const pwd = find(/^a=ice-pwd:(.+)$/);
    const fp = find(/^a=fingerprint:(.+)$/);
    const cand = find(/^a=candidate:(.+)$/);
    const cParts = c ? c[1].split(' ') : [];
    const missing = [!fp && 'fingerprint', !ufrag && 'ice-ufrag', !pwd && 'ice-pwd', !cand && 'candidate',
      cParts.length !== 3 && 'c= line', !mline && 'm= line'].filter(Boolean);
    if (missing.length) throw new Error(`op 4 sdp lacks ${missing.join(', ')}`);
    return { port: Number(mline[1]), ip: cParts[2], ufrag: ufrag[1], pwd: pwd[1], fingerprint: fp[1], candidate: cand[1] };
  }

  /* The offer's m-sections: kind, mid, direction, PTs by codec, extmaps. */
  function sections(offer) {
    const out = [];
    for (const l of lines(offer)) {
      const m = /^m=(\w+) /.exec(l);
      if (m) { out.push({ kind: m[1], mid: null, direction: 'sendrecv', ls: [] }); continue; }
      const s = out[out.length - 1];
      if (!s) continue;
      s.ls.push(l);
      const mid = /^a=mid:(.+)$/.exec(l);
      if (mid) s.mid = mid[1];
      if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l)) s.direction = l.slice(2);
    }
    for (const s of out) {
      s.maps = codecMaps(s.ls);
      s.extmap = new Map();
      for (const l of s.ls) {
        const m = /^a=extmap:(\d+)(?:\/\w+)? (\S+)/.exec(l);
        if (m) s.extmap.set(m[2], Number(m[1]));
      }
    }
    return out;
  }

  const ANSWER_DIRECTION = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };
  const URI = {
    audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    twcc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  };

  function codecLines(s, { videoCodec = 'VP8', h264Profile } = {}) {
    const out = [];
    const extmaps = s.kind === 'audio' ? [URI.audioLevel, URI.twcc] : [URI.twcc];
    for (const uri of extmaps) if (s.extmap.has(uri)) out.push(`a=extmap:${s.extmap.get(uri)} ${uri}`);
    const pts = [];
    if (s.kind === 'audio') {
      const opus = ptsNamed(s.maps, 'opus')[0];
      if (opus === undefined) return null;
      pts.push(opus);
      out.push(`a=rtpmap:${opus} opus/48000/2`, `a=fmtp:${opus} minptime=10;useinbandfec=1;usedtx=1`,
        `a=rtcp-fb:${opus} transport-cc`, 'a=maxptime:60');
    } else {
      const pt = videoPt(s.maps, videoCodec, h264Profile);
      if (pt === undefined) return null;
      pts.push(pt);
      out.push(`a=rtpmap:${pt} ${s.maps.name.get(pt)}/90000`);
      if (s.maps.fmtp.has(pt)) out.push(`a=fmtp:${pt} ${s.maps.fmtp.get(pt)}`); /* H264: mode and profile */
      for (const fb of ['ccm fir', 'nack', 'nack pli', 'goog-remb', 'transport-cc']) out.push(`a=rtcp-fb:${pt} ${fb}`);
      const rtx = s.maps.rtxOf.get(pt);
      if (rtx !== undefined) {
        pts.push(rtx);
        out.push(`a=rtpmap:${rtx} rtx/90000`, `a=fmtp:${rtx} apt=${pt}`);
      }
    }
    return { pts, lines: out };
  }

  /* remotes: [{ user_id, ssrc, kind: 'audio'|'video', rtx_ssrc? }], given
   * in order to the sections that send (answer direction sendrecv or
   * sendonly) of their kind; remotes beyond them are left out (the client
   * adds recvonly sections and renegotiates locally). o= keeps sessionId
   * across renegotiations, with a growing version. Returns { sdp,
   * assigned: [remote + mid...] }. */
  function synthesizeAnswer(offer, partial, remotes = [], { sessionId = Date.now(), version = 2, videoCodec, h264Profile } = {}) {
    const secs = sections(offer);
    const { port, ip } = partial;
    const out = ['v=0', `o=- ${sessionId} ${version} IN IP4 127.0.0.1`, 's=-', 't=0 0',
      `a=group:BUNDLE ${secs.map((s) => s.mid).join(' ')}`, 'a=msid-semantic: WMS *'];
    const queue = remotes.slice();
    const assigned = [];
    for (const s of secs) {
      const codec = codecLines(s, { videoCodec, h264Profile });
      if (!codec) throw new Error(`offered ${s.kind} section ${s.mid} has no codec we answer`);
      const direction = ANSWER_DIRECTION[s.direction];
      out.push(`m=${s.kind} ${port} UDP/TLS/RTP/SAVPF ${codec.pts.join(' ')}`, `c=IN IP4 ${ip}`, `a=rtcp:${port} IN IP4 ${ip}`,
        `a=ice-ufrag:${partial.ufrag}`, `a=ice-pwd:${partial.pwd}`, `a=fingerprint:${partial.fingerprint}`,
        `a=candidate:${partial.candidate}`, 'a=setup:passive', `a=mid:${s.mid}`, 'a=rtcp-mux',
        `a=${direction}`, ...codec.lines);
      const i = direction === 'sendrecv' || direction === 'sendonly' ? queue.findIndex((r) => r.kind === s.kind) : -1;
      if (i < 0) continue;
      const r = queue.splice(i, 1)[0];
      assigned.push({ ...r, mid: s.mid });
      const stream = `${r.user_id}-${r.kind}`;
      const cname = `user${r.user_id}`;
      out.push(`a=msid:${stream} ${stream}-track`);
      if (r.kind === 'video' && r.rtx_ssrc) out.push(`a=ssrc-group:FID ${r.ssrc} ${r.rtx_ssrc}`);
      for (const ssrc of [r.ssrc, r.kind === 'video' ? r.rtx_ssrc : null].filter(Boolean)) {
        out.push(`a=ssrc:${ssrc} cname:${cname}`, `a=ssrc:${ssrc} msid:${stream} ${stream}-track`);
      }
    }
    return { sdp: `${out.join('\r\n')}\r\n`, assigned };
  }

  const api = { makeFragment, codecsOf, selectProtocol, parsePartialAnswer, synthesizeAnswer, sections, pickH264 };
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.DiscordSdp = api;
})(typeof window !== 'undefined' ? window : globalThis);
