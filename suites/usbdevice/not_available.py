# machine.USBDevice exists only on chips with native USB-OTG (ESP32-S2/S3), from v1.23.
import machine
print("HIL:PROP hasUSBDevice=%s" % hasattr(machine, "USBDevice"))
