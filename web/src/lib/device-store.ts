/**
 * The session token and device id, kept where the service worker can read them too: IndexedDB
 * (localStorage is not available in service workers). The page also mirrors them in localStorage
 * for a synchronous start. Shared by the page and the service worker builds.
 */
const DB_NAME = 'samlarm';
const STORE = 'device';

export interface DeviceRecord { token: string | null; deviceId: string }

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('indexedDB open failed'));
  });
}

export async function readDevice(): Promise<DeviceRecord | null> {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const req = db.transaction(STORE, 'readonly').objectStore(STORE).get('current');
      req.onsuccess = () => resolve((req.result as DeviceRecord | undefined) ?? null);
      req.onerror = () => reject(req.error ?? new Error('indexedDB read failed'));
    });
  } finally {
    db.close();
  }
}

export async function writeDevice(record: DeviceRecord): Promise<void> {
  const db = await open();
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).put(record, 'current');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('indexedDB write failed'));
    });
  } finally {
    db.close();
  }
}
