// The reference side of tests/interop/test_client_error_parity.py: Node's own
// `node:http` server with a 'clientError' listener that answers every parse
// error with a raw 400 whose body is the JSON record
//   {"code", "message", "bytesParsed", "rawPacketLength"}
// of the error, so that each connection carries its own record back.
//
//   node node_client_error_server.js '{"maxHeaderSize": 1024}'
//
// argv[2] is a JSON object of http.createServer() options (Node's names), as
// for node_parity_server.js ("listeners" is ignored). The server listens on
// 127.0.0.1, port 0, prints the port on one line and runs until stdin
// closes. Every request is answered 'hi' once its body has been read.
'use strict';

const http = require('node:http');

const options = JSON.parse(process.argv[2] || '{}');
delete options.listeners;

const server = http.createServer(options, (req, res) => {
  req.resume();
  req.on('end', () => res.end('hi'));
});

server.on('clientError', (err, socket) => {
  const record = JSON.stringify({
    code: err.code,
    message: err.message,
    bytesParsed: err.bytesParsed === undefined ? null : err.bytesParsed,
    rawPacketLength: err.rawPacket === undefined ? null : err.rawPacket.length,
  });
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n' +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(record)}\r\n\r\n` +
      record,
  );
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
