/**
 * The app's IndexedDB database, shared by the page and the service worker (which has no localStorage):
 * `device` holds the session token and device id, `presses` the alarm presses not yet stored by the server.
 */
const DB_NAME = 'samlarm';
const VERSION = 2;
export type StoreName = 'device' | 'presses';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('device')) db.createObjectStore('device');
      if (!db.objectStoreNames.contains('presses')) db.createObjectStore('presses', { keyPath: 'pressId' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('indexedDB open failed'));
  });
}

/** Reads from one store. */
export async function read<T>(store: StoreName, request: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = request(db.transaction(store, 'readonly').objectStore(store));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error ?? new Error('indexedDB read failed'));
    });
  } finally {
    db.close();
  }
}

/** Writes to one store; resolves once the write is durable (the transaction completed). */
export async function write(store: StoreName, change: (s: IDBObjectStore) => void): Promise<void> {
  const db = await open();
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(store, 'readwrite');
      change(tx.objectStore(store));
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('indexedDB write failed'));
    });
  } finally {
    db.close();
  }
}
