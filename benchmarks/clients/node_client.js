'use strict';
// Node's own http client: keep-alive GETs through one http.Agent.
// Usage: node node_client.js URL N WORKERS [TIMEOUT_S]
// One http.Agent({keepAlive: true, maxSockets: WORKERS}); WORKERS async loops,
// each doing http.get(url, {agent}) and reading the body to its end.
// Prints one JSON line: {"requests": ..., "seconds": ..., "errors": ...};
// "seconds" runs from the first request to the last one finished.
const http = require('http');

const EXPECTED_BODY = 'Hello, world!\n';
const [url, totalArg, workersArg, timeoutArg] = process.argv.slice(2);
const total = Number(totalArg);
const workers = Number(workersArg);
const timeoutS = timeoutArg === undefined ? 120 : Number(timeoutArg);
if (!url || !(total >= 1) || !(workers >= 1) || !(timeoutS > 0)) {
  console.error('usage: node node_client.js URL N WORKERS [TIMEOUT_S]');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
let remaining = total;
let ok = 0;
let errors = 0;
const errorTypes = {};
let started = null;
let finished = null;

function fail(what) {
  errors += 1;
  errorTypes[what] = (errorTypes[what] || 0) + 1;
  finished = process.hrtime.bigint();
}

function getOnce() {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        if (res.statusCode === 200 && body === EXPECTED_BODY) {
          ok += 1;
          finished = process.hrtime.bigint();
        } else {
          fail(`status ${res.statusCode} body ${JSON.stringify(body.slice(0, 40))}`);
        }
        resolve();
      });
      res.on('error', (err) => {
        fail(`${err.code || err.name}: ${err.message}`);
        resolve();
      });
    });
    req.on('error', (err) => {
      fail(`${err.code || err.name}: ${err.message}`);
      resolve();
    });
  });
}

async function worker() {
  while (remaining > 0) {
    remaining -= 1;
    if (started === null) started = process.hrtime.bigint();
    await getOnce();
  }
}

function report(extra) {
  const seconds = started !== null && finished !== null ? Number(finished - started) / 1e9 : 0;
  const result = { requests: ok, seconds: Math.round(seconds * 1e6) / 1e6, errors };
  if (errors) result.error_types = errorTypes;
  const unfinished = total - ok - errors;
  if (unfinished) result.unfinished = unfinished;
  Object.assign(result, extra);
  process.stdout.write(JSON.stringify(result) + '\n');
  return ok === total && errors === 0 ? 0 : 1;
}

const watchdog = setTimeout(() => {
  console.error(`watchdog: not done after ${timeoutS}s (${ok} ok, ${errors} errors)`);
  process.exitCode = report({ timed_out: true });
  agent.destroy();
  process.exit();
}, timeoutS * 1000);

Promise.all(Array.from({ length: workers }, worker)).then(() => {
  clearTimeout(watchdog);
  process.exitCode = report({});
  agent.destroy();
});
