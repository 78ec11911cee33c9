'use strict';
/*
 * A Galène member in a room, for tests that mix dialects: a page of a
 * Chromium already running (lib/chromium.js launchBrowser/launchChromium)
 * with lib/galene_client.js injected, connected to the server's Galène
 * listener (--galene-listen, path /ws), joined with an LVSP voice state's
 * token (group = its channel id), requesting audio (the server offers a
 * down stream per member) and publishing a WebAudio sine.
 *
 *   const peer = await startPeer(browser, srv, vs, { freq: 440 });
 *   await peer.inbound();  // [{ssrc, packetsReceived, totalAudioEnergy, source, username, ...}]
 *   await peer.close();
 *
 * vs is a voice state as lib/lvsp_client.js gives it ({token, user_id,
 * channel_id, session_id, ssrc}). Resolves once joined and the up stream
 * is answered; peer.joined is the server's `joined` message.
 */
const fs = require('node:fs');
const path = require('node:path');

const { HOST } = require('./server');

const CLIENT_SOURCE = path.join(__dirname, 'galene_client.js');

function galeneUrl(srv) {
  if (!srv.ports || !srv.ports.galene) throw new Error('the server has no --galene-listen port');
  return `wss://${HOST}:${srv.ports.galene}/ws`;
}

/* The page with the client (lib/chromium.js openServedPage); resolves
 * {page, server}. */
function openClientPage(browser) {
  const { openServedPage, HTML, JS } = require('./chromium');
  const html = '<!doctype html><meta charset="utf-8"><title>galene</title><script src="/galene_client.js"></script>';
  const routes = { '/': [HTML, html], '/galene_client.js': [JS, () => fs.readFileSync(CLIENT_SOURCE)] };
  return openServedPage(browser, routes, {
    label: 'galene page', ready: () => typeof window.GaleneClient === 'function',
  });
}

async function startPeer(browser, srv, vs, opts = {}) {
  const freq = opts.freq || 440;
  const { page, server } = await openClientPage(browser);
  try {
    const joined = await page.evaluate(async (url, group, token, hz) => {
      const c = new window.GaleneClient(url);
      window.gc = c;
      await c.connect();
      const j = await c.join(group, { token });
      if (j.kind !== 'join') return j;
      c.request({ '': ['audio'] });
      await c.publish(hz);
      return j;
    }, galeneUrl(srv), vs.channel_id, vs.token, freq);
    if (joined.kind !== 'join') throw new Error(`galene join failed: ${JSON.stringify(joined)}`);
    return {
      page,
      joined,
      clientId: await page.evaluate(() => window.gc.id),
      inbound: () => page.evaluate(() => window.gc.inbound()),
      outbound: () => page.evaluate(() => window.gc.outbound()),
      messages: () => page.evaluate(() => window.gc.messages),
      errors: () => page.evaluate(() => window.gc.errors),
      async close() {
        await page.evaluate(() => window.gc.close()).catch(() => {});
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

module.exports = { startPeer, openClientPage, galeneUrl };
