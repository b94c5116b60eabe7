# Boot-time helpers of the simulated board, called by the simulator (interpreter-session.ts); not
# part of any firmware API.
import sys
import builtins
import micropython
import __main__

_WRAPPED = ("time", "gc", "os", "sys", "select")
# Firmware packages whose name the VM already uses for something else (the WebAssembly build's
# browser asyncio): package name -> (board module, its parts, installed as package submodules).
_ASYNCIO = ("_board_asyncio", ("core", "event", "lock", "funcs"))
_REPLACED = {"asyncio": _ASYNCIO, "uasyncio": _ASYNCIO}


def install(extra_modules):
    """Imports the board modules and puts the wrappers in place of the VM's own modules."""
    import machine  # noqa: F401 (registers sys.modules["machine"])
    import esp  # noqa: F401
    import _board_time, _board_gc, _board_os, _board_sys, _board_select  # noqa: F401

    for name in _WRAPPED:
        module = sys.modules.pop("_board_" + name)
        module.__name__ = name
        sys.modules[name] = module
        # `import utime` finds the same module, as on the esp32 port.
        sys.modules["u" + name] = module
    installed = []
    for name in extra_modules:
        if name in _REPLACED:
            installed += _install_replacement(name)
        else:
            __import__(name)
            installed.append(name)
    for name in ("machine", "esp") + _WRAPPED + tuple(installed):
        try:
            del sys.modules[name].__file__
        except (AttributeError, KeyError):
            pass
    # Board modules stay importable under their own names only while install() runs.
    for name in [name for name in sys.modules if name.startswith("_board_asyncio")]:
        del sys.modules[name]
    sys.modules.pop("_board_attrtuple", None)
    sys.modules.pop("_board_usbd", None)
    builtins.input = _input
    sys.modules["gc"].calibrate()


def _install_replacement(name):
    """Installs a board package as sys.modules[name] with its parts as submodules; returns the names."""
    module_name, parts = _REPLACED[name]
    package = __import__(module_name)
    sys.modules[name] = package
    names = [name]
    for part in parts:
        module = sys.modules[module_name + "_" + part]
        sys.modules[name + "." + part] = module
        names.append(name + "." + part)
    if package.__name__ == module_name:  # the first name it is installed under becomes its name
        package.__name__ = name
        for part in parts:
            sys.modules[module_name + "_" + part].__name__ = name + "." + part
    return names


def boot_globals():
    """What the esp32's frozen _boot.py leaves in __main__: `gc` and `vfs`."""
    import gc
    import vfs

    __main__.gc = gc
    __main__.vfs = vfs


def run_file(path):
    """Runs a boot script like pyexec_file_if_exists(); returns "missing", "ok", "error" or "exit"."""
    try:
        with open(path) as f:
            source = f.read()
    except OSError:
        return "missing"
    g = __main__.__dict__
    g["__file__"] = path
    micropython.kbd_intr(3)
    try:
        exec(compile(source, path, "exec"), g)
        result = "ok"
    except SystemExit:
        result = "exit"
    except BaseException as e:  # noqa: B036 (a board prints every uncaught exception, KeyboardInterrupt too)
        sys.print_exception(e)
        result = "error"
    micropython.kbd_intr(-1)
    discard_pending_interrupt()
    return result


def discard_pending_interrupt():
    """Drops a Ctrl-C that arrived after code finished (pyexec calls mp_handle_pending(false))."""
    try:
        for _ in (0, 1):  # the loop's backward jump is a VM check point that raises it
            pass
    except KeyboardInterrupt:
        pass


def run_scheduled():
    """Runs the callbacks micropython.schedule() queued while the board idles at the REPL, as the
    port's serial wait does (MICROPY_EVENT_POLL_HOOK); prints what they raise."""
    try:
        for _ in (0, 1):  # the loop's backward jump is a VM check point, where they run
            pass
    except KeyboardInterrupt:
        pass  # a Ctrl-C that arrived after code finished (see discard_pending_interrupt)
    except BaseException as e:  # noqa: B036 (a board prints what a callback raises and carries on)
        sys.print_exception(e)


def _input(prompt=None):
    """input() over sys.stdin, with readline's echo and editing keys (shared/readline/readline.c)."""
    if prompt is not None:
        sys.stdout.write(str(prompt))
    line = []
    while True:
        c = sys.stdin.read(1)
        if c == "\r":
            sys.stdout.write("\r\n")
            return "".join(line)
        if c == "":
            raise EOFError
        if c == "\x04" and not line:
            raise EOFError
        if c == "\x03":
            raise KeyboardInterrupt
        if c in ("\x08", "\x7f"):
            if line:
                line.pop()
                sys.stdout.write("\x08\x1b[K")
        elif ord(c) >= 32:
            line.append(c)
            sys.stdout.write(c)
