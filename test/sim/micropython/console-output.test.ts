/** The worker's console transmit path (sim/micropython/console-output.ts). */
import { describe, expect, it } from 'vitest';
import { ConsoleOutput } from '../../../sim/micropython/console-output.ts';

function collect(): { output: ConsoleOutput; chunks: string[]; text: () => string } {
  const chunks: string[] = [];
  const output = new ConsoleOutput({ sink: (c) => chunks.push(Buffer.from(c).toString('latin1')), flushIntervalMs: 60_000 });
  return { output, chunks, text: () => chunks.join('') };
}

const vm = (output: ConsoleOutput, text: string) => {
  for (const b of Buffer.from(text, 'latin1')) output.fromVm(b);
};

describe('console output', () => {
  it('turns bare \\n into \\r\\n and leaves \\r\\n alone, even split across writes', () => {
    const { output, text } = collect();
    vm(output, 'a\nb\r');
    vm(output, '\nc');
    output.flush();
    expect(text()).toBe('a\r\nb\r\nc');
  });

  it('sends each completed line at once and coalesces the rest until a flush', () => {
    const { output, chunks } = collect();
    vm(output, 'OK');
    expect(chunks).toEqual([]);
    vm(output, 'line\n');
    expect(chunks).toEqual(['OKline\r\n']);
    vm(output, '\x04\x04>');
    output.flush();
    expect(chunks).toEqual(['OKline\r\n', '\x04\x04>']);
  });

  it('removes traceback lines of the board modules, also when the line arrives in pieces', () => {
    const { output, text } = collect();
    vm(output, 'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n  File "/__bo');
    output.flush(false);
    vm(output, 'ard__/_board_time.py", line 9, in sleep\r\nKeyboardInterrupt: \r\n');
    vm(output, '  File "x.py", line 2\r\n');
    output.flush();
    expect(text()).toBe('Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nKeyboardInterrupt: \r\n  File "x.py", line 2\r\n');
  });

  it('releases a held partial line that turned out not to be a board frame', () => {
    const { output, text } = collect();
    vm(output, '  Fi');
    output.flush();
    expect(text()).toBe('  Fi');
  });

  it('drops the next N VM bytes, captures without sending, and emits protocol bytes verbatim', () => {
    const { output, text } = collect();
    output.dropNext(2);
    vm(output, 'OKx');
    const captured = output.capture(() => vm(output, 'hidden\n'));
    output.emit(Uint8Array.of(0x52, 0x01, 0x80, 0x00, 0x0a));
    output.flush();
    expect(Buffer.from(captured).toString('latin1')).toBe('hidden\n');
    expect(text()).toBe('xR\x01\x80\x00\n');
  });

  it('tracks the VM\'s raw output tail for prompt detection', () => {
    const { output } = collect();
    const before = output.rawCount;
    vm(output, '\r\n>>> ');
    expect(output.rawCount - before).toBe(6);
    expect(output.rawEndsWith('>>> ')).toBe(true);
    expect(output.rawEndsWith('... ')).toBe(false);
  });
});
