/**
 * The benchmark's baseline: a bare Socket.IO server that broadcasts a payload of the given size
 * to every client when asked over HTTP. No database, no adapter, no rooms: the floor to compare with.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2]);
const size = Number(process.argv[3] ?? 1500);
const http = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/broadcast') {
    io.emit('broadcast', { key: url.searchParams.get('key'), pad: 'x'.repeat(size) });
  }
  response.end('ok');
});
const io = new Server(http, { serveClient: false });
http.listen(port, '127.0.0.1');
