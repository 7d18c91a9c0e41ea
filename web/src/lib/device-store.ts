import { read, write } from './idb.ts';

/**
 * The session token and device id, kept where the service worker can read them too (IndexedDB). The
 * page also mirrors them in localStorage for a synchronous start. Shared by the page and the service worker.
 */
export interface DeviceRecord { token: string | null; deviceId: string }

export async function readDevice(): Promise<DeviceRecord | null> {
  return (await read<DeviceRecord | undefined>('device', (s) => s.get('current'))) ?? null;
}

export async function writeDevice(record: DeviceRecord): Promise<void> {
  await write('device', (s) => s.put(record, 'current'));
}
