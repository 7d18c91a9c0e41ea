import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, NetworkError } from '../lib/api.ts';
import { pick, type TextKey } from '../lib/i18n.ts';
import { navigate } from '../lib/router.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { AlarmType, Instruction } from '../lib/types.ts';
import { textOn } from './colour.ts';
import { TypeIcon } from './icons.tsx';

export const HOLD_MS = 1500;

/** A pointer or key went down on the button this recently: the click that follows is part of a hold, not a request. */
const GESTURE_MS = 5000;

/**
 * A big alarm button that fires only after being held for HOLD_MS (against pocket presses), with
 * visible progress. Keyboard: hold Space or Enter. Releasing early cancels. Switch access and a
 * screen reader's double tap cannot hold: their activation is a bare click (no pointer or key went
 * down first), which asks "Raise …?" with a plain button instead. A pocket press is a pointer press,
 * so it never gets the question.
 */
export function HoldButton({ type, onConfirm, describedBy }: { type: AlarmType; onConfirm: () => void; describedBy: string }) {
  const t = useT();
  const { lang } = useAppState();
  const [progress, setProgress] = useState(0);
  const [asking, setAsking] = useState(false);
  const gestureAt = useRef(-GESTURE_MS);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const started = useRef<number | null>(null);
  const fire = useRef<number | undefined>(undefined);
  const frame = useRef<number | undefined>(undefined);

  const end = () => {
    started.current = null;
    window.clearTimeout(fire.current);
    if (frame.current !== undefined) cancelAnimationFrame(frame.current);
    setProgress(0);
  };
  const begin = () => {
    gestureAt.current = performance.now();
    if (started.current !== null) return;
    started.current = performance.now();
    const tick = () => {
      if (started.current === null) return;
      setProgress(Math.min(1, (performance.now() - started.current) / HOLD_MS));
      frame.current = requestAnimationFrame(tick);
    };
    frame.current = requestAnimationFrame(tick);
    fire.current = window.setTimeout(() => {
      end();
      onConfirm();
    }, HOLD_MS);
  };
  useEffect(() => end, []);
  useEffect(() => {
    if (asking) confirmButton.current?.focus();
  }, [asking]);

  const label = pick(lang, type.label);
  const colour = textOn(type.colour);
  const titleId = `confirm-${type.id}`;
  return (
    <>
    <button
      type="button"
      class="hold"
      style={{ background: type.colour, color: colour }}
      aria-describedby={describedBy}
      onPointerDown={(e) => {
        e.preventDefault();
        gestureAt.current = performance.now();
        (e.currentTarget as HTMLElement).focus();
        begin();
      }}
      onPointerUp={end}
      onPointerLeave={end}
      onPointerCancel={end}
      onContextMenu={(e) => e.preventDefault()}
      onClick={() => {
        if (performance.now() - gestureAt.current < GESTURE_MS) return;
        setAsking(true);
      }}
      onKeyDown={(e) => {
        if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
          e.preventDefault();
          begin();
        }
      }}
      onKeyUp={(e) => {
        if (e.key === ' ' || e.key === 'Enter') end();
      }}
      onBlur={end}
    >
      <span class="hold-fill" style={{ transform: `scaleX(${progress})`, background: colour }} aria-hidden="true" />
      <span class="hold-icon"><TypeIcon icon={type.icon} size={40} /></span>
      <span class="hold-label">{label}</span>
      {type.sound === 'silent' && <span class="hold-note">{t('silentNote')}</span>}
    </button>
    {asking && (
      <div class="card danger confirm-raise" role="alertdialog" aria-labelledby={titleId}>
        <p id={titleId} class="big">{t('confirmRaiseTitle', { label })}</p>
        <div class="row">
          <button ref={confirmButton} type="button" class="primary" onClick={() => {
            setAsking(false);
            onConfirm();
          }}>{t('confirmRaiseNow')}</button>
          <button type="button" class="secondary" onClick={() => setAsking(false)}>{t('cancel')}</button>
        </div>
      </div>
    )}
    </>
  );
}

/** The site's one current instruction, on top of every screen while an alarm is active. */
export function InstructionBanner({ instruction, siteName }: { instruction: Instruction; siteName?: string }) {
  const t = useT();
  const { lang } = useAppState();
  return (
    <section
      class={`banner${instruction.drill ? ' drill' : ''}`}
      style={{ backgroundColor: instruction.colour, color: textOn(instruction.colour) }}
      aria-label={t('currentInstruction')}
    >
      {instruction.drill && <strong class="drill-tag">{t('drillBanner')}</strong>}
      <p>
        <TypeIcon icon={instruction.icon} size={20} />{' '}
        <strong>{t('currentInstruction')}{siteName ? ` (${siteName})` : ''}: {pick(lang, instruction.label)}</strong>
        {' — '}{pick(lang, instruction.text)}
      </p>
      <a href={`/alarm/${instruction.incidentId}`} onClick={link(`/alarm/${instruction.incidentId}`)} style={{ color: 'inherit' }}>
        {t('open')}
      </a>
    </section>
  );
}

/** An in-app link: no reload. */
export const link = (path: string) => (e: MouseEvent) => {
  if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(path);
};

export function Page({ title, children }: { title: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · Samlarm`;
  }, [title]);
  return (
    <main id="main" tabIndex={-1}>
      <h1>{title}</h1>
      {children}
    </main>
  );
}

/** What to tell a person when a request failed; the cases that matter mid-alarm in their own words. */
export function errorMessage(t: (key: TextKey, vars?: Record<string, string | number>) => string, err: unknown): string {
  if (err instanceof NetworkError) return t('errNetwork');
  if (err instanceof ApiError && (err.code === 'database_unavailable' || err.code === 'not_ready')) return t('errDatabaseUnavailable');
  return t('errGeneric', { message: err instanceof Error ? err.message : String(err) });
}

export function ErrorText({ children }: { children: ComponentChildren }) {
  return <p class="error" role="alert">{children}</p>;
}
