'use strict';
/*
 * A real discord.py 2.2.2 VoiceClient (lib/dpy_voice.py) in a child
 * process: JSON commands in, JSON events out.
 *
 *   const d = startDpy({ ...voiceInfo, channel_id, ca, log }, (line) => ...);
 *   const ready = await d.next('ready');
 *   d.send({ cmd: 'play', file });  await d.next('played');
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const PYTHON = '/usr/bin/python3';

/* discord.py in a child: JSON commands in, JSON events out. */
function startDpy(cfg, log) {
  const proc = spawn(PYTHON, [path.join(__dirname, 'dpy_voice.py'), JSON.stringify(cfg)],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const events = [];
  const waiters = [];
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    log(`dpy: ${line}`);
    let ev;
    try { ev = JSON.parse(line); } catch { return; }
    events.push(ev);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => {
    for (const w of waiters.splice(0)) w();
    r({ code, signal });
  }));
  return {
    proc,
    exited,
    send: (cmd) => proc.stdin.write(`${JSON.stringify(cmd)}\n`),
    /* The next event named `name` (or an error event) within timeoutMs. */
    async next(name, timeoutMs = 20000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e) => e.event === name || e.event === 'error');
        if (i >= 0) return events.splice(i, 1)[0];
        if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`discord.py: no ${name} event`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 200); });
      }
    },
  };
}

module.exports = { PYTHON, startDpy };
