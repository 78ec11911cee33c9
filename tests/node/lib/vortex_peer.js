'use strict';
/*
 * A mediasoup-client member (Vortex dialect) in a Chromium page, for the
 * Vortex test and the mixed-room test. The page's script is
 * lib/vortex_entry.js bundled with esbuild at first use (not committed),
 * served with a small HTML page from 127.0.0.1 (a secure context).
 *
 *   const p = await startPeer(browser, srv, vs, { freq: 440 });
 *   // vs: a VoiceInfo from lib/lvsp_client.js {token, user_id, channel_id, ...}
 *   await p.inbound()   // [{ ssrc, packetsReceived, totalAudioEnergy, userId }]
 *   await p.close();
 */
const path = require('node:path');

let bundle = null;

function buildBundle() {
  if (bundle) return bundle;
  const esbuild = require('esbuild');
  const out = esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'vortex_entry.js')],
    bundle: true, format: 'esm', write: false, platform: 'browser', target: 'es2020',
    define: { 'process.env.DEBUG': 'undefined', 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  bundle = out.outputFiles[0].text;
  return bundle;
}

const PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>vortex peer</title></head>' +
  '<body><script type="module" src="/vx.js"></script></body></html>';

/* The Vortex URL of a test server (lib/server.js gives --vortex-listen a port). */
function vortexUrl(srv) {
  return `wss://127.0.0.1:${srv.ports.vortex}/`;
}

async function startPeer(browser, srv, vs, opts = {}) {
  const { openServedPage, HTML, JS } = require('./chromium');
  const routes = { '/': [HTML, PAGE], '/vx.js': [JS, buildBundle()] };
  const { page, server } = await openServedPage(browser, routes, {
    label: 'vortex page', ready: () => window.vxReady === true,
  });
  try {
    const joined = await page.evaluate((a) => window.vxJoin(a), {
      url: opts.url || vortexUrl(srv), token: vs.token, roomId: vs.channel_id,
      freq: opts.freq || 440, produce: opts.produce !== false,
    });
    return {
      page,
      joined,
      inbound: () => page.evaluate(() => window.vxInbound()),
      outbound: () => page.evaluate(() => window.vxOutbound()),
      state: () => page.evaluate(() => window.vxState()),
      produce: (freq = 440) => page.evaluate((f) => window.vxProduce(f), freq),
      reproduce: (freq = 440) => page.evaluate((f) => window.vxReproduce(f), freq),
      serverPause: (userId, paused) => page.evaluate((u, x) => window.vxServerPause(u, x), userId, paused),
      request: (type, data) => page.evaluate((t, d) => window.vxRequest(t, d), type, data),
      async close() {
        await page.evaluate(() => window.vxLeave()).catch(() => {});
        await page.close().catch(() => {});
        server.close();
      },
    };
  } catch (err) {
    await page.close().catch(() => {});
    server.close();
    throw err;
  }
}

module.exports = { startPeer, vortexUrl, buildBundle };
