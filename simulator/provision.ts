// Provisioning through the REST API: one patient per bed, one device per patient, assigned;
// the credentials saved to a fleet file so later runs can reuse them without --provision.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { patientNames } from './names.ts';
import { createRng, deriveSeed } from './rng.ts';

export interface ProvisionedDevice {
  bed: string;
  deviceId: string;
  secret: string;
  patientId: string;
  patientName: string;
}

export interface FleetFile {
  version: 1;
  baseUrl: string;
  ward: string;
  seed: number;
  createdAt: string;
  devices: ProvisionedDevice[];
}

export interface ProvisionOptions {
  baseUrl: string;
  email: string;
  password: string;
  ward: string;
  beds: number;
  seed: number;
  fetch?: typeof fetch;
  onProgress?: (done: number, total: number) => void;
}

/** A refusal from the API, carrying its `{ error: { code, message } }` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly request: string,
  ) {
    super(status === 0 ? `${request}: ${message}` : `${request} → ${status} ${code}: ${message}`);
    this.name = 'ApiError';
  }
}

export const defaultFleetFilePath = (ward: string) => join('.simulator', `fleet-${ward}.json`);

/** `A-01` … `A-24`; three digits once the ward has 100 beds or more. */
export function bedLabel(ward: string, index: number, total: number): string {
  return `${ward}-${String(index + 1).padStart(Math.max(2, String(total).length), '0')}`;
}

type Json = Record<string, unknown>;

function apiClient(baseUrl: string, fetchFn: typeof fetch) {
  let token: string | null = null;
  const call = async (method: string, path: string, body: Json): Promise<Json> => {
    const request = `${method} ${path}`;
    let response: Response;
    try {
      response = await fetchFn(new URL(path, baseUrl), {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(0, 'NETWORK', `cannot reach ${baseUrl} (${cause})`, request);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Fall through: reported below with the status.
    }
    if (!response.ok) {
      const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : {};
      const code = typeof error.code === 'string' ? error.code : 'HTTP_ERROR';
      const message = typeof error.message === 'string' ? error.message : response.statusText || 'request failed';
      throw new ApiError(response.status, code, message, request);
    }
    if (!isObject(parsed)) throw new ApiError(response.status, 'BAD_RESPONSE', 'expected a JSON object', request);
    return parsed;
  };
  return {
    call,
    setToken(value: string) {
      token = value;
    },
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(body: Json, name: string, request: string): string {
  const value = body[name];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  throw new ApiError(200, 'BAD_RESPONSE', `response has no '${name}'`, request);
}

export async function provisionFleet(options: ProvisionOptions): Promise<FleetFile> {
  const api = apiClient(options.baseUrl, options.fetch ?? fetch);
  const login = await api.call('POST', '/api/auth/login', { email: options.email, password: options.password });
  api.setToken(field(login, 'token', 'POST /api/auth/login'));

  const names = patientNames(options.beds, createRng(deriveSeed(options.seed, 'names')));
  const devices: ProvisionedDevice[] = [];
  // One bed at a time: a ward is tens of beds, and a failure then names the bed it stopped at.
  for (let i = 0; i < options.beds; i++) {
    const bed = bedLabel(options.ward, i, options.beds);
    const patientName = names[i] ?? `Patient ${bed}`;
    const patient = await api.call('POST', '/api/patients', { name: patientName, ward: options.ward, bed });
    const patientId = field(patient, 'id', 'POST /api/patients');
    const device = await api.call('POST', '/api/devices', { label: `sim ${bed}` });
    const deviceId = field(device, 'id', 'POST /api/devices');
    const secret = field(device, 'secret', 'POST /api/devices');
    await api.call('PUT', `/api/devices/${encodeURIComponent(deviceId)}`, { patientId });
    devices.push({ bed, deviceId, secret, patientId, patientName });
    options.onProgress?.(i + 1, options.beds);
  }
  return { version: 1, baseUrl: options.baseUrl, ward: options.ward, seed: options.seed, createdAt: new Date().toISOString(), devices };
}

/** Written owner-only (it holds device secrets), atomically via a temporary file. */
export async function saveFleetFile(path: string, file: FleetFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

export async function loadFleetFile(path: string): Promise<FleetFile> {
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!isObject(parsed) || parsed.version !== 1 || !Array.isArray(parsed.devices)) {
    throw new Error(`${path} is not a simulator fleet file (version 1)`);
  }
  parsed.devices.forEach((d: unknown, i: number) => {
    if (!isObject(d) || typeof d.deviceId !== 'string' || typeof d.secret !== 'string' || typeof d.bed !== 'string') {
      throw new Error(`${path}: device ${i} lacks deviceId, secret or bed`);
    }
  });
  return parsed as unknown as FleetFile;
}
