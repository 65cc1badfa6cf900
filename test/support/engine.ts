import { expect } from '@jest/globals';

export * from './workflows';

/** Every event seq from 1 to the last, no gap, no duplicate. */
export function expectGapFree(events: Array<{ seq: number }>): void {
  expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
}
