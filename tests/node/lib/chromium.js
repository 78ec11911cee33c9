'use strict';
/*
 * Debian's headless Chromium driven by puppeteer-core 24.43.1, with the
 * "Discord web client" page (lib/webrtc_page.html, lib/discord_sdp.js)
 * served from http://127.0.0.1:<ephemeral> (a secure context, so WebRTC
 * and WebAudio work without permissions).
 *
 *   const ch = await launchChromium();      // { browser, page, url, close }
 *   const d = await ch.page.evaluate(() => startClient({ video: true }));
 *   await ch.close();
 *   // another page, served with its scripts (lib/vortex_peer.js, galene_peer.js):
 *   const { page, server } = await openServedPage(browser, routes, { label, ready });
 *
 * Flags: no sandbox (root), no GPU/QUIC/background traffic, a fresh
 * profile, autoplay without a gesture, loopback candidates allowed
 * (--allow-loopback-in-peer-connection), self-signed wss accepted
 * (acceptInsecureCerts). CHROMIUM overrides /usr/bin/chromium.
 */
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PAGE_FLAGS = ['--autoplay-policy=no-user-gesture-required', '--allow-loopback-in-peer-connection'];
const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const read = (name) => () => fs.readFileSync(path.join(__dirname, name));
const FILES = { '/': [HTML, read('webrtc_page.html')], '/webrtc_page.html': [HTML, read('webrtc_page.html')],
  '/discord_sdp.js': [JS, read('discord_sdp.js')] };

/* Serves routes ({'/path': [content type, body or () => body]}) on
 * 127.0.0.1:0, 404 for anything else; resolves the server. */
function serveRoutes(routes) {
  const server = http.createServer((req, res) => {
    const route = routes[req.url.split('?')[0]];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const [type, body] = route;
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(typeof body === 'function' ? body() : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/* A new page of browser loaded from routes['/'] over
 * http://127.0.0.1:<ephemeral> (headless Chromium opens no wss:// from
 * about:blank), once ready() is true in it; its console goes to ours
 * under `label` with SC_VERBOSE. Resolves { page, server } (the caller
 * closes both); on failure both are closed. */
async function openServedPage(browser, routes, { label, ready }) {
  const server = await serveRoutes(routes);
  const page = await browser.newPage();
  page.on('console', (m) => { if (process.env.SC_VERBOSE) console.log(`[${label}] ${m.text()}`); });
  try {
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(ready);
  } catch (err) {
    await page.close().catch(() => {});
    server.close();
    throw err;
  }
  return { page, server };
}

/* Only the browser: for scripts that bring their own page (about:blank). */
async function launchBrowser({ extraArgs = [] } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-'));
  const browser = await puppeteer.launch({
    executablePath: EXECUTABLE, headless: true, userDataDir: profile, acceptInsecureCerts: true,
    args: [...FLAGS, ...PAGE_FLAGS, ...extraArgs],
  });
  const close = async () => {
    await browser.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { browser, close };
}

/* The browser with the page loaded; page.evaluate reaches its API. */
async function launchChromium(opts = {}) {
  const server = await serveRoutes(FILES);
  const b = await launchBrowser(opts);
  try {
    const page = await b.browser.newPage();
    page.on('console', (m) => { if (process.env.SC_VERBOSE) console.log(`[page] ${m.text()}`); });
    const url = `http://127.0.0.1:${server.address().port}/webrtc_page.html`;
    await page.goto(url);
    await page.waitForFunction(() => window.pageReady === true);
    const close = async () => {
      await b.close();
      server.close();
    };
    return { browser: b.browser, page, url, close };
  } catch (err) {
    await b.close();
    server.close();
    throw err;
  }
}

module.exports = { launchChromium, launchBrowser, openServedPage, HTML, JS, EXECUTABLE };
