// Hello-world HTTP/1.1 server (Node http, keep-alive) for benches/http/run.sh.
// Usage: node hello.js [port]   (or PORT=…; default 8080)
'use strict';
const http = require('http');

const port = Number(process.argv[2] || process.env.PORT || 8080);
const body = Buffer.from('你好，世界');
const server = http.createServer((req, res) => {
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
  });
  res.end(body);
});
// Node closes idle keep-alive connections after 5 s by default; the idle-memory test
// keeps connections open longer, as Go and Qi do.
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;
server.listen(port, '127.0.0.1');
