# Brings the runtime device up now: the board re-enumerates (the step reconnects by port path).
exec(HIL_DEVICE_PY)
