'use strict';
/*
 * An ion client (ion-sdk-js 0.4.1, bundled with esbuild from
 * lib/ion_page_entry.js) in a page of a running headless Chromium
 * (lib/chromium.js's launchBrowser), for ion_chromium.test.js and the
 * mixed-room test.
 *
 *   const p = await startPeer(browser, srv, vs, { freq: 440 });
 *   // vs = { token, user_id, channel_id, session_id, ssrc } as lib/lvsp_client.js gives it
 *   // joins vs.channel_id with ?token= and uid = vs.user_id, publishes a sine
 *   // of opts.freq Hz, subscribes to every stream the server announces
 *   const rx = await p.inbound();   // [{ ssrc, packetsReceived, totalAudioEnergy }]
 *   await p.state();                // { pcs, streams, subscribed, removed, requests, errors }
 *   await p.leave();                // ion-sdk-js's leave(): [{ method, outcome }] it caused
 *   await p.close();
 */
const path = require('node:path');

const { HOST } = require('./server');

let bundle = null;

function pageBundle() {
  if (!bundle) {
    const esbuild = require('esbuild');
    const out = esbuild.buildSync({
      entryPoints: [path.join(__dirname, 'ion_page_entry.js')], bundle: true, format: 'iife',
      platform: 'browser', write: false, logLevel: 'error', define: { global: 'window' },
    });
    bundle = out.outputFiles[0].text;
  }
  return bundle;
}

async function startPeer(browser, srv, vs, opts = {}) {
  const page = await browser.newPage();
  page.on('console', (m) => { if (process.env.SC_VERBOSE) console.log(`[ion page] ${m.text()}`); });
  page.on('pageerror', (e) => { if (process.env.SC_VERBOSE) console.log(`[ion page error] ${e.message}`); });
  await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
  await page.addScriptTag({ content: pageBundle() });
  await page.waitForFunction(() => window.ionPageReady === true);
  const url = `wss://${HOST}:${srv.ports.ion}/ws?token=${encodeURIComponent(vs.token)}`;
  const started = await page.evaluate((a) => window.ionStart(a), {
    url, rid: vs.channel_id, uid: vs.user_id, freq: opts.freq || 440, publish: opts.publish !== false,
  });
  return {
    page,
    mid: started.mid,
    inbound: () => page.evaluate(() => window.ionInbound()),
    state: () => page.evaluate(() => window.ionState()),
    leave: () => page.evaluate(() => window.ionLeave()),
    async close() {
      await page.evaluate(() => window.ionStop()).catch(() => {});
      await page.close().catch(() => {});
    },
  };
}

module.exports = { startPeer, pageBundle };
