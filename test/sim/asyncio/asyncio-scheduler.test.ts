/**
 * The board's asyncio (MicroPython docs "asyncio — asynchronous I/O scheduler") run by the simulated
 * board's own loop: tasks, sleeps, gather, wait_for, Event, ThreadSafeFlag, Lock, cancellation, the
 * loop object and the exception handler. Timing is checked only as order of events, and sleeps as
 * never ending early.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostHarness } from '../micropython/host-harness.ts';

let board: HostHarness;

beforeAll(async () => {
  ({ harness: board } = await HostHarness.boot());
  await board.enterRawRepl();
  await run('import asyncio, time, micropython');
});
afterAll(async () => {
  await board.stop();
});

/** Runs code that must not raise; returns stdout. */
async function run(code: string): Promise<string> {
  const { stdout, stderr } = await board.execRaw(code);
  expect(stderr).toBe('');
  return stdout;
}

/** Defines `async def main()` from the given body lines and prints what asyncio.run(main()) returns. */
function runMain(...body: string[]): Promise<string> {
  return run(['async def main():', ...body.map((line) => `    ${line}`), 'print("->", asyncio.run(main()))'].join('\n'));
}

describe('tasks', () => {
  it('run() returns the coroutine\'s value; created tasks run concurrently, in order of their wake-up times', async () => {
    const out = await run(
      [
        'log = []',
        'async def sleeper(name, ms):',
        '    log.append("start " + name)',
        '    await asyncio.sleep_ms(ms)',
        '    log.append("end " + name)',
        '    return name',
        'async def main():',
        '    slow = asyncio.create_task(sleeper("slow", 60))',
        '    fast = asyncio.create_task(sleeper("fast", 20))',
        '    await asyncio.sleep(0.04)',
        '    log.append("main")',
        '    return (await slow) + (await fast)',
        'print(asyncio.run(main()))',
        'print(log)',
      ].join('\n'),
    );
    expect(out).toBe("slowfast\r\n['start slow', 'start fast', 'end fast', 'main', 'end slow']\r\n");
  });

  it('current_task() is the running task; outside the loop it raises RuntimeError', async () => {
    expect(await runMain('t = asyncio.current_task()', 'return type(t).__name__, repr(t), t.done()')).toBe("-> ('Task', '<Task>', False)\r\n");
    const { stderr } = await board.execRaw('asyncio.current_task()');
    expect(stderr).toMatch(/RuntimeError: /);
  });

  it('create_task() rejects what is not a coroutine', async () => {
    const { stderr } = await board.execRaw('asyncio.create_task(42)');
    expect(stderr).toMatch(/TypeError: coroutine expected\r\n$/);
  });

  it('a task that yields without waiting for anything runs again after the others', async () => {
    const out = await run(
      [
        'order = []',
        'async def ticker(name):',
        '    for i in range(3):',
        '        order.append(name + str(i))',
        '        await asyncio.sleep(0)',
        'async def main():',
        '    await asyncio.gather(ticker("a"), ticker("b"))',
        'asyncio.run(main())',
        'print(order)',
      ].join('\n'),
    );
    expect(out).toBe("['a0', 'b0', 'a1', 'b1', 'a2', 'b2']\r\n");
  });

  it('sleep() and sleep_ms() never end early', async () => {
    const out = await run(
      [
        'async def timed(aw):',
        '    t0 = time.ticks_ms()',
        '    await aw',
        '    return time.ticks_diff(time.ticks_ms(), t0)',
        'async def main():',
        '    return await timed(asyncio.sleep_ms(120)), await timed(asyncio.sleep(0.08))',
        'a, b = asyncio.run(main())',
        'print(a >= 120, b >= 80, a < 1000, b < 1000)',
      ].join('\n'),
    );
    expect(out).toBe('True True True True\r\n');
  });
});

describe('gather', () => {
  it('returns the results in argument order, whatever order the tasks finish in', async () => {
    const out = await run(
      [
        'async def after(ms, value):',
        '    await asyncio.sleep_ms(ms)',
        '    return value',
        'async def main():',
        '    t = asyncio.create_task(after(5, "task"))',
        '    return await asyncio.gather(after(40, 1), after(10, 2), t, after(20, 3))',
        'print(asyncio.run(main()), asyncio.run(asyncio.gather()))',
      ].join('\n'),
    );
    expect(out).toBe("[1, 2, 'task', 3] []\r\n");
  });

  it('raises the first exception, or returns exceptions among the results with return_exceptions=True', async () => {
    const out = await run(
      [
        'async def fail(ms, text):',
        '    await asyncio.sleep_ms(ms)',
        '    raise ValueError(text)',
        'async def ok():',
        '    return "ok"',
        'async def main():',
        '    try:',
        // "late" fails well after the second gather is done, even on a loaded machine.
        '        await asyncio.gather(ok(), fail(300, "late"), fail(10, "early"))',
        '    except ValueError as e:',
        '        print("raised", e)',
        '    r = await asyncio.gather(ok(), fail(1, "kept"), return_exceptions=True)',
        '    print(r[0], type(r[1]).__name__, r[1])',
        '    await asyncio.sleep_ms(400)',
        'asyncio.run(main())',
      ].join('\n'),
    );
    // The later failure of a child that gather() no longer waits for is reported by the loop.
    expect(out).toMatch(/^raised early\r\nok ValueError kept\r\nTask exception wasn't retrieved\r\nfuture: <Task> coro= <generator object 'fail' at [0-9a-f]+>\r\nTraceback \(most recent call last\):\r\n(?: {2}File .*\r\n)+ValueError: late\r\n$/);
  });

  it('cancels its children when it is cancelled itself', async () => {
    const out = await runMain(
      'log = []',
      'async def child(n):',
      '    try:',
      '        await asyncio.sleep(10)',
      '    except asyncio.CancelledError:',
      '        log.append(n)',
      '        raise',
      'g = asyncio.create_task(asyncio.gather(child(1), child(2)))',
      'await asyncio.sleep_ms(10)',
      'g.cancel()',
      'try:',
      '    await g',
      'except asyncio.CancelledError:',
      '    log.append("gather")',
      'await asyncio.sleep_ms(0)',
      'return sorted(str(x) for x in log)',
    );
    expect(out).toBe("-> ['1', '2', 'gather']\r\n");
  });
});

describe('wait_for', () => {
  it('returns the value when the awaitable finishes in time', async () => {
    expect(await runMain('async def quick():', '    await asyncio.sleep_ms(5)', '    return 7', 'return await asyncio.wait_for(quick(), 1), await asyncio.wait_for_ms(quick(), 1000), await asyncio.wait_for(quick(), None)')).toBe(
      '-> (7, 7, 7)\r\n',
    );
  });

  it('on timeout cancels the awaitable, lets it clean up, then raises asyncio.TimeoutError', async () => {
    const out = await runMain(
      'log = []',
      'async def slow():',
      '    try:',
      '        await asyncio.sleep(10)',
      '    finally:',
      '        log.append("cleanup")',
      't0 = time.ticks_ms()',
      'try:',
      '    await asyncio.wait_for(slow(), 0.05)',
      'except asyncio.TimeoutError:',
      '    log.append("timeout")',
      'elapsed = time.ticks_diff(time.ticks_ms(), t0)',
      'try:',
      '    await asyncio.wait_for_ms(slow(), 20)',
      'except asyncio.TimeoutError as e:',
      '    log.append(type(e).__name__)',
      'return log, elapsed >= 50, elapsed < 1000',
    );
    expect(out).toBe("-> (['cleanup', 'timeout', 'cleanup', 'TimeoutError'], True, True)\r\n");
  });

  it('passes on the exception the awaitable raises, and a task passed in stays the same task', async () => {
    const out = await runMain(
      'async def bad():',
      '    raise OSError(5)',
      'async def value():',
      '    await asyncio.sleep_ms(1)',
      '    return "v"',
      't = asyncio.create_task(value())',
      'try:',
      '    await asyncio.wait_for(bad(), 1)',
      'except OSError as e:',
      '    print("OSError", e.args)',
      'return await asyncio.wait_for(t, 1), t.done()',
    );
    expect(out).toBe("OSError (5,)\r\n-> ('v', True)\r\n");
  });
});

describe('Event and ThreadSafeFlag', () => {
  it('Event.set() wakes every waiter; wait() returns at once while set; clear() resets it', async () => {
    const out = await runMain(
      'ev = asyncio.Event()',
      'woke = []',
      'async def waiter(n):',
      '    await ev.wait()',
      '    woke.append(n)',
      'tasks = [asyncio.create_task(waiter(n)) for n in range(3)]',
      'await asyncio.sleep_ms(10)',
      'before = list(woke)',
      'ev.set()',
      'await asyncio.sleep_ms(0)',
      'set_then = ev.is_set()',
      'await ev.wait()',
      'ev.clear()',
      'return before, woke, set_then, ev.is_set()',
    );
    expect(out).toBe('-> ([], [0, 1, 2], True, False)\r\n');
  });

  it('ThreadSafeFlag wakes its waiter when a scheduled callback sets it, and resets itself', async () => {
    const out = await runMain(
      'flag = asyncio.ThreadSafeFlag()',
      'async def setter():',
      '    await asyncio.sleep_ms(20)',
      '    micropython.schedule(lambda _: flag.set(), None)',
      'asyncio.create_task(setter())',
      'await flag.wait()',
      'flag.set()',
      'await flag.wait()',
      'flag.set()',
      'flag.clear()',
      'try:',
      '    await asyncio.wait_for_ms(flag.wait(), 30)',
      'except asyncio.TimeoutError:',
      '    return "cleared"',
    );
    expect(out).toBe('-> cleared\r\n');
  });
});

describe('Lock', () => {
  it('lets one task at a time in, in the order they asked, also with async with', async () => {
    const out = await runMain(
      'lock = asyncio.Lock()',
      'log = []',
      'async def worker(n):',
      '    async with lock:',
      '        log.append(n)',
      '        await asyncio.sleep_ms(5)',
      '        log.append(-n)',
      'await asyncio.gather(*[worker(n) for n in (1, 2, 3)])',
      'return log, lock.locked()',
    );
    expect(out).toBe('-> ([1, -1, 2, -2, 3, -3], False)\r\n');
  });

  it('passes the lock on when a waiter is cancelled; release() of a free lock raises RuntimeError', async () => {
    const out = await runMain(
      'lock = asyncio.Lock()',
      'await lock.acquire()',
      'got = []',
      'async def taker(n):',
      '    await lock.acquire()',
      '    got.append(n)',
      '    lock.release()',
      'a = asyncio.create_task(taker("a"))',
      'b = asyncio.create_task(taker("b"))',
      'await asyncio.sleep_ms(1)',
      'lock.release()',
      'a.cancel()',
      'await asyncio.sleep_ms(5)',
      'try:',
      '    lock.release()',
      'except RuntimeError as e:',
      '    print("RuntimeError", e)',
      'return got, lock.locked()',
    );
    expect(out).toBe("RuntimeError Lock not acquired\r\n-> (['b'], False)\r\n");
  });
});

describe('cancellation', () => {
  it('cancel() throws CancelledError into the task; True while it runs, False once done', async () => {
    const out = await runMain(
      'log = []',
      'async def victim():',
      '    try:',
      '        await asyncio.sleep(10)',
      '    except asyncio.CancelledError:',
      '        log.append("caught")',
      '        raise',
      't = asyncio.create_task(victim())',
      'await asyncio.sleep_ms(1)',
      'first = t.cancel()',
      'try:',
      '    await t',
      'except asyncio.CancelledError:',
      '    log.append("awaiter saw it")',
      'return first, t.done(), t.cancel(), log',
    );
    expect(out).toBe("-> (True, True, False, ['caught', 'awaiter saw it'])\r\n");
  });

  it('a task may ignore CancelledError; a task cancelled before it started never runs', async () => {
    const out = await runMain(
      'log = []',
      'async def stubborn():',
      '    try:',
      '        await asyncio.sleep(10)',
      '    except asyncio.CancelledError:',
      '        pass',
      '    return "survived"',
      'async def never():',
      '    log.append("ran")',
      't = asyncio.create_task(stubborn())',
      'n = asyncio.create_task(never())',
      'n.cancel()',
      'await asyncio.sleep_ms(1)',
      't.cancel()',
      'return await t, log, n.done()',
    );
    expect(out).toBe("-> ('survived', [], True)\r\n");
  });

  it('a task cannot cancel itself', async () => {
    const { stderr } = await board.execRaw('async def selfish():\n    asyncio.current_task().cancel()\nasyncio.run(selfish())');
    expect(stderr).toMatch(/RuntimeError: can't cancel self\r\n$/);
  });
});

describe('the event loop', () => {
  it('run_until_complete() and run_forever() until stop(); the same loop object every time', async () => {
    const out = await run(
      [
        'loop = asyncio.get_event_loop()',
        'async def stopper():',
        '    await asyncio.sleep_ms(10)',
        '    loop.stop()',
        'async def value():',
        '    return 5',
        'loop.create_task(stopper())',
        'loop.run_forever()',
        'print(loop.run_until_complete(value()), asyncio.new_event_loop() is loop, asyncio.get_event_loop() is loop)',
        'loop.close()',
      ].join('\n'),
    );
    expect(out).toBe('5 True True\r\n');
  });

  it('an exception nobody awaits goes to the exception handler; a custom handler gets (loop, context)', async () => {
    const out = await run(
      [
        'async def bad():',
        '    raise KeyError("k")',
        'async def main():',
        '    asyncio.create_task(bad())',
        '    await asyncio.sleep_ms(5)',
        'asyncio.run(main())',
        'loop = asyncio.get_event_loop()',
        'seen = []',
        'loop.set_exception_handler(lambda l, ctx: seen.append((l is loop, ctx["message"], type(ctx["exception"]).__name__)))',
        'asyncio.run(main())',
        'print(seen, loop.get_exception_handler() is not None)',
        'loop.set_exception_handler(None)',
      ].join('\n'),
    );
    expect(out).toMatch(
      /^Task exception wasn't retrieved\r\nfuture: <Task> coro= <generator object 'bad' at [0-9a-f]+>\r\nTraceback \(most recent call last\):\r\n(?: {2}File .*\r\n)+KeyError: k\r\n\[\(True, "Task exception wasn't retrieved", 'KeyError'\)\] True\r\n$/,
    );
  });

  it('an exception in the main coroutine comes out of run()', async () => {
    const { stderr } = await board.execRaw('async def main():\n    await asyncio.sleep_ms(1)\n    raise ValueError("out")\nasyncio.run(main())');
    expect(stderr).toMatch(/ValueError: out\r\n$/);
  });

  it('tasks left over keep their place until new_event_loop() forgets them', async () => {
    const out = await run(
      [
        'log = []',
        'async def background():',
        '    await asyncio.sleep_ms(30)',
        '    log.append("background")',
        'async def short():',
        '    asyncio.create_task(background())',
        'asyncio.run(short())',
        'asyncio.run(asyncio.sleep_ms(60))',
        'asyncio.run(short())',
        'asyncio.new_event_loop()',
        'asyncio.run(asyncio.sleep_ms(60))',
        'print(log)',
      ].join('\n'),
    );
    expect(out).toBe("['background']\r\n");
  });
});
