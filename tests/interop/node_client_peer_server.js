// The peer of tests/interop/test_client_vs_node.py: Node's own `node:http`
// server, for this package's HTTP/1.1 client (issue 3, "How it is shown").
//
//   node node_client_peer_server.js '{"keepAliveTimeout": 300}'
//
// argv[2] is a JSON object of http.createServer() options (Node's names,
// milliseconds). The server listens on 127.0.0.1, port 0, prints the port on
// one line and runs until stdin closes.
//
// Routes:
//   /echo          JSON: method, url, headers, body, trailers of the request
//   /cl            a Content-Length body (end() with the whole body)
//   /chunked       a chunked body (write, write, end)
//   /trailers      a chunked body with a trailer (Trailer + addTrailers)
//   /hints         103 Early Hints (writeEarlyHints), then 200
//   /id?id=N       counts request N; `&nohint=1` sets `Connection: keep-alive`
//                  itself, so Node sends no `Keep-Alive: timeout` hint
//   /stats         JSON: {id: count} of every /id request seen, and the
//                  number of connections accepted
// Events:
//   checkContinue  records bytes that arrived before writeContinue() (after a
//                  100 ms pause), then answers with the body it received
//   upgrade        101 Switching Protocols, then echoes the socket (head first)
//   connect        200 Connection Established, then echoes the socket
'use strict';

const http = require('node:http');

const options = JSON.parse(process.argv[2] || '{}');
const counts = {};
let connections = 0;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res, value) {
  const body = JSON.stringify(value);
  res.setHeader('Content-Type', 'application/json');
  res.end(body);
}

const routes = {
  '/echo': async (req, res) => {
    const body = await readBody(req);
    json(res, {
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: body.toString('latin1'),
      trailers: req.trailers,
    });
  },
  '/cl': (req, res) => res.end('x'.repeat(1000)),
  '/chunked': (req, res) => {
    res.write('a');
    res.write('b');
    res.end('c');
  },
  '/trailers': (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Checksum' });
    res.write('part1;');
    res.addTrailers({ 'X-Checksum': 'abc123' });
    res.end('part2');
  },
  '/hints': (req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style', 'x-hint': 'yes' });
    res.end('after hints');
  },
  '/id': async (req, res, url) => {
    await readBody(req);
    const id = url.searchParams.get('id');
    counts[id] = (counts[id] || 0) + 1;
    if (url.searchParams.get('nohint')) res.setHeader('Connection', 'keep-alive');
    res.end(id);
  },
  '/stats': (req, res) => json(res, { counts, connections }),
};

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  const route = routes[url.pathname];
  if (!route) {
    res.statusCode = 404;
    res.end('not found');
    return;
  }
  await route(req, res, url);
}

const server = http.createServer(options, (req, res) => {
  handle(req, res).catch((err) => {
    res.statusCode = 500;
    res.end(String(err));
  });
});

server.on('connection', () => {
  connections += 1;
});

server.on('checkContinue', (req, res) => {
  const atCheck = req.socket.bytesRead;
  setTimeout(() => {
    const early = req.socket.bytesRead - atCheck;
    res.writeContinue();
    readBody(req).then((body) => json(res, { early, body: body.toString('latin1') }));
  }, 100);
});

server.on('upgrade', (req, socket, head) => {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      `Upgrade: ${req.headers.upgrade}\r\n` +
      'Connection: Upgrade\r\n\r\n',
  );
  if (head.length) socket.write(head);
  socket.pipe(socket);
});

server.on('connect', (req, socket, head) => {
  socket.write(`HTTP/1.1 200 Connection Established\r\nX-Target: ${req.url}\r\n\r\n`);
  if (head.length) socket.write(head);
  socket.pipe(socket);
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});

process.stdin.on('end', () => {
  server.closeAllConnections();
  server.close();
  setTimeout(() => process.exit(0), 100).unref();
});
process.stdin.resume();
