# Tuples with named fields that print like MicroPython's native "attrtuple" (os.uname(),
# sys.implementation): `(sysname='esp32', ...)` rather than namedtuple's `name(...)`.
from collections import namedtuple


def attrtuple(name, fields, values):
    base = namedtuple(name, fields)

    class AttrTuple(base):
        def __repr__(self):
            return "(" + ", ".join("%s=%r" % (f, v) for f, v in zip(fields, self)) + ")"

        __str__ = __repr__  # print() does not fall back to __repr__ for subclasses of native types

    return AttrTuple(*values)
