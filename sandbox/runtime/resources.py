"""Kubernetes-style resource quantities ("500m", "2", "1Gi", "64M") -> Docker limits."""
from __future__ import annotations

from sdk.errors import SkiffError

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
            "E": 10**18}


def cpu_to_nano_cpus(quantity: str) -> int:
    """'500m' -> 5e8, '2' -> 2e9."""
    text = quantity.strip()
    try:
        cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise SkiffError(f"cpu quantity {quantity!r} is not valid; use e.g. '500m' or '2'") from None
    return max(int(cores * 1e9), 1)


def memory_to_bytes(quantity: str) -> int:
    """'64Mi' -> 67108864, '1G' -> 1e9, '1024' -> 1024."""
    text = quantity.strip()
    for suffixes in (_BINARY, _DECIMAL):
        for suffix, factor in suffixes.items():
            if text.endswith(suffix):
                number = text[: -len(suffix)]
                break
        else:
            continue
        break
    else:
        number, factor = text, 1
    try:
        return int(float(number) * factor)
    except ValueError:
        raise SkiffError(f"memory quantity {quantity!r} is not valid; use e.g. '256Mi' or "
                         "'1Gi'") from None
