"""Kubernetes resource quantities, parsed into whole millicores and mebibytes.

Only the forms people write in requests are accepted: CPU as cores ("2", "0.5", 2) or millicores ("500m");
memory with a binary suffix (Ki, Mi, Gi, Ti) or a decimal one (k, M, G, T) or plain bytes.
"""

import re
from decimal import Decimal, InvalidOperation

# At most 12 digits before the point and 9 after: more is a typo, and it keeps the planning arithmetic small.
_CPU = re.compile(r"(?P<num>[0-9]{1,12}(\.[0-9]{1,9})?)(?P<unit>m?)")
_MEMORY = re.compile(r"(?P<num>[0-9]{1,15}(\.[0-9]{1,9})?)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?")
_MEMORY_FACTORS = {
    None: Decimal(1),
    "Ki": Decimal(1024),
    "Mi": Decimal(1024**2),
    "Gi": Decimal(1024**3),
    "Ti": Decimal(1024**4),
    "k": Decimal(1000),
    "M": Decimal(1000**2),
    "G": Decimal(1000**3),
    "T": Decimal(1000**4),
}
_MIB = Decimal(1024**2)


class QuantityError(ValueError):
    """A quantity that is not in an accepted form; the message lists the accepted forms."""


def cpu_millicores(value: object) -> int:
    """Millicores of a CPU quantity, rounded up to a whole millicore."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise QuantityError("expected a CPU quantity such as 2, 0.5 or \"500m\"")
    text = str(value).strip()
    match = _CPU.fullmatch(text)
    if not match:
        raise QuantityError(f"{text[:40]!r} is not a CPU quantity; use cores (2, 0.5) or millicores (\"500m\")")
    number = Decimal(match["num"])
    millis = number if match["unit"] == "m" else number * 1000
    result = int(millis.to_integral_value(rounding="ROUND_CEILING"))
    if result <= 0:
        raise QuantityError(f"{text!r} must be more than zero")
    return result


def memory_mib(value: object) -> int:
    """Mebibytes of a memory quantity, rounded up to a whole MiB."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise QuantityError("expected a memory quantity such as \"512Mi\" or \"2Gi\"")
    text = str(value).strip()
    match = _MEMORY.fullmatch(text)
    if not match:
        raise QuantityError(
            f"{text[:40]!r} is not a memory quantity; use a number with Ki, Mi, Gi, Ti (or k, M, G, T), e.g. \"512Mi\""
        )
    try:
        size = Decimal(match["num"]) * _MEMORY_FACTORS[match["unit"]]
    except InvalidOperation as error:  # pragma: no cover - the regex admits only decimals
        raise QuantityError(str(error)) from error
    result = int((size / _MIB).to_integral_value(rounding="ROUND_CEILING"))
    if result <= 0:
        raise QuantityError(f"{text!r} must be more than zero")
    return result
