'use strict';
/*
 * The two halves of a test whose @discordjs/voice clients run in a child
 * process (djs takes no TLS options, so the child must start with the
 * server's CA; see lib/server.js spawnNode).
 *
 * Parent (owns the server and the work directory):
 *   const result = await runChild(__filename, srv, { workDir, ... });
 *   const failures = await childFailures(srv, result);  // stops the server
 *   finish('my_test', srv, workDir, result, failures);  // prints, exits
 * Child (`node test.js --client <cfg json>`):
 *   runClient(cfg, 'my', scenario, { cleanup });
 * scenario(cfg, c, djs, lvsp, peers, ctx) pushes its djs peers
 * ({ name, conn, debugLines }) on `peers`: runClient destroys them and
 * writes their debug logs to cfg.workDir whatever happens; what scenario
 * returns travels to the parent as result.results.
 */
const fs = require('node:fs');
const path = require('node:path');
const { Checks, ts } = require('./checks');

/* Child: see the top comment. cleanup(ctx) runs before the peers are
 * destroyed; watchdogMs (optional) ends a hung child with a fatal RESULT. */
async function runClient(cfg, checkName, scenario, { cleanup, watchdogMs } = {}) {
  const djs = require('./djs_adapter');
  const { LvspClient } = require('./lvsp_client');
  const c = new Checks(checkName);
  const peers = [];
  const ctx = {};
  let results;
  let fatal = null;
  const watchdog = watchdogMs && setTimeout(() => {
    console.log('RESULT {"fatal":"client watchdog"}');
    process.exit(3);
  }, watchdogMs);
  const lvsp = await LvspClient.connect(cfg.lvspUrl, { secret: cfg.secret });
  try {
    results = await scenario(cfg, c, djs, lvsp, peers, ctx);
  } catch (err) {
    fatal = err.stack || String(err);
    console.log(`${ts()} FATAL ${fatal}`);
  } finally {
    if (cleanup) cleanup(ctx);
    for (const p of peers) {
      if (p.conn.state.status !== 'destroyed') p.conn.destroy();
      fs.writeFileSync(path.join(cfg.workDir, `djs-${p.name}.log`), p.debugLines.join('\n'));
    }
    await lvsp.close();
  }
  if (watchdog) clearTimeout(watchdog);
  console.log(`RESULT ${JSON.stringify({ fatal, failures: c.failures, passed: c.passed, results })}`);
  process.exit(0);
}

/* Parent: runs `script --client <cfg>` trusting the server's CA, echoes
 * its lines and resolves its RESULT (null if it printed none). */
async function runChild(script, srv, cfg) {
  const { spawnNode } = require('./server');
  let result = null;
  const child = spawnNode(script, ['--client', JSON.stringify(cfg)], {
    caFile: srv.certPath,
    onLine: (l) => { if (l.startsWith('RESULT ')) result = JSON.parse(l.slice(7)); else console.log(l); },
  });
  await child.done;
  return result;
}

/* Parent: the child's failed checks and fatal error, plus a server that
 * died or did not exit cleanly when stopped (this stops it). */
async function childFailures(srv, result) {
  const failures = result ? [...(result.failures || [])] : ['the client gave no result'];
  if (result && result.fatal) failures.push(`fatal: ${result.fatal.split('\n')[0]}`);
  if (srv.diedUnexpectedly()) failures.push(`server died: ${JSON.stringify(srv.exit)}`);
  const e = await srv.stop();
  if (!(e.code === 0 || e.signal === 'SIGTERM')) failures.push(`server exit ${JSON.stringify(e)}`);
  return failures;
}

/* Parent: on failure prints the server log tail and keeps the logs, else
 * removes them; prints the summary and exits 1 on any failure. */
function finish(name, srv, workDir, result, failures, tailLines = 80) {
  if (failures.length) {
    console.log(`--- server log (${srv.logPath}):\n${srv.tail(tailLines)}\n---\nlogs kept in ${workDir}`);
    for (const f of failures) console.log(`  failed: ${f}`);
  } else {
    srv.removeStateDir();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  console.log(`${name}: ${result ? result.passed : 0} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
}

module.exports = { runClient, runChild, childFailures, finish };
