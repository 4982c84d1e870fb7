/**
 * untrusted: strings from the log (labels, reasons, package names, server
 * messages) on their way to a terminal. Control characters (C0, DEL, C1,
 * which includes the 8-bit CSI) would let a record hide or rewrite report
 * lines, and bidirectional overrides would let it reorder what is shown; each
 * is written as a visible `\u{…}` escape instead.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

export function escapeTerminal(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
