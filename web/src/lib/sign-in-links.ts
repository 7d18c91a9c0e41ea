import { setupDone, startSession } from './auth.ts';
import { navigate } from './router.ts';
import { saveToken } from './session.ts';
import { setState } from './store.ts';

/** A session obtained another way than the password form (a one-time link, the organisation's sign-in): as signIn() ends. */
export async function finishSignIn(token: string): Promise<void> {
  await saveToken(token);
  await startSession();
  setState({ notice: null });
  navigate(setupDone() ? '/' : '/setup', { replace: true });
}
