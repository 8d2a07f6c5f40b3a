import { describe, expect, it } from 'vitest';
import { DEFAULT_INTERVAL_MS } from '../../../src-main/common/interval.ts';
import {
  baseName,
  clampInterval,
  formatBytes,
  formatClock,
  formatCpu,
  formatDuration,
  formatOffset,
  formatStartedAt,
  parseTimeout,
  pyRepr,
  signalOfExitcode,
} from '../../../src-renderer/lib/format.ts';

describe('format helpers', () => {
  it('bytes read in binary units with one decimal', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(58_220_544)).toBe('55.5 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1.0 MiB');
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
  });

  it('cpu is a percent of one core and may exceed 100', () => {
    expect(formatCpu(43.89)).toBe('43.9%');
    expect(formatCpu(0)).toBe('0.0%');
    expect(formatCpu(180)).toBe('180.0%');
    expect(formatCpu(null)).toBe('—');
  });

  it('durations switch units as they grow', () => {
    expect(formatDuration(840)).toBe('840 ms');
    expect(formatDuration(1240)).toBe('1.24 s');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(125_100)).toBe('2:05.1');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(-500)).toBe('-500 ms');
    expect(formatDuration(null)).toBe('—');
  });

  it('the run clock has a fixed width and tenths', () => {
    expect(formatClock(0)).toBe('00:00.0');
    expect(formatClock(3_250)).toBe('00:03.2');
    expect(formatClock(760_000)).toBe('12:40.0');
    expect(formatClock(3_725_300)).toBe('1:02:05.3');
    expect(formatClock(-1)).toBe('00:00.0');
  });

  it('console offsets are seconds with milliseconds', () => {
    expect(formatOffset(6772.223)).toBe('6.772');
    expect(formatOffset(0)).toBe('0.000');
  });

  it("values print as Python's repr", () => {
    expect(pyRepr(null)).toBe('None');
    expect(pyRepr(undefined)).toBe('None');
    expect(pyRepr(true)).toBe('True');
    expect(pyRepr(false)).toBe('False');
    expect(pyRepr(-15)).toBe('-15');
    expect(pyRepr(1.1)).toBe('1.1');
    expect(pyRepr('0')).toBe("'0'");
    expect(pyRepr("it's")).toBe('"it\'s"');
    expect(pyRepr([1, '0', false, 1.1])).toBe("[1, '0', False, 1.1]");
    expect(pyRepr(Number.NaN)).toBe('nan');
  });

  it('a negative exitcode names the signal that killed the process', () => {
    expect(signalOfExitcode(-15)).toBe('SIGTERM');
    expect(signalOfExitcode(-9)).toBe('SIGKILL');
    expect(signalOfExitcode(-2)).toBe('SIGINT');
    expect(signalOfExitcode(-40)).toBe('signal 40');
    expect(signalOfExitcode(0)).toBeNull();
    expect(signalOfExitcode(1)).toBeNull();
    expect(signalOfExitcode(null)).toBeNull();
  });

  it('the sampling interval is clamped to 50..10000 ms; what is not a number gives the default', () => {
    expect(clampInterval(10)).toBe(50);
    expect(clampInterval(500.4)).toBe(500);
    expect(clampInterval(20_000)).toBe(10_000);
    expect(clampInterval(Number.NaN)).toBe(DEFAULT_INTERVAL_MS);
  });

  it('a join timeout is empty (wait), seconds, or invalid', () => {
    expect(parseTimeout('')).toBeUndefined();
    expect(parseTimeout('  ')).toBeUndefined();
    expect(parseTimeout('0.5')).toBe(0.5);
    expect(parseTimeout('0,5')).toBe(0.5);
    expect(parseTimeout('0')).toBe(0);
    expect(parseTimeout('-1')).toBeNull();
    expect(parseTimeout('abc')).toBeNull();
    expect(parseTimeout('100000')).toBeNull();
  });

  it('base names work with either separator', () => {
    expect(baseName('/home/me/two-locks.ts')).toBe('two-locks.ts');
    expect(baseName('C:\\work\\s.ts')).toBe('s.ts');
    expect(baseName('flash-sale')).toBe('flash-sale');
  });

  it('start times show the date only when not today', () => {
    const now = new Date(2026, 10, 25, 12, 0, 0);
    const today = new Date(2026, 10, 25, 11, 7, 30).toISOString();
    const before = new Date(2026, 10, 23, 20, 15, 0).toISOString();
    expect(formatStartedAt(today, 'en', now)).toMatch(/11:07:30/);
    expect(formatStartedAt(before, 'en', now)).toMatch(/Nov/);
    expect(formatStartedAt(before, 'zh-CN', now)).toMatch(/11月/);
    expect(formatStartedAt('not a date', 'en', now)).toBe('not a date');
  });
});
