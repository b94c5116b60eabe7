# The vendor loopback interface (usb_common.py) beside the built-in CDC, numbered from
# BUILTIN_CDC.itf_max / ep_max / str_max. Activating re-enumerates the board (the link drops; the step
# reconnects by port path).
u = hil_usbd()
b = u.BUILTIN_CDC
HIL_EP = max(b.ep_max, 1)
hil_opened.clear()
u.active(False)
u.builtin_driver = b
u.config(
    b.desc_dev,
    hil_config_with(b.desc_cfg, hil_itf(b.itf_max, 2, 0xFF, 0, 0, b.str_max) + hil_ep(HIL_EP, 2, 64) + hil_ep(0x80 | HIL_EP, 2, 64), 1),
    {b.str_max: "HIL loopback"},
    hil_vendor_open,
    hil_vendor_reset,
    hil_vendor_control,
    hil_vendor_xfer,
)
u.active(True)
