"""Text a PostgreSQL column can hold: the one check for strings that come from outside.

PostgreSQL text and jsonb refuse the NUL character, and a lone surrogate cannot be encoded as
UTF-8 at all; either one turns a write or a query into a database error. Input is refused with a
sentence before it gets that far (`text_is_storable`); what is only being logged is cleaned instead
(`text_storable`), so recording an attacker's string can never fail.
"""

import math
import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def text_is_storable(value: str) -> bool:
    """Whether PostgreSQL can store this string as it is."""
    if value.isascii():
        return "\x00" not in value
    return _UNSTORABLE.search(value) is None


def text_storable(value: str) -> str:
    """The string with each character PostgreSQL cannot store replaced by U+FFFD."""
    if value.isascii():
        return value.replace("\x00", REPLACEMENT) if "\x00" in value else value
    return _UNSTORABLE.sub(REPLACEMENT, value)


def json_storable(value):
    """A JSON-ready value whose strings PostgreSQL's jsonb can hold (NaN and infinities become strings)."""
    if isinstance(value, str):
        return text_storable(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return [json_storable(item) for item in value]
    if isinstance(value, dict):
        return {text_storable(str(key)): json_storable(item) for key, item in value.items()}
    return text_storable(str(value))
