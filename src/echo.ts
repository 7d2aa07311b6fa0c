// How much of a caller's input an error message may repeat. Messages name the column, key or value that
// is wrong, but a hostile body can make those a megabyte long; every message that echoes input goes
// through these, so an error answer stays small whatever the input.

/** Most characters of one input string an error message repeats. */
export const MAX_ECHOED_CHARS = 120;

/** Most input names an error message lists before saying how many more there are. */
export const MAX_ECHOED_NAMES = 10;

/** `text` as is when short; else its first `max` characters, an ellipsis and the original length. */
export function truncateForMessage(text: string, max = MAX_ECHOED_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length} characters)`;
}

/** Quoted, truncated names joined by commas, at most `max` of them, then how many were left out. */
export function listForMessage(names: readonly string[], max = MAX_ECHOED_NAMES): string {
  const shown = names.slice(0, max).map((name) => `'${truncateForMessage(name)}'`);
  const rest = names.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}
