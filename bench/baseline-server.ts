/**
 * The benchmark's baseline: a bare Socket.IO server that broadcasts, when asked over HTTP, a payload of the
 * asked size (`bytes`: the JSON as written, so the real alarm's size) to every client, or to the clients that
 * connected with `auth.room` equal to the asked `room` (the school's devices among everyone's). No database,
 * no adapter, one room at most: the floor to compare with.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2]);
const http = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/broadcast') {
    const key = url.searchParams.get('key');
    const bytes = Number(url.searchParams.get('bytes') ?? 1500);
    const room = url.searchParams.get('room');
    const payload = { key, pad: '' };
    payload.pad = 'x'.repeat(Math.max(0, bytes - JSON.stringify(payload).length));
    (room ? io.to(room) : io).emit('broadcast', payload);
  }
  response.end('ok');
});
const io = new Server(http, { serveClient: false });
io.on('connection', (socket) => {
  const room = (socket.handshake.auth as { room?: unknown }).room;
  if (typeof room === 'string') void socket.join(room);
});
http.listen(port, '127.0.0.1');
// Stopped with SIGTERM, it exits as a process does, so a CPU profile it keeps is written.
process.on('SIGTERM', () => process.exit(0));
