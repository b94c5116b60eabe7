# os — the ESP32 port's `os` module over the board filesystem. Installed as sys.modules["os"].
#
# The filesystem is the WebAssembly build's VfsPosix mounted at "/" (the board's files only);
# stat() and ilistdir() report what the esp32's LittleFS driver (extmod/vfs_lfs.c) reports.
import os as _host
import _board_hw
from _board_attrtuple import attrtuple

sep = "/"
chdir = _host.chdir
getcwd = _host.getcwd
listdir = _host.listdir
mkdir = _host.mkdir
remove = _host.remove
rmdir = _host.rmdir
unlink = _host.unlink
statvfs = _host.statvfs
mount = _host.mount
umount = _host.umount



def rename(old, new):
    # The WebAssembly build's VfsPosix, mounted at "/", fails to rename absolute paths (ENOENT) although
    # the same relative paths work; LittleFS on the board takes both. Absolute paths are made relative
    # to the filesystem root here, which is the board's "/".
    if old.startswith("/") or new.startswith("/"):
        cwd = _host.getcwd()
        _host.chdir("/")
        try:
            _host.rename(old.lstrip("/") or "/", new.lstrip("/") or "/")
        finally:
            _host.chdir(cwd)
    else:
        _host.rename(old, new)


_S_IFDIR = 0x4000
_S_IFREG = 0x8000
_EPOCH_OFFSET = 946684800  # the board's epoch is 2000-01-01


def uname():
    return attrtuple(
        "uname_result",
        ("sysname", "nodename", "release", "version", "machine"),
        (
            "esp32",
            "esp32",
            _board_hw.version.lstrip("v"),
            _board_hw.version + " on " + _board_hw.build_date,
            _board_hw.board_name + " with " + _board_hw.mcu_name,
        ),
    )


def stat(path):
    st = _host.stat(path)
    kind = _S_IFDIR if st[0] & _S_IFDIR else _S_IFREG
    mtime = max(0, st[8] - _EPOCH_OFFSET)
    return (kind, 0, 0, 0, 0, 0, st[6] if kind == _S_IFREG else 0, mtime, mtime, mtime)


def ilistdir(path="."):
    for entry in _host.ilistdir(path):
        name, kind = entry[0], entry[1]
        size = 0
        if kind == _S_IFREG:
            try:
                size = _host.stat(_join(path, name))[6]
            except OSError:
                pass
        yield (name, kind, 0, size)


def _join(directory, name):
    if directory in (".", b".", "", b""):
        return name
    slash = "/" if isinstance(directory, str) else b"/"
    return directory.rstrip(slash) + slash + name


def urandom(n):
    return bytes.fromhex(_board_hw.random_hex(n))


def sync():
    pass
