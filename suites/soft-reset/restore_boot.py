# Puts the board's own boot.py back (or removes the suite's when there was none).
import os
names = os.listdir("/")
if "boot_hil_saved.py" in names:
    os.rename("/boot_hil_saved.py", "/boot.py")
elif "boot.py" in names:
    os.remove("/boot.py")
print("HIL:PROP restored=1")
