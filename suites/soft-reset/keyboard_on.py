# A runtime HID keyboard beside the built-in CDC. Activating re-enumerates the board: the rig's link
# drops here and the step reconnects by port path.
hil_activate_keyboard()
