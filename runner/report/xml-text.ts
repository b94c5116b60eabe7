/**
 * Making arbitrary text (serial consoles carry NUL, Ctrl-D, ANSI escapes) safe for XML 1.0 and for
 * xmlbuilder2: removes what XML 1.0 cannot carry at all and pre-escapes `&`.
 *
 * Why `&` here: xmlbuilder2 4.x escapes `&` only when it does not look like a reference — text such as
 * `&nbsp;`, `&#0;` or `&amp;` is written through verbatim (its `nonEntityAmpersandRegex`), which makes
 * output that is invalid (undefined entity, reference to NUL) or that reads back differently. Turning
 * every `&` into `&amp;` first makes every `&` the writer sees part of an `&amp;`, which it leaves alone,
 * so the text always reads back literally. `<`, `>` and `"` are still escaped by xmlbuilder2.
 * Use these helpers for every text and attribute handed to xmlbuilder2, and only once.
 */

/**
 * Everything outside XML 1.0's `Char` production (https://www.w3.org/TR/xml/#charsets):
 * C0 controls except TAB, LF, CR; lone surrogates (the `u` flag makes them separate code points);
 * U+FFFE and U+FFFF.
 */
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** `text` without the characters XML 1.0 forbids, line ends normalised to `\n`, `&` pre-escaped. */
export function xmlText(text: string): string {
  return stripped(text).replace(/&/g, '&amp;');
}

function stripped(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(FORBIDDEN, '');
}

/**
 * For attribute values: like {@link xmlText}, with line breaks and tabs turned into single spaces.
 * XML parsers would normalise them to spaces anyway; doing it here keeps the output deterministic.
 */
export function xmlAttr(text: string): string {
  return stripped(text).replace(/[\n\t]+/g, ' ').trim().replace(/&/g, '&amp;');
}

/** Seconds with three decimals, as JUnit `time` attributes carry them. */
export function junitSeconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** JUnit timestamp: ISO 8601 in UTC without a zone designator (the Jenkins schema forbids one). */
export function junitTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19);
}
