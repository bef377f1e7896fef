/**
 * mitchellh/cli's `Ui` as Serf sets it up: a `BasicUi` writing Output, Info
 * **and** Error to stdout (Serf gives it no ErrorWriter), each message
 * followed by a newline, and `PrefixedUi` which prefixes non-empty messages.
 *
 * @module
 */

/** Writes text somewhere (stdout or stderr). */
export type Writer = (text: string) => void;

/** The three message kinds Serf's commands use. */
export interface Ui {
  /** Normal output. */
  output(message: string): void;
  /** Informational output (same stream as output for BasicUi). */
  info(message: string): void;
  /** Error output (stdout too, as Serf's BasicUi has no ErrorWriter). */
  error(message: string): void;
}

/** `cli.BasicUi{Writer: w}`: every message plus "\n" to `w`. */
export function basicUi(w: Writer): Ui {
  const line = (m: string) => w(m + "\n");
  return { output: line, info: line, error: line };
}

/** Prefixes of a {@link prefixedUi}. */
export interface UiPrefixes {
  output: string;
  info: string;
  error: string;
}

/** `cli.PrefixedUi`: non-empty messages get their kind's prefix. */
export function prefixedUi(ui: Ui, p: UiPrefixes): Ui {
  const pre = (prefix: string, m: string) => (m === "" ? m : prefix + m);
  return {
    output: (m) => ui.output(pre(p.output, m)),
    info: (m) => ui.info(pre(p.info, m)),
    error: (m) => ui.error(pre(p.error, m)),
  };
}
