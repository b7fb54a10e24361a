"""A memo for bacpypes3's decoding hot spot: the property check in `Sequence.__init__`.

For every element a decoded sequence does not carry, bacpypes3 (0.0.10x) asks
`inspect.getattr_static(self, attr)` whether the class defines it as a property. That lookup walks
the class hierarchy each time, and it was half of the CPU the hub's event loop spent decoding
ReadPropertyMultiple answers (a third of the loop's whole time at 100 devices). The answer depends
only on the class and the name, so it is looked up once per pair. `install()` swaps the module's
`inspect` for a stand-in whose `getattr_static` uses the memo and passes everything else through.
"""

import inspect
from functools import cache
from typing import Any

from bacpypes3 import constructeddata

_MISSING = object()


@cache
def _class_attribute(cls: type, attr: str) -> Any:
    """What `attr` names in `cls` or its bases (the first class that defines it), or _MISSING."""
    for klass in cls.__mro__:
        if attr in vars(klass):
            return vars(klass)[attr]
    return _MISSING


class _MemoizedInspect:
    """The `inspect` module, except that `getattr_static` of an instance is answered from its class."""

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @staticmethod
    def getattr_static(obj: object, attr: str) -> Any:
        """As inspect's for the question bacpypes3 asks: a name the instance has not set yet."""
        found = _class_attribute(type(obj), attr)
        if found is _MISSING:
            raise AttributeError(attr)
        return found


def install() -> None:
    """Use the memo in bacpypes3's constructed data types (idempotent)."""
    constructeddata.inspect = _MemoizedInspect()  # type: ignore[assignment]
