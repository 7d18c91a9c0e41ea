import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id minimum (19 MiB, 2 passes): a sign-in costs tens of milliseconds, not seconds.
const OPTIONS = { algorithm: 2 /* Algorithm.Argon2id, a const enum */, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

let hashed = 0;

export const hashPassword = (password: string): Promise<string> => {
  hashed += 1;
  return hash(password, OPTIONS);
};

/** Passwords this process has hashed: each costs tens of milliseconds of CPU (samlarm_password_hashes_total). */
export const passwordsHashed = (): number => hashed;

// Verified against when the e-mail address is unknown, so both answers take the same time.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (storedHash === null) {
    dummyHash ??= hashPassword('samlarm-dummy-password');
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}

export const PASSWORD_MIN_LENGTH = 10;
