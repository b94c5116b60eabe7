/**
 * What one instance of a multitest runs on its board: the whole test file, then an appended block
 * that defines the `multitest` helper class, the globals injected so far and the call of the
 * instance's entry point (/work/shared/reference/micropython-host-protocols.md §6.2, §6.3).
 *
 * The helper speaks the line protocol of MicroPython's `tests/run-multitests.py` (written here from
 * the protocol description): control lines on stdout, `BROADCAST` lines from the host on stdin.
 */

/** The `multitest` class injected into every instance. Control lines are the ones §6.4 lists. */
export const MULTITEST_HELPER = `import sys


class multitest:
    # Talks to the host over stdout lines; the host relays BROADCAST lines to stdin.

    @staticmethod
    def flush():
        flush = getattr(sys.stdout, "flush", None)
        if flush is not None:
            flush()

    @staticmethod
    def _tell(*words):
        print(*words)
        multitest.flush()

    @staticmethod
    def next():
        multitest._tell("NEXT")

    @staticmethod
    def broadcast(msg):
        multitest._tell("BROADCAST", msg)

    @staticmethod
    def wait(msg):
        wanted = "BROADCAST " + msg
        while sys.stdin.readline().rstrip() != wanted:
            pass

    @staticmethod
    def globals(**values):
        for name in values:
            print("SET", name, "=", repr(values[name]))
        multitest.flush()

    @staticmethod
    def skip():
        multitest._tell("SKIP")
        raise SystemExit

    @staticmethod
    def expect_reboot(resume, delay_ms=0):
        multitest._tell("WAIT_FOR_REBOOT", resume, delay_ms)

    @staticmethod
    def output_metric(data):
        multitest._tell("OUTPUT_METRIC", data)

    @staticmethod
    def get_network_ip():
        try:
            return nic.ifconfig()[0]
        except Exception:
            pass
        try:
            import network

            iface = network.WLAN() if hasattr(network, "WLAN") else network.LAN()
            return iface.ifconfig()[0]
        except Exception:
            return HOST_IP
`;

/**
 * The script for one instance. `injectedGlobals` is Python source, one assignment per line (each
 * ending in `\n`); `entryPoint` is the function to call, e.g. `instance1` or `instance0_resume`.
 */
export function instanceScript(source: string, injectedGlobals: string, entryPoint: string): string {
  return `${source}\n${MULTITEST_HELPER}\n${injectedGlobals}\n${entryPoint}()\nmultitest.flush()\n`;
}

/** The global a `SET <name> = <value>` line adds for instances started later: `<name> = <value>\n`. */
export function globalAssignment(setLine: string): string {
  return `${setLine.slice('SET '.length)}\n`;
}

/** `HOST_IP = '<ip>'\n`, injected only into files that mention `get_network_ip` (§6.2). */
export function hostIpAssignment(source: string, hostIp: string): string {
  return source.includes('get_network_ip') ? `HOST_IP = '${hostIp}'\n` : '';
}
