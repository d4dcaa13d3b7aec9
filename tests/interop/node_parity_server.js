// The reference side of tests/interop/test_parity_node.py: Node's own
// `node:http` server, with the same routes as tests/interop/parity_app.py.
//
//   node node_parity_server.js '{"keepAliveTimeout": 1000, "listeners": ["checkContinue"]}'
//
// argv[2] is a JSON object of http.createServer() options (Node's names,
// milliseconds) plus "listeners": a list of extra Server events to handle
// ("checkContinue", "checkExpectation"). The server listens on 127.0.0.1,
// port 0, prints the port on one line and runs until stdin closes.
'use strict';

const http = require('node:http');

const options = JSON.parse(process.argv[2] || '{}');
const listeners = options.listeners || [];
delete options.listeners;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const routes = {
  // R1-027: end(body) with nothing written before → Content-Length
  '/hi': (req, res) => res.end('hi'),
  // R1-026: setHeader + write → implicit head, chunked
  '/chunked': (req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.write('a');
    res.end('b');
  },
  '/write-then-end': (req, res) => {
    res.write('abc');
    res.end();
  },
  // R1-013: setHeader merged with writeHead, writeHead wins
  '/merge': (req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.setHeader('X-Foo', 'bar');
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  },
  // R1-013 + R1-015: flat-array form merged with setHeader
  '/merge-array': (req, res) => {
    res.setHeader('X-A', '0');
    res.setHeader('X-B', 'b');
    res.writeHead(200, ['X-A', '1', 'X-A', '2']);
    res.end('ok');
  },
  // R1-014: writeHead without setHeader, object form
  '/writehead-object': (req, res) => {
    res.writeHead(201, { 'X-Custom': 'v', 'Content-Type': 'text/plain' });
    res.end('ok');
  },
  // R1-015: flat-array form, repeated names
  '/writehead-array': (req, res) => {
    res.writeHead(200, ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Y', 'y']);
    res.end();
  },
  '/writehead-message': (req, res) => {
    res.writeHead(299, 'Custom Reason', { 'X-A': '1' });
    res.end();
  },
  '/writehead-content-length': (req, res) => {
    res.writeHead(200, { 'Content-Length': '5' });
    res.end('hello');
  },
  '/status-message': (req, res) => {
    res.statusCode = 404;
    res.statusMessage = 'Nope';
    res.end('x');
  },
  // R1-022: a user Content-Length disables chunked
  '/user-content-length': (req, res) => {
    res.setHeader('Content-Length', 5);
    res.write('he');
    res.end('llo');
  },
  // R1-035
  '/remove-date': (req, res) => {
    res.removeHeader('Date');
    res.end('x');
  },
  '/send-date-false': (req, res) => {
    res.sendDate = false;
    res.end('x');
  },
  // R1-031: no body for 204 / 304
  '/204': (req, res) => {
    res.writeHead(204);
    res.end();
  },
  '/204-end-body': (req, res) => {
    res.statusCode = 204;
    res.end('body');
  },
  '/204-write': (req, res) => {
    res.statusCode = 204;
    res.write('body');
    res.end();
  },
  '/304': (req, res) => {
    res.writeHead(304, { ETag: '"x"' });
    res.end();
  },
  '/304-end-body': (req, res) => {
    res.statusCode = 304;
    res.end('body');
  },
  // R1-029
  '/strict-ok': (req, res) => {
    res.strictContentLength = true;
    res.setHeader('Content-Length', 2);
    res.end('hi');
  },
  '/strict-mismatch': (req, res) => {
    res.strictContentLength = true;
    res.setHeader('Content-Length', 5);
    try {
      res.end('hi');
    } catch (err) {
      res.destroy();
    }
  },
  // R1-028: trailers with a chunked body
  '/trailers': (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'Content-MD5' });
    res.write('abc');
    res.addTrailers({ 'Content-MD5': '7895bf4b8828b55ceaf47747b4bca667' });
    res.end();
  },
  // a Trailer header makes even end(body) chunked
  '/trailers-end-body': (req, res) => {
    res.setHeader('Trailer', 'X-T');
    res.addTrailers({ 'X-T': '1' });
    res.end('abc');
  },
  // R1-045: interim responses
  '/write-continue': (req, res) => {
    res.writeContinue();
    res.end('ok');
  },
  '/write-processing': (req, res) => {
    res.writeProcessing();
    res.end('ok');
  },
  '/early-hints': (req, res) => {
    res.writeEarlyHints({ link: '</a.css>; rel=preload; as=style' });
    res.end('ok');
  },
  '/early-hints-list': (req, res) => {
    res.writeEarlyHints({
      link: ['</a.css>; rel=preload; as=style', '</b.js>; rel=preload; as=script'],
      'x-trace-id': 'id-1',
    });
    res.end('ok');
  },
  // R1-017 / R1-018: appendHeader, joined for uniqueHeaders names
  '/append': (req, res) => {
    res.appendHeader('X-U', 'a');
    res.appendHeader('X-U', 'b');
    res.appendHeader('X-M', 'a');
    res.appendHeader('X-M', ['b', 'c']);
    res.setHeader('X-L', ['1', '2']);
    res.end('ok');
  },
  '/handler-close': (req, res) => {
    res.setHeader('Connection', 'close');
    res.end('bye');
  },
  // never ends: for the timeout cases
  '/never': () => {},
};

// R1-001…R1-008: the incoming merge table, as JSON
async function echo(req, res) {
  const body = await readBody(req);
  const out = JSON.stringify({
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    headers: req.headers,
    distinct: req.headersDistinct,
    raw: req.rawHeaders,
    trailers: req.trailers,
    rawTrailers: req.rawTrailers,
    body: body.toString('latin1'),
  });
  res.setHeader('Content-Type', 'application/json');
  res.end(out);
}

function handler(req, res) {
  const path = req.url.split('?')[0];
  if (path === '/echo') {
    // a body that fails to parse rejects the read; the server answers the error
    echo(req, res).catch(() => {});
    return;
  }
  const route = routes[path];
  if (route === undefined) {
    res.statusCode = 404;
    res.end('not found');
    return;
  }
  try {
    route(req, res);
  } catch (err) {
    // a route that throws (ERR_HTTP_TRAILER_INVALID ...) answers 500 with the code
    res.writeHead(500, { 'X-Error': err.code });
    res.end();
  }
}

const server = http.createServer(options, handler);
// Node v20's createServer() ignores these two: they are properties of the server
for (const key of ['maxHeadersCount', 'maxRequestsPerSocket']) {
  if (key in options) server[key] = options[key];
}

if (listeners.includes('checkContinue')) {
  server.on('checkContinue', (req, res) => {
    if (req.url === '/refuse') {
      res.writeHead(403);
      res.end('refused');
      return;
    }
    res.writeContinue();
    handler(req, res);
  });
}
if (listeners.includes('checkExpectation')) {
  server.on('checkExpectation', (req, res) => {
    res.writeHead(202, { 'X-Expect': req.headers.expect });
    res.end('expectation');
  });
}

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
