'use strict';
/*
 * Reading litecord-voice's admin API (plain HTTP on loopback).
 *
 *   const r = await adminGet(srv.adminUrl, '/state', srv.adminToken());
 *   // POST with a JSON body: adminGet(url, '/log-level', token, { method: 'POST', body: {...} })
 *   // r.status, r.headers, r.json (null if the body is not JSON), r.text
 *   const st = await adminState(srv.adminUrl, token);   // throws unless 200
 *   const m = findMember(st, user_id);                  // {channel, member}
 *   const gl = await frontendState(srv, 'galene');      // st.frontends.galene, or null
 *   const m = await adminMetrics(srv);                   // throws unless 200
 *   // m.text, m.types {family: type}, m.values {'name{labels}': number}
 */
const http = require('node:http');

function adminGet(baseUrl, path, token, { method = 'GET', timeoutMs = 5000, body } = {}) {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { Authorization: `Bearer ${token}` };
    const payload = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
    // A connection per request (agent: false): Node 20's global agent keeps
    // connections alive, and the server closes one idle for 5 s
    // (docs/ADMIN.md), so a request 5 s after the last could be written into
    // a socket the server is closing ("socket hang up").
    const opts = { method, headers, timeout: timeoutMs, agent: false };
    const req = http.request(`${baseUrl}${path}`, opts, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`admin ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload || undefined);
  });
}

async function adminState(baseUrl, token) {
  const r = await adminGet(baseUrl, '/state', token);
  if (r.status !== 200 || !r.json) throw new Error(`admin /state: HTTP ${r.status} ${r.text}`);
  return r.json;
}

/* A front end's counters from GET /state (frontends[name]) on a started
 * server (lib/server.js), or null when the request fails or it has none. */
async function frontendState(srv, name) {
  try {
    return (await adminState(srv.adminUrl, srv.adminToken())).frontends[name] || null;
  } catch {
    return null;
  }
}

/* GET /metrics (Prometheus text) parsed: every sample line's value by its
 * name and labels as written, every family's # TYPE. */
async function adminMetrics(srv) {
  const r = await adminGet(srv.adminUrl, '/metrics', srv.adminToken());
  if (r.status !== 200) throw new Error(`/metrics: HTTP ${r.status}`);
  const types = {};
  const values = {};
  for (const line of r.text.split('\n')) {
    let m = line.match(/^# TYPE (\S+) (\S+)$/);
    if (m) types[m[1]] = m[2];
    else if ((m = line.match(/^([^#\s]\S*) (\S+)$/))) values[m[1]] = Number(m[2]);
  }
  return { text: r.text, types, values };
}

/* The member entry of user_id (in channel_id, if given) and its channel. */
function findMember(state, userId, channelId) {
  for (const channel of state.channels || []) {
    if (channelId && channel.id !== channelId) continue;
    const member = (channel.members || []).find((m) => m.user_id === userId);
    if (member) return { channel, member };
  }
  return null;
}

module.exports = { adminGet, adminState, adminMetrics, frontendState, findMember };
