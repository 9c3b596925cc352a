// The WardPulse server in its own process for bench/ingest.ts, so its CPU and RSS can be sampled
// apart from the load generator. Configuration comes from the environment (the orchestrator sets
// ALLOW_ANONYMOUS_DEVICES, ports 0, a temporary DATA_DIR, DATABASE_URL for PostgreSQL); the chosen
// ports go back over IPC.
import { loadConfig } from '../server/config.ts';
import { startServer } from '../server/server.ts';

const server = await startServer(loadConfig(process.env));
process.send?.({ type: 'ready', httpPort: server.httpPort, mqttPort: server.mqttPort });
process.on('message', (m: { type?: string }) => {
  if (m.type !== 'stop') return;
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
process.on('disconnect', () => process.exit(0));
