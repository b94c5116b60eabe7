# What the board's callbacks saw while the host ran its transfers.
for k in sorted(hil_stats):
    print("HIL:PROP board.%s=%d" % (k, hil_stats[k]))
assert hil_stats["control_out"] >= 1 or hil_stats["bulk_out"] >= 1, "no transfer reached the board: %r" % hil_stats
