import { describe, expect, it } from 'vitest';
import { STACK_MAX_FRAMES, STACK_MAX_THREADS, isDownMessage, isUpMessage } from '../../src-main/protocol.ts';

// Stack answers cross from a scenario process (the Python shim) to the monitor: every field is
// checked and every list is bounded before anything reaches the window.

const frame = { file: '/home/me/stuck.py', line: 4, func: 'consume', code: 'q.get()', lib: false };
const answer = (threads: unknown) => ({ k: 'stkres', rid: 7, threads });

describe('stack messages', () => {
  it('accepts a well-formed answer and request', () => {
    expect(isUpMessage(answer([{ name: 'MainThread', frames: [frame] }]))).toBe(true);
    expect(isUpMessage(answer([]))).toBe(true);
    expect(isDownMessage({ k: 'stk', rid: 3 })).toBe(true);
  });

  it.each([
    ['too many threads', Array.from({ length: STACK_MAX_THREADS + 1 }, () => ({ name: 't', frames: [] }))],
    ['too many frames', [{ name: 'MainThread', frames: Array.from({ length: STACK_MAX_FRAMES + 1 }, () => frame) }]],
    ['a frame without lib', [{ name: 'MainThread', frames: [{ ...frame, lib: undefined }] }]],
    ['a fractional line', [{ name: 'MainThread', frames: [{ ...frame, line: 4.5 }] }]],
    ['an overlong code line', [{ name: 'MainThread', frames: [{ ...frame, code: 'x'.repeat(1025) }] }]],
    ['a thread without a name', [{ frames: [frame] }]],
    ['not a list', { name: 'MainThread', frames: [] }],
  ])('refuses %s', (_what, threads) => {
    expect(isUpMessage(answer(threads))).toBe(false);
  });
});
