/** A small seeded generator (mulberry32) for the sample exports: the same seed gives the same rows. */
export class SampleRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A value in [min, max), as a fixed-point decimal string. */
  decimal(min: number, max: number, places: number): string {
    return (min + this.next() * (max - min)).toFixed(places);
  }
}

/** `value` (a decimal string) times `factor`, as a decimal string with `places` decimals. */
export const times = (value: string, factor: number, places = 10): string =>
  (Number(value) * factor).toFixed(places);

/** An hour of the month `month` (YYYY-MM), as [start, end] ISO timestamps. */
export function hourOf(random: SampleRandom, month: string): [Date, Date] {
  const start = new Date(`${month}-01T00:00:00Z`);
  start.setUTCHours(random.int(30 * 24));
  return [start, new Date(start.getTime() + 3_600_000)];
}
