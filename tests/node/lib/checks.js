'use strict';
/*
 * A tiny check recorder for node tests: each check prints one line, the
 * summary prints "N passed, N failed", and run() gives a test a watchdog,
 * a server log tail on failure and the process exit code.
 *
 *   const c = new Checks('lvsp');
 *   c.ok(cond, 'what was checked, with the values seen');
 *   await run('lvsp_dialects', 150000, async () => { ... }, () => c);
 */
const ts = () => new Date().toISOString().slice(11, 23);

class Checks {
  constructor(name) {
    this.name = name;
    this.failures = [];
    this.passed = 0;
  }

  ok(cond, msg) {
    if (cond) this.passed++;
    else this.failures.push(msg);
    console.log(`${ts()} [${this.name}] ${cond ? 'ok  ' : 'FAIL'} ${msg}`);
    return Boolean(cond);
  }

  /* Runs fn; a throw is one failed check (the rest of that step is skipped). */
  async step(what, fn) {
    try {
      return await fn();
    } catch (err) {
      this.ok(false, `${what}: ${err.stack || err}`);
      return undefined;
    }
  }
}

/*
 * Runs body(); prints the summary of checks() and exits 0 only if every
 * check passed, body did not throw and made at least one check. servers(): the ServerHandles to
 * stop (their log tails are printed on failure).
 */
async function run(name, timeoutMs, body, { checks, servers = () => [] }) {
  const watchdog = setTimeout(() => {
    console.log(`${name}: FAIL (timed out after ${timeoutMs / 1000} s)`);
    process.exit(1);
  }, timeoutMs);
  watchdog.unref();
  let fatal = null;
  try {
    await body();
  } catch (err) {
    fatal = err;
    console.log(`${ts()} FATAL ${err.stack || err}`);
  }
  const c = checks();
  /* A test that checked nothing cannot fail: that is a failure. Counted
   * before the server-exit checks below, which every test gets. */
  if (!fatal && c.passed + c.failures.length === 0) c.ok(false, `${name} made no check`);
  const failed = c.failures.length + (fatal ? 1 : 0);
  for (const srv of servers()) {
    if (srv.diedUnexpectedly()) console.log(`server died: ${JSON.stringify(srv.exit)}`);
    const e = await srv.stop();
    const clean = e.code === 0 || e.signal === 'SIGTERM';
    c.ok(clean, `server exit on SIGINT: ${JSON.stringify(e)}`);
    if (failed || !clean) console.log(`--- server log (${srv.logPath}):\n${srv.tail(60)}\n---`);
    else srv.removeStateDir();
  }
  const nFailed = c.failures.length + (fatal ? 1 : 0);
  for (const f of c.failures) console.log(`  failed: ${f}`);
  console.log(`${name}: ${c.passed} passed, ${nFailed} failed`);
  process.exit(nFailed ? 1 : 0);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Polls pred (may be async) every step ms until it is truthy or ms have
 * passed; resolves true, or pred's last answer. */
async function waitFor(pred, ms, step = 50) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await pred()) return true;
    await sleep(step);
  }
  return pred();
}

/* Resolves with {code, reason} when ws closes, or null after timeoutMs. */
function waitWsClose(ws, timeoutMs) {
  return new Promise((resolve) => {
    if (ws.readyState === 3) {
      resolve({ code: ws._closeCode, reason: String(ws._closeMessage || '') });
      return;
    }
    const timer = setTimeout(() => resolve(null), timeoutMs);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/* Snowflake-looking ids, unique per process run. */
function snowflakes(n) {
  const base = (BigInt(Date.now() - 1420070400000) << 22n) + BigInt(process.pid % 4096) * 4096n;
  return Array.from({ length: n }, (_, i) => (base + BigInt(i + 1)).toString());
}

module.exports = { Checks, run, sleep, ts, waitFor, waitWsClose, snowflakes };
