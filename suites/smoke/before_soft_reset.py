# Leaves state in RAM and on the filesystem, which a soft reset must clear and keep respectively.
hil_marker = 1234
with open("/hil_reset_marker.txt", "w") as f:
    f.write("survives soft reset")
