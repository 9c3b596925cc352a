// `npm start`: load configuration, start everything, shut down gracefully on SIGINT/SIGTERM.
import { ConfigError, loadConfig } from './config.ts';
import { startServer } from './server.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`WardPulse: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  // The embedded database cannot be brought back (docs/decisions/0024): a process that looks alive
  // with a dead database would blind the ward quietly, so exit for the supervisor (systemd
  // Restart=, docker restart policy) to start a fresh one. Buffered readings go to the spill on the
  // way out (bounded), and are replayed by the next start.
  const onDatabaseFatal = (err: Error) => {
    console.error(`WardPulse: fatal: ${err.message}; exiting for the supervisor to restart the process`);
    const exit = () => process.exit(70);
    setTimeout(exit, 30_000).unref();
    (server ? server.close() : Promise.resolve()).then(exit, exit);
  };
  server = await startServer(config, { onDatabaseFatal });
  if (server.generatedAdminPassword) {
    // Printed once, on the first start only; it is not stored anywhere in clear.
    console.log(
      [
        '',
        '┌────────────────────────────────────────────────────────────┐',
        '│ First start: an admin account was created.                 │',
        `│   e-mail:   ${config.ADMIN_EMAIL.padEnd(47)}│`,
        `│   password: ${server.generatedAdminPassword.padEnd(47)}│`,
        '│ This password is shown only now. Keep it somewhere safe.   │',
        '└────────────────────────────────────────────────────────────┘',
        '',
      ].join('\n'),
    );
  }
  const mqtt = [
    server.mqttPort ? `MQTT tcp port ${server.mqttPort}` : 'no plain MQTT',
    server.mqttsPort ? `MQTTS port ${server.mqttsPort}` : null,
    `${server.https ? 'wss' : 'ws'} path /mqtt`,
  ].filter((x) => x !== null);
  console.log(`WardPulse is up: ${server.https ? 'https' : 'http'}://localhost:${server.httpPort}  (${mqtt.join(', ')})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      server.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    server.log.info({ signal }, 'signal received');
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error('WardPulse failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
