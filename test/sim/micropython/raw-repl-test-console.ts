/**
 * The raw-REPL conversation test harnesses have with a started interpreter host (enter the raw REPL,
 * run code, read stdout/stderr), written once; a harness supplies how bytes go in and how it waits for
 * console text.
 */
export abstract class RawReplTestConsole {
  /** Bytes to the board (latin1 text). */
  abstract send(text: string): void;
  /** Waits until the console showed `pattern`; returns and consumes everything up to it. */
  abstract readUntil(pattern: string): Promise<string>;

  /** From a fresh boot: waits for the friendly prompt, then enters the raw REPL. */
  protected async enterRawRepl(): Promise<void> {
    await this.readUntil('>>> ');
    this.send('\r\x01');
    await this.readUntil('raw REPL; CTRL-B to exit\r\n>');
  }

  /** Starts code in the raw REPL without waiting for it to finish (see {@link finish}). */
  async begin(code: string): Promise<void> {
    this.send(`${code}\x04`);
    await this.readUntil('OK');
  }

  /** Waits for the code started by {@link begin}: its stdout and stderr. */
  async finish(): Promise<{ stdout: string; stderr: string }> {
    const stdout = (await this.readUntil('\x04')).slice(0, -1);
    const stderr = (await this.readUntil('\x04')).slice(0, -1);
    await this.readUntil('>');
    return { stdout, stderr };
  }

  /** Runs code in the raw REPL; returns stdout and stderr. */
  async exec(code: string): Promise<{ stdout: string; stderr: string }> {
    await this.begin(code);
    return this.finish();
  }

  /** Runs code that must not raise; returns stdout. */
  async run(code: string): Promise<string> {
    const { stdout, stderr } = await this.exec(code);
    if (stderr !== '') throw new Error(`board raised:\n${stderr}`);
    return stdout;
  }
}
