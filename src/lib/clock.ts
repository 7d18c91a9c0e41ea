/** Time as the application sees it; tests inject their own to drive windows and escalation. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
