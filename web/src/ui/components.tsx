import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, NetworkError, isTransient } from '../lib/errors.ts';
import { formatTime, pick, type TextKey } from '../lib/i18n.ts';
import { navigate, usePath } from '../lib/router.ts';
import { useAppState, useT, type IncidentView } from '../lib/store.ts';
import type { AlarmType, Incident, Instruction, Lang, SiteInstructionNotice } from '../lib/types.ts';
import { textOn } from './colour.ts';
import { TypeIcon } from './icons.tsx';

export const HOLD_MS = 1500;

/** A pointer or key went down on the button this recently: the click that follows is part of a hold, not a request. */
const GESTURE_MS = 5000;

/** Closes a dialog with Esc while it is open. */
export function useEscape(open: boolean, close: () => void): void {
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        close();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open, close]);
}

/** A press shorter than this was not meant as an alarm at all (a scroll, a brush): no hint. */
const TAP_MS = 120;
/** How long "hold longer" stays after a short tap. */
const HINT_MS = 4000;

/**
 * A big alarm button that fires only after being held for HOLD_MS (against pocket presses). While
 * held, the whole button fills and says "keep holding"; a short tap says "hold longer". Keyboard: hold
 * Space or Enter. Releasing early cancels. Switch access and a screen reader's double tap cannot hold:
 * their activation is a bare click (no pointer or key went down first), which asks "Raise …?" with a
 * plain button instead. A pocket press is a pointer press, so it never gets the question. In drill mode
 * the button is framed in hazard stripes and says ÖVNING.
 */
export function HoldButton({ type, onConfirm, describedBy, drill }: { type: AlarmType; onConfirm: () => void; describedBy: string; drill: boolean }) {
  const t = useT();
  const { lang } = useAppState();
  const [progress, setProgress] = useState(0);
  const [asking, setAsking] = useState(false);
  const [hint, setHint] = useState(false);
  const gestureAt = useRef(-GESTURE_MS);
  const button = useRef<HTMLButtonElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const started = useRef<number | null>(null);
  /** What holds the button: a pointer (captured, so only its release ends the hold) or a key. */
  const heldBy = useRef<'pointer' | 'key' | null>(null);
  const fire = useRef<number | undefined>(undefined);
  const frame = useRef<number | undefined>(undefined);
  const hintTimer = useRef<number | undefined>(undefined);

  const end = () => {
    const heldFor = started.current === null ? 0 : performance.now() - started.current;
    started.current = null;
    heldBy.current = null;
    window.clearTimeout(fire.current);
    if (frame.current !== undefined) cancelAnimationFrame(frame.current);
    setProgress(0);
    if (heldFor >= TAP_MS && heldFor < HOLD_MS) {
      setHint(true);
      window.clearTimeout(hintTimer.current);
      hintTimer.current = window.setTimeout(() => setHint(false), HINT_MS);
    }
  };
  const begin = (by: 'pointer' | 'key') => {
    gestureAt.current = performance.now();
    if (started.current !== null) return;
    started.current = performance.now();
    heldBy.current = by;
    setHint(false);
    const tick = () => {
      if (started.current === null) return;
      setProgress(Math.min(1, (performance.now() - started.current) / HOLD_MS));
      frame.current = requestAnimationFrame(tick);
    };
    frame.current = requestAnimationFrame(tick);
    fire.current = window.setTimeout(() => {
      started.current = null;
      end();
      onConfirm();
    }, HOLD_MS);
  };
  const closeAsking = useCallback(() => {
    setAsking(false);
    button.current?.focus();
  }, []);
  useEffect(() => () => {
    started.current = null;
    window.clearTimeout(fire.current);
    window.clearTimeout(hintTimer.current);
    if (frame.current !== undefined) cancelAnimationFrame(frame.current);
  }, []);
  useEffect(() => {
    if (asking) confirmButton.current?.focus();
  }, [asking]);
  useEscape(asking, closeAsking);

  const label = pick(lang, type.label);
  const colour = textOn(type.colour);
  const titleId = `confirm-${type.id}`;
  const holding = progress > 0;
  return (
    <>
    <button
      ref={button}
      type="button"
      class={`hold${drill ? ' drill' : ''}${holding ? ' holding' : ''}`}
      style={{ background: type.colour, color: colour }}
      aria-describedby={describedBy}
      data-type={type.key}
      onPointerDown={(e) => {
        e.preventDefault();
        gestureAt.current = performance.now();
        const target = e.currentTarget as HTMLElement;
        target.focus();
        // The hold belongs to this button until released, also if the page moves under the finger (a bar
        // above it goes away at the first touch) or a shaking finger slides: only letting go cancels.
        target.setPointerCapture(e.pointerId);
        begin('pointer');
      }}
      onPointerUp={end}
      onPointerCancel={end}
      onContextMenu={(e) => e.preventDefault()}
      onClick={() => {
        if (performance.now() - gestureAt.current < GESTURE_MS) return;
        setAsking(true);
      }}
      onKeyDown={(e) => {
        if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
          e.preventDefault();
          begin('key');
        }
      }}
      onKeyUp={(e) => {
        if (e.key === ' ' || e.key === 'Enter') end();
      }}
      onBlur={() => {
        // A key held here is released elsewhere once the focus has gone: that hold ends now. A finger's
        // hold does not: something else taking the focus meanwhile (a question appearing) is no letting go.
        if (started.current !== null && heldBy.current === 'key') end();
      }}
    >
      <span class="hold-fill" style={{ transform: `scaleX(${progress})`, background: colour }} aria-hidden="true" />
      {drill && <span class="drill-tag">{t('drillBanner')}</span>}
      <span class="hold-icon"><TypeIcon icon={type.icon} size={40} /></span>
      <span class="hold-label">{label}</span>
      {type.sound === 'silent' && <span class="hold-note">{t('silentNote')}</span>}
      {(holding || hint) && <span class="hold-state" aria-hidden="true">{holding ? t('holdKeep') : t('holdLonger')}</span>}
    </button>
    {hint && <p class="sr-only" role="status">{t('holdLonger')}</p>}
    {asking && (
      <div class="card danger confirm-raise" role="alertdialog" aria-labelledby={titleId}>
        <p id={titleId} class="big">{t('confirmRaiseTitle', { label: drill ? `${t('drillBanner')} ${label}` : label })}</p>
        <div class="row">
          <button ref={confirmButton} type="button" class="primary" onClick={() => {
            setAsking(false);
            onConfirm();
          }}>{t('confirmRaiseNow')}</button>
          <button type="button" class="secondary" onClick={closeAsking}>{t('cancel')}</button>
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

/**
 * "Instruction at your workplace" (ADR 027): what holds at a site the person works at, for someone the
 * alarm itself did not target. Deliberately not the alarm: a card with the instruction's colour as its
 * edge, no alarm screen, no sound, no answer asked for.
 */
export function SiteInstructionCard({ notice }: { notice: SiteInstructionNotice & { instruction: Instruction } }) {
  const t = useT();
  const { lang } = useAppState();
  const { instruction, message } = notice;
  return (
    <section class="card site-instruction" style={{ borderColor: instruction.colour }} aria-label={`${t('siteInstructionTitle')}: ${notice.siteName}`}
      data-site={notice.siteId}>
      {notice.drill && <strong class="drill-tag">{t('drillBanner')}</strong>}
      <h2>{t('siteInstructionTitle')} · {notice.siteName}</h2>
      <p>
        <TypeIcon icon={instruction.icon} size={20} />{' '}
        <strong>{pick(lang, instruction.label)}</strong>{' — '}{pick(lang, instruction.text)}
      </p>
      {message && (
        <p><strong>{t('siteInstructionFrom', { name: message.authorName, time: formatTime(lang, message.at) })}</strong> {message.body}</p>
      )}
      <p class="help">{t('siteInstructionNote')}</p>
    </section>
  );
}

/** The site instructions to show: a site's instruction in force, unless this device already has its alarm. */
export function shownSiteInstructions(
  notices: Record<string, SiteInstructionNotice>, incidents: Record<string, IncidentView>, instructions: Record<string, Instruction | null>,
): (SiteInstructionNotice & { instruction: Instruction })[] {
  return Object.values(notices).filter((n): n is SiteInstructionNotice & { instruction: Instruction } =>
    n.instruction !== null && !incidents[n.instruction.incidentId] && !instructions[n.siteId]);
}

/** An in-app link: no reload. */
export const link = (path: string) => (e: MouseEvent) => {
  if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(path);
};

/**
 * A page: its title in the tab and as the heading, which takes the focus whenever the page changes
 * (sign-in, set-up, any link), so that keyboard and screen reader users start at the top of the new page.
 */
export function Page({ title, children, headingClass }: { title: string; children: ComponentChildren; headingClass?: string }) {
  const path = usePath();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Samlarm`;
  }, [title]);
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, [path]);
  return (
    <main id="main">
      <h1 ref={heading} tabIndex={-1} class={headingClass}>{title}</h1>
      {children}
    </main>
  );
}

/** Error codes the app words itself (the server's messages are English): clients translate by code. */
const CODE_TEXT: Partial<Record<string, TextKey>> = {
  no_push_subscription: 'err_no_push_subscription',
  forbidden: 'err_forbidden',
  not_found: 'err_not_found',
  incident_ended: 'err_incident_ended',
  validation_failed: 'err_validation_failed',
  too_many_devices: 'err_too_many_devices',
  push_endpoint_not_allowed: 'err_push_endpoint_not_allowed',
  account_locked: 'errAccountLocked',
  rate_limited: 'errRateLimited',
  invalid_credentials: 'errInvalidCredentials',
  password_sign_in_disabled: 'errPasswordSignInDisabled',
  email_taken: 'errEmailTaken',
  conflict: 'errConflict',
  invalid_reference: 'errInvalidReference',
  role_not_grantable: 'errRoleNotGrantable',
  link_invalid: 'errLinkInvalid',
  csv_invalid: 'errCsvInvalid',
  account_deactivated: 'errAccountDeactivated',
};

/** What to tell a person when a request failed, in their language. */
export function errorMessage(t: (key: TextKey, vars?: Record<string, string | number>) => string, err: unknown): string {
  if (err instanceof NetworkError) return t('errNetwork');
  const known = err instanceof ApiError ? CODE_TEXT[err.code] : undefined;
  if (known) return t(known);
  if (isTransient(err)) return t('errNotNow');
  return t('errGeneric', { message: err instanceof Error ? err.message : String(err) });
}

export function ErrorText({ children }: { children: ComponentChildren }) {
  return <p class="error" role="alert">{children}</p>;
}

/** Sites where an alarm is active now (their instruction is set): no all clear is shown for them. */
export const liveSites = (instructions: Record<string, Instruction | null>): Set<string> =>
  new Set(Object.values(instructions).filter((i): i is Instruction => i !== null).map((i) => i.siteId));

/** Who ended an incident and when: every all clear says so. */
export function endedLine(t: (key: TextKey, vars?: Record<string, string | number>) => string, lang: Lang, incident: Incident): string {
  const time = incident.endedAt ? formatTime(lang, incident.endedAt) : null;
  if (!time) return '';
  if (!incident.endedBy) return t('endedAt', { time });
  return t(incident.state === 'cancelled' ? 'cancelledBy' : 'endedBy', { name: incident.endedBy.name, time });
}

/** An ended alarm, as the home page and the banners list it: what ended, who ended it and when. */
export function EndedNote({ view }: { view: IncidentView }) {
  const t = useT();
  const { lang } = useAppState();
  const { incident } = view;
  const resolved = incident.state === 'resolved';
  return (
    <>
      <p class="big"><span aria-hidden="true">{resolved ? '✔' : '✕'} </span>
        {resolved ? t('allClear') : t('cancelled')}: {incident.drill ? `${t('drillBanner')} ` : ''}{pick(lang, incident.type.label)}</p>
      <p>{endedLine(t, lang, incident)} {resolved ? t('allClearText') : t('cancelledText', { reason: view.endReason ?? '' })}</p>
    </>
  );
}
