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
const FILES = { '/': 'webrtc_page.html', '/webrtc_page.html': 'webrtc_page.html', '/discord_sdp.js': 'discord_sdp.js' };
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/* Serves FILES from this directory on 127.0.0.1:0; resolves the server. */
function servePage() {
  const server = http.createServer((req, res) => {
    const name = FILES[req.url.split('?')[0]];
    if (!name) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(name)], 'Cache-Control': 'no-store' });
    res.end(fs.readFileSync(path.join(__dirname, name)));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
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
  const server = await servePage();
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

module.exports = { launchChromium, launchBrowser, EXECUTABLE };
