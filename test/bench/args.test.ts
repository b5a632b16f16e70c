import { describe, expect, it } from 'vitest';
import { SCENARIOS, parseBenchArgs } from './args.ts';

describe('parseBenchArgs', () => {
  it('runs every scenario, 3 rounds of 3 s, by default', () => {
    const o = parseBenchArgs([]);
    expect(o.scenarios).toEqual([...SCENARIOS]);
    expect(o).toMatchObject({ durationSec: 3, rounds: 3, json: false, cpuProf: false, stallSec: 10, idleConnections: 500 });
  });

  it('takes a scenario list, values with = or apart, and switches', () => {
    const o = parseBenchArgs(['--scenario', 'small,fetch-1m,small', '--duration=1.5', '--rounds', '5', '--json', '--cpu-prof', '--in-flight', '16']);
    expect(o.scenarios).toEqual(['small', 'fetch-1m']);
    expect(o).toMatchObject({ durationSec: 1.5, rounds: 5, json: true, cpuProf: true, inFlight: 16 });
  });

  it('takes another CLI build to measure, or to measure against', () => {
    expect(parseBenchArgs(['--cli', 'a.js', '--versus=b.js'])).toMatchObject({ cli: 'a.js', versus: 'b.js' });
  });

  it('measures the bare relay unless told --relay=false', () => {
    expect(parseBenchArgs([]).relay).toBe(true);
    expect(parseBenchArgs(['--relay=false']).relay).toBe(false);
    expect(parseBenchArgs(['--relay=false', '--relay']).relay).toBe(true);
    expect(parseBenchArgs(['--relay=true', '--rounds', '2'])).toMatchObject({ relay: true, rounds: 2 });
  });

  it('explains what is wrong in a sentence', () => {
    expect(() => parseBenchArgs(['--scenario', 'small,huge'])).toThrow(/"huge" is not one/);
    expect(() => parseBenchArgs(['--rounds', '0'])).toThrow(/--rounds must be a whole number from 1 to 50/);
    expect(() => parseBenchArgs(['--duration'])).toThrow(/--duration needs a value/);
    expect(() => parseBenchArgs(['--json=yes'])).toThrow(/--json takes no value/);
    expect(() => parseBenchArgs(['--relay=no'])).toThrow(/--relay takes true or false \(--relay=false\), not "no"/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/Unknown option --fast/);
    expect(() => parseBenchArgs(['small'])).toThrow(/Unexpected argument "small"/);
  });
});
