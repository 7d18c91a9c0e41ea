import { setState } from './store.ts';
import type { Sound } from './types.ts';

/**
 * The alarm's sound and vibration. Tones are generated with Web Audio (no sound files to fetch when
 * offline). A type with the silent profile (lockdown) never makes a sound and never vibrates: a
 * phone ringing in a hiding place can cost a life.
 */
let context: AudioContext | null = null;
let timer: number | undefined;
let playing: string | null = null;

function track(audio: AudioContext): void {
  const report = () => setState({ soundReady: audio.state === 'running' });
  audio.addEventListener('statechange', report);
  report();
}

/**
 * Browsers start audio only after a user gesture in the page: after a reload an alarm would be silent
 * until the screen is touched. The context is made at start so that the app knows, and says so
 * (`soundReady`), until the first touch or key press unlocks it.
 */
export function prepareAudio(): void {
  try {
    context ??= new AudioContext();
    track(context);
  } catch {
    context = null;
  }
}

/** Unlocks audio: on the first touch or key press, and from the "tap for sound" button. */
export function unlockAudio(): void {
  try {
    if (!context) {
      context = new AudioContext();
      track(context);
    }
    if (context.state === 'suspended') void context.resume().catch(() => undefined);
  } catch {
    context = null;
  }
}

function beep(frequency: number, start: number, duration: number): void {
  if (!context) return;
  const osc = context.createOscillator();
  const gain = context.createGain();
  osc.type = 'square';
  osc.frequency.value = frequency;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
  gain.gain.setValueAtTime(0.4, start + duration - 0.03);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + duration);
  osc.connect(gain).connect(context.destination);
  osc.start(start);
  osc.stop(start + duration);
}

/** Starts the alert for an incident; a second call for the same incident changes nothing. */
export function startAlert(incidentId: string, sound: Sound): void {
  if (sound === 'silent' || playing === incidentId) return;
  stopAlert();
  playing = incidentId;
  // A phone may have suspended the audio since the first touch (the app in the background).
  if (context?.state === 'suspended') void context.resume().catch(() => undefined);
  const cycle = () => {
    if (context?.state === 'running') {
      const now = context.currentTime;
      beep(960, now, 0.35);
      beep(700, now + 0.4, 0.35);
    }
    navigator.vibrate?.([400, 200, 400]);
  };
  cycle();
  timer = window.setInterval(cycle, 1000);
}

export function stopAlert(incidentId?: string): void {
  if (incidentId && playing !== incidentId) return;
  if (timer !== undefined) window.clearInterval(timer);
  timer = undefined;
  playing = null;
  navigator.vibrate?.(0);
}

/** Draws attention to something new (a lead's instruction) with a short vibration; never where the site is silent. */
export function attention(): void {
  navigator.vibrate?.([200, 100, 200, 100, 200]);
}
