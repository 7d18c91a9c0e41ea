/**
 * Pictograms for alarm types and for the end of an alarm (check: all clear, cross: called off), drawn
 * inline (no icon font or emoji font needed, works offline). Their shapes keep states apart where colour
 * cannot (forced colours). They are decorative: every use sits next to the text they stand for.
 */
const PATHS: Record<string, string> = {
  lock: 'M7 10V7a5 5 0 0 1 10 0v3h1a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V11a1 1 0 0 1 1-1h1zm2 0h6V7a3 3 0 0 0-6 0v3zm3 4a1.5 1.5 0 0 0-1 2.6V19h2v-2.4a1.5 1.5 0 0 0-1-2.6z',
  flame: 'M12 2s5 4.5 5 10a5 5 0 0 1-10 0c0-2 1-3.6 2-4.6 0 2 1 3.1 2 3.6-.5-3.5 1-6.5 1-9zM12 22a7 7 0 0 1-7-7c0-1.2.3-2.4.8-3.4A7 7 0 0 0 19 15a7 7 0 0 1-7 7z',
  exit: 'M10 3h9a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1h-9v-2h8V5h-8V3zm1.6 5.4L15.2 12l-3.6 3.6-1.4-1.4 1.2-1.2H4v-2h7.4l-1.2-1.2 1.4-1.4z',
  warning: 'M12 2 1 21h22L12 2zm0 5 7.5 12h-15L12 7zm-1 4v4h2v-4h-2zm0 5v2h2v-2h-2z',
  check: 'M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4L9 16.2z',
  cross: 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12 19 6.4z',
  bell: 'M12 22a2.5 2.5 0 0 0 2.5-2.5h-5A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.8V3a1.5 1.5 0 0 0-3 0v1.2A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z',
};

export function TypeIcon({ icon, size = 24 }: { icon: string; size?: number }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[icon] ?? PATHS.bell} fill="currentColor" />
    </svg>
  );
}
