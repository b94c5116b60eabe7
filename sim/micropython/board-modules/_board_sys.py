# sys — the ESP32 port's `sys` module: the VM's own objects, with the board's identity.
# Installed as sys.modules["sys"].
import sys as _vm
import _board_hw
from _board_attrtuple import attrtuple

argv = _vm.argv
byteorder = _vm.byteorder
exit = _vm.exit
maxsize = _vm.maxsize
modules = _vm.modules
path = _vm.path
print_exception = _vm.print_exception
ps1 = _vm.ps1
ps2 = _vm.ps2
stderr = _vm.stderr
stdin = _vm.stdin
stdout = _vm.stdout
version_info = _vm.version_info

# .mpy ABI: the running VM's bytecode version and sub-version, with the esp32/esp32s3 native
# architecture (MP_NATIVE_ARCH_XTENSAWIN = 10, py/persistentcode.h) in bits 10 and up.
_MPY_ARCH_XTENSAWIN = 10

platform = "esp32"
version = "3.4.0; MicroPython " + _board_hw.version + " on " + _board_hw.build_date
implementation = attrtuple(
    "implementation",
    ("name", "version", "_machine", "_mpy"),
    (
        "micropython",
        (_board_hw.version_major, _board_hw.version_minor, _board_hw.version_micro, _board_hw.version_prerelease),
        _board_hw.board_name + " with " + _board_hw.mcu_name,
        (_vm.implementation._mpy & 0x3FF) | (_MPY_ARCH_XTENSAWIN << 10),
    ),
)
