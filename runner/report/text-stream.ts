/**
 * Where a reporter writes text: `process.stdout`/`process.stderr` fit, and so does a test's collector.
 * `isTTY` decides whether colour is used.
 */
export interface TextStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

/** A {@link TextStream} that keeps what is written, for tests and for callers that want a string. */
export class StringStream implements TextStream {
  private chunks: string[] = [];

  constructor(readonly isTTY = false) {}

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }

  /** Everything written so far. */
  text(): string {
    return this.chunks.join('');
  }
}
