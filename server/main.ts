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
  const server = await startServer(config);
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
