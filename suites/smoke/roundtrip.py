# A small computation whose result the board must get right; the host times the whole exec round trip.
import hashlib, binascii

total = sum(i * i for i in range(1000))
assert total == 332833500, total
digest = binascii.hexlify(hashlib.sha256(b"hil").digest()).decode()
assert digest == "69b22a06ce5c5ca19c4c4a5e7e0a3eee4644d9cbbe3c7efe9a8e148be595294f", "sha256(b'hil') is wrong on the board: " + digest
print("hello from the board")
