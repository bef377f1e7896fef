/**
 * Error text helpers shared by the agent: the message of anything thrown,
 * and hashicorp/go-multierror's list format.
 *
 * @module
 */

/** The message of a thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * go-multierror's `ListFormatFunc`.
 *
 * @example
 * ```ts
 * multiError(["Failed to join 127.0.0.1: connection refused"]);
 * // "1 error occurred:\n\t* Failed to join 127.0.0.1: connection refused\n\n"
 * ```
 */
export function multiError(errors: string[]): string {
  if (errors.length === 1) return `1 error occurred:\n\t* ${errors[0]}\n\n`;
  return `${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join("\n\t")}\n\n`;
}
