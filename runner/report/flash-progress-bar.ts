/**
 * A one-line progress display for flashing several boards at once on a terminal:
 * `esp32-a write app ████████░░░░ 67%  esp32-b verify app ✓`. Redrawn in place with `\r`.
 */
import type { FlashProgressEvent } from '../flash/flasher.ts';

export class FlashProgressBar {
  readonly #state = new Map<string, FlashProgressEvent>();
  #lastDrawAt = 0;

  constructor(private readonly stream: NodeJS.WritableStream, private readonly widthChars = 12, private readonly redrawEveryMs = 100) {}

  update(event: FlashProgressEvent): void {
    this.#state.set(event.boardId, event);
    const now = Date.now();
    if (now - this.#lastDrawAt < this.redrawEveryMs && event.bytesDone < event.bytesTotal) return;
    this.#lastDrawAt = now;
    this.stream.write(`\r\x1b[K${this.render()}`);
  }

  /** The current line (without control characters). */
  render(): string {
    return [...this.#state.values()].map((event) => {
      const fraction = event.bytesTotal > 0 ? Math.min(1, event.bytesDone / event.bytesTotal) : 0;
      const filled = Math.round(fraction * this.widthChars);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(this.widthChars - filled)}`;
      return `${event.boardId} ${event.phase}${event.region ? ` ${event.region}` : ''} ${bar} ${Math.round(fraction * 100)}%`;
    }).join('  ');
  }

  /** Ends the line so later output starts on a fresh one. */
  done(): void {
    if (this.#state.size > 0) this.stream.write('\n');
  }
}
