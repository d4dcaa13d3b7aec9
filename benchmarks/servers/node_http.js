'use strict';
// Node's http hello-world: the baseline trio_nodehttp imitates.
// Usage: node node_http.js PORT   (listens on 127.0.0.1, keep-alive default)
const http = require('http');

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello, world!\n');
});
server.listen(port, '127.0.0.1');
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
