// Prometheus metrics (prom-client), one registry per server instance so tests can run several.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'wardpulse_process_' });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  let commitDelayMax = 0;
  const m = {
    registry,
    overloaded: new Gauge({ name: 'wardpulse_overloaded', help: '1 while the node refuses new device connections because it does not keep up (admission control)', registers: [registry] }),
    devicesConnected: new Gauge({ name: 'wardpulse_devices_connected', help: 'MQTT device connections open now', registers: [registry] }),
    readingsReceived: new Counter({ name: 'wardpulse_readings_received_total', help: 'Readings accepted from devices and manual observations', labelNames: ['source'] as const, registers: [registry] }),
    readingsStored: new Counter({ name: 'wardpulse_readings_stored_total', help: 'Readings committed to the database', registers: [registry] }),
    readingsDuplicate: new Counter({ name: 'wardpulse_readings_duplicate_total', help: 'Readings already stored (same device, time and seq), kept once', registers: [registry] }),
    readingsRefused: new Counter({ name: 'wardpulse_readings_refused_total', help: 'Telemetry refused (whole messages or readings); per device in GET /api/devices', registers: [registry] }),
    fieldsRefused: new Counter({ name: 'wardpulse_fields_refused_total', help: 'Single fields dropped from otherwise accepted readings', registers: [registry] }),
    readingsDropped: new Counter({ name: 'wardpulse_readings_dropped_total', help: 'Readings that could not be kept (write buffer full or write failed for good)', registers: [registry] }),
    writeBatchSeconds: new Histogram({ name: 'wardpulse_write_batch_seconds', help: 'Database write batch latency', labelNames: ['table'] as const, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
    commitDelay: new Histogram({
      name: 'wardpulse_reading_commit_delay_seconds',
      help: 'Device readings: time from measurement (the reading ts; includes the device clock offset) or from receipt by the server until the database commit',
      labelNames: ['from'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    commitDelayMax: new Gauge({
      name: 'wardpulse_reading_commit_delay_max_seconds',
      help: 'Device readings: longest receipt → commit delay since the previous scrape',
      registers: [registry],
      collect() {
        this.set(commitDelayMax);
        commitDelayMax = 0;
      },
    }),
    readingsSpilled: new Counter({ name: 'wardpulse_readings_spilled_total', help: 'Readings written to the disk spill because the write buffer was full (replayed later)', registers: [registry] }),
    rateLimited: new Counter({ name: 'wardpulse_device_messages_rate_limited_total', help: 'MQTT messages dropped because the device exceeded its rate limit', registers: [registry] }),
    devicesDisconnectedForFlooding: new Counter({ name: 'wardpulse_devices_disconnected_flooding_total', help: 'Device connections closed after sustained flooding', registers: [registry] }),
    mqttRefusals: new Counter({ name: 'wardpulse_mqtt_connections_refused_total', help: 'MQTT connections refused before authentication, by kind (counts per address and minute: GET /api/ingest-refusals)', labelNames: ['reason'] as const, registers: [registry] }),
    mqttUnauthenticated: new Gauge({ name: 'wardpulse_mqtt_unauthenticated_connections', help: 'MQTT connections open but not yet authenticated', registers: [registry] }),
    deviceLockouts: new Counter({ name: 'wardpulse_device_lockouts_total', help: 'Provisioned devices locked out for failed secrets from one source address', registers: [registry] }),
    socketsDroppedSlow: new Counter({ name: 'wardpulse_socketio_slow_clients_dropped_total', help: 'Socket.IO clients disconnected because their outgoing buffer exceeded its bound', registers: [registry] }),
    writeErrors: new Counter({ name: 'wardpulse_write_errors_total', help: 'Failed database write batches (retried)', labelNames: ['table'] as const, registers: [registry] }),
    bufferDepth: new Gauge({ name: 'wardpulse_write_buffer_depth', help: 'Rows waiting to be written', labelNames: ['table'] as const, registers: [registry] }),
    socketClients: new Gauge({ name: 'wardpulse_socketio_clients', help: 'Socket.IO clients connected now', registers: [registry] }),
    alertsRaised: new Counter({ name: 'wardpulse_alerts_raised_total', help: 'Alerts opened', labelNames: ['priority'] as const, registers: [registry] }),
    eventLoopDelayP99: new Gauge({
      name: 'wardpulse_event_loop_delay_p99_seconds',
      help: 'Event-loop delay p99 since the previous scrape',
      registers: [registry],
      collect() {
        this.set(loopDelay.percentile(99) / 1e9);
        loopDelay.reset();
      },
    }),
    /** Commit delays of a batch of device readings (receipt and measurement → now). */
    observeCommitted(rows: readonly { ts: number; receivedAt: number; source: string }[]) {
      const now = Date.now();
      const fromReceiptH = m.commitDelay.labels('receipt');
      const fromMeasurementH = m.commitDelay.labels('measurement');
      for (const r of rows) {
        if (r.source !== 'device') continue;
        const fromReceipt = (now - r.receivedAt) / 1000;
        if (fromReceipt > commitDelayMax) commitDelayMax = fromReceipt;
        fromReceiptH.observe(fromReceipt);
        fromMeasurementH.observe(Math.max(0, (now - r.ts) / 1000));
      }
    },
    close() {
      loopDelay.disable();
      registry.clear();
    },
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
