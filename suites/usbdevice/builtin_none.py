# BUILTIN_NONE: only the runtime vendor interface, numbered from 0 — the REPL's CDC port disappears
# from the host entirely until the board is reset. The rig then recovers the board (its ladder ends in
# a hub port power cycle).
u = hil_usbd()
n = u.BUILTIN_NONE
HIL_EP = max(n.ep_max, 1)
cfg = struct.pack("<BBHBBBBB", 9, 2, 0, 1, 1, 0, 0x80, 125) + hil_itf(0, 2, 0xFF) + hil_ep(HIL_EP, 2, 64) + hil_ep(0x80 | HIL_EP, 2, 64)
cfg = bytearray(cfg)
struct.pack_into("<H", cfg, 2, len(cfg))
dev = bytearray(u.BUILTIN_CDC.desc_dev)
dev[4:7] = b"\x00\x00\x00"  # class per interface: no IAD any more
hil_opened.clear()
u.active(False)
u.builtin_driver = n
u.config(bytes(dev), bytes(cfg), None, hil_vendor_open, hil_vendor_reset, hil_vendor_control, hil_vendor_xfer)
u.active(True)
