// The bare relay baseline for bench/ingest.ts: aedes with an in-process subscriber → Socket.IO,
// one broadcast per tick (as the server coalesces per tick), no decoding, no pipeline, no database.
// What the MQTT and Socket.IO layers alone cost on this box: the floor our figures are ratios to.
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { Aedes } from 'aedes';
import { Server } from 'socket.io';

const tickMs = Number(process.argv[2] ?? 250);
const aedes = await Aedes.createBroker({ concurrency: 1000 });
let batch: string[] = [];
let received = 0;
aedes.on('publish', (packet, client) => {
  if (!client || !packet.topic.endsWith('/vitals')) return;
  received++;
  batch.push((packet.payload as Buffer).toString('utf8'));
});
const mqtt = createNetServer((socket) => {
  socket.setNoDelay(true);
  aedes.handle(socket);
});
await new Promise<void>((resolve) => mqtt.listen(0, '127.0.0.1', resolve));
const http = createHttpServer();
const io = new Server(http, { perMessageDeflate: false, transports: ['websocket'] });
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
setInterval(() => {
  if (batch.length === 0) return;
  io.emit('vitals', batch);
  batch = [];
}, tickMs);
process.send?.({
  type: 'ready',
  mqttPort: (mqtt.address() as { port: number }).port,
  httpPort: (http.address() as { port: number }).port,
});
setInterval(() => process.send?.({ type: 'stats', received }), 1000);
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
