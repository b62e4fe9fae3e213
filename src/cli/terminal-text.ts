/**
 * Text from the API on a person's terminal. Titles, errors, reasons and names come from whoever
 * wrote a document or a request, and a terminal obeys escape sequences in what it prints: one in a
 * task title could rewrite the screen, hide lines, retitle the window or (OSC 52) set the clipboard.
 * So the tables and summaries show control characters as visible symbols (U+2400 control pictures:
 * ESC as ␛), keeping newlines and tabs. `--json` needs none of this (JSON escapes them), and
 * `ph-tasks logs` prints a program's output as it was written, colours included — as `docker logs`
 * does — since that output is what the task was asked to produce.
 */
// C0 controls but tab and newline, DEL, and the C1 controls (U+0080–U+009F, CSI among them).
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function forTerminal(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return "\u2421";
    return `\\x${code.toString(16)}`;
  });
}

/** Writes text for a person to stdout, control characters made visible. */
export function printText(text: string): void {
  process.stdout.write(forTerminal(text));
}

/** The same on stderr (status lines that carry an error message from the API). */
export function printNotice(text: string): void {
  process.stderr.write(forTerminal(text));
}
