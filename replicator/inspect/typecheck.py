"""Would copying a column's values into another column's type lose data?

Replication copies a value from column A into column B with PostgreSQL's
assignment cast. ``loss_reason`` says, before anything is deployed, whether
some value A can hold would come out of that copy changed, cut, rounded or
refused. It reasons from the catalog alone (no database), from the base types,
so a domain over ``character varying(20)`` is judged as ``character varying(20)``.

Decisions behind the rules (each a PostgreSQL fact checked on a 15 server):

* ``real``/``double precision`` into ``numeric`` is lossy: PostgreSQL converts
  through 6/15 significant digits, not the exact binary value
  (``(0.1::float8 + 0.2)::numeric`` is ``0.3``).
* ``numeric`` into an integer type or ``money`` is lossy even when the digits
  fit: a ``numeric`` column may hold ``NaN``, which neither accepts.
* ``smallint`` into ``money`` has no assignment cast, so it needs an expression;
  ``integer`` fits; ``bigint`` overflows (money is bigint cents). ``money`` is
  taken to have 2 decimal places, as ``lc_monetary`` gives it almost everywhere.
* Into ``character(n)``: values come back without their trailing spaces, so a
  source whose values may end in a space is lossy even when it fits;
  ``character(n)`` into a wider ``character varying`` is fine (its trailing
  spaces never meant anything). ``name`` holds 63 bytes; a character is taken
  as up to 4 bytes (UTF-8).
* ``timestamp`` into ``timestamptz`` and ``time`` into ``timetz`` are fine: the
  value is read in the applier's session time zone and keeps every field.
* ``json`` into ``jsonb`` is lossy: jsonb drops duplicate keys and rewrites
  key order, whitespace and number spelling.
* Every value has a text form, so anything fits ``text``; a bounded text type
  is judged by the longest text form when it is known, else refused.
* A CHECK (col IN (...)) list on the source narrows what it can hold (into an
  enum or a bounded text type); such a list on the target is a constraint, not
  a type, and is not judged here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from replicator.inspect.catalog import Column

_STRINGS = frozenset({"text", "varchar", "bpchar", "name", "citext"})
_NAME_BYTES = 63  # NAMEDATALEN - 1
_UTF8_MAX_BYTES = 4

# The longest text form of types whose output is fixed ASCII, e.g. "-2147483648".
_TEXT_WIDTH = {"int2": 6, "int4": 11, "int8": 20, "bool": 5, "uuid": 36}
# Types whose text form never ends in a space (character(n) drops them anyway).
_SPACELESS = frozenset(_TEXT_WIDTH) | {
    "bpchar",
    "numeric",
    "float4",
    "float8",
    "money",
    "date",
    "time",
    "timetz",
    "timestamp",
    "timestamptz",
    "interval",
    "jsonb",
}


@dataclass(frozen=True)
class _Type:
    """What the rules need of one side: how to print it and what it can hold."""

    name: str  # as format_type() prints the declared type; every message uses it
    base: str  # pg_type.typname of the base type
    base_sql: str
    typmod: int
    labels: tuple[str, ...] | None  # an enum's labels; None when not an enum
    values: tuple[str, ...] | None  # the closed set of values it holds, if known

    @property
    def array(self) -> bool:
        return self.base_sql.endswith("[]")

    def element(self) -> _Type:
        """The array's element type; it keeps the array's name for the messages."""
        return _Type(self.name, self.base[1:], self.base_sql[:-2], self.typmod, None, None)


def loss_reason(source: Column, target: Column) -> str | None:
    """None when every value ``source`` can hold reaches ``target`` unchanged, else why not."""
    return _reason(_view(source), _view(target))


def _view(column: Column) -> _Type:
    return _Type(
        name=column.type_sql,
        base=column.base_type,
        base_sql=column.base_type_sql,
        typmod=column.typmod,
        labels=column.enum_labels,
        values=column.domain_values,
    )


def _reason(s: _Type, t: _Type) -> str | None:
    # Enums first: two same-named enums in two databases may still differ in labels.
    if t.labels is not None:
        return _into_enum(s, t)
    if s.base_sql == t.base_sql:
        return None
    if s.array and t.array:
        return _reason(s.element(), t.element())
    if t.base in _STRINGS:
        return _would(s, t, _into_string(s, t))
    if s.base in _STRINGS:
        return _not_every(s, t)
    rule = _RULES.get((_FAMILY.get(s.base), _FAMILY.get(t.base)))
    if rule is None or not (s.base == t.base or (s.base, t.base) in _CASTS):
        return _no_conversion(s, t)
    return _would(s, t, rule(s, t))


def _would(s: _Type, t: _Type, effect: str | None) -> str | None:
    return None if effect is None else f"{s.name} into {t.name} {effect}"


def _not_every(s: _Type, t: _Type) -> str:
    article = "an" if t.name[0] in "aeio" else "a"
    return f"{s.name} into {t.name}: not every {s.name} is {article} {t.name}"


def _no_conversion(s: _Type, t: _Type) -> str:
    return f"no lossless conversion from {s.name} into {t.name}"


# --- enums -------------------------------------------------------------------


def _into_enum(s: _Type, t: _Type) -> str | None:
    assert t.labels is not None
    if s.values is None:
        return _not_every(s, t) if s.base in _STRINGS else _no_conversion(s, t)
    missing = [v for v in s.values if v not in t.labels]
    if not missing:
        return None
    listing = ", ".join(repr(v) for v in missing)
    return f"{s.name} into {t.name} would fail on labels {t.name} lacks: {listing}"


# --- text ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Width:
    """The longest text form a type can produce; None when there is no bound."""

    chars: int | None
    bytes: int | None


def _width(s: _Type) -> _Width:
    if s.values is not None:
        return _Width(
            max((len(v) for v in s.values), default=0),
            max((len(v.encode()) for v in s.values), default=0),
        )
    if s.base in ("varchar", "bpchar") and s.typmod >= 0:
        length = s.typmod - 4
        return _Width(length, length * _UTF8_MAX_BYTES)
    if s.base == "name":
        return _Width(_NAME_BYTES, _NAME_BYTES)
    fixed = _TEXT_WIDTH.get(s.base)
    return _Width(fixed, fixed)


def _may_end_in_space(s: _Type) -> bool:
    if s.values is not None:
        return any(v.endswith(" ") for v in s.values)
    return not (s.base in _SPACELESS or s.array)  # an array's text ends in "}"


def _into_string(s: _Type, t: _Type) -> str | None:
    width = _width(s)
    if t.base in ("varchar", "bpchar") and t.typmod >= 0:
        length = t.typmod - 4
        if width.chars is None or width.chars > length:
            return f"would cut values longer than {length} characters"
    if t.base == "name" and (width.bytes is None or width.bytes > _NAME_BYTES):
        return f"would cut values longer than {_NAME_BYTES} bytes"
    if t.base == "bpchar" and _may_end_in_space(s):
        return "would drop trailing spaces"
    return None


# --- numbers -------------------------------------------------------------------


@dataclass(frozen=True)
class _Exact:
    """An exact number type: its largest value and its decimal places (None: no limit).

    Every range here reaches as far below zero as above (integers one step
    further, which every target below zero matches), so the upper bound decides.
    """

    high: Decimal | None
    scale: int | None
    nan: bool


_MONEY_SCALE = 2
_EXACT: dict[str, _Exact] = {
    "int2": _Exact(Decimal(2**15 - 1), 0, nan=False),
    "int4": _Exact(Decimal(2**31 - 1), 0, nan=False),
    "int8": _Exact(Decimal(2**63 - 1), 0, nan=False),
    "money": _Exact(Decimal("92233720368547758.07"), _MONEY_SCALE, nan=False),
}
# Mantissa bits, and the significant digits PostgreSQL keeps converting to numeric.
_FLOAT_BITS = {"float4": 24, "float8": 53}
_FLOAT_DIGITS = {"float4": 6, "float8": 15}


def _numeric_typmod(typmod: int) -> tuple[int, int]:
    """Precision and scale; PG 15 keeps the scale as an 11-bit signed number."""
    packed = typmod - 4
    return (packed >> 16) & 0xFFFF, ((packed & 0x7FF) ^ 0x400) - 0x400


def _exact(t: _Type) -> _Exact:
    if t.base != "numeric":
        return _EXACT[t.base]
    if t.typmod < 0:
        return _Exact(None, None, nan=True)
    precision, scale = _numeric_typmod(t.typmod)
    return _Exact(Decimal((0, (9,) * precision, -scale)), scale, nan=True)


def _rounding(t: _Type, scale: int) -> str:
    if t.base == "money":
        return f"would round to the currency's {_MONEY_SCALE} decimal places"
    if scale < 0:
        return f"would round to multiples of {10**-scale}"
    if scale == 0:
        return "would round to whole numbers"
    return f"would round to {scale} decimal place{'' if scale == 1 else 's'}"


def _exact_into_exact(s: _Type, t: _Type) -> str | None:
    have, room = _exact(s), _exact(t)
    if room.scale is not None and (have.scale is None or have.scale > room.scale):
        return _rounding(t, room.scale)
    if room.high is not None and (have.high is None or have.high > room.high):
        return f"would overflow above {room.high:f}"
    if have.nan and not room.nan:
        return "would fail on NaN"
    return None


def _exact_into_float(s: _Type, t: _Type) -> str | None:
    # Exact only for whole numbers no longer than the mantissa.
    have = _exact(s)
    whole = have.scale is not None and have.scale <= 0
    if whole and have.high is not None and have.high <= 2 ** _FLOAT_BITS[t.base]:
        return None
    return "would lose precision"


def _float_into_float(s: _Type, t: _Type) -> str | None:
    return None if _FLOAT_BITS[s.base] <= _FLOAT_BITS[t.base] else "would lose precision"


def _float_into_exact(s: _Type, t: _Type) -> str:
    scale = _exact(t).scale
    if scale is None:
        return f"would round to {_FLOAT_DIGITS[s.base]} significant digits"
    return _rounding(t, scale)


# --- dates and times -------------------------------------------------------------

# What each type carries; a cast that leaves a part behind loses it.
_DATETIME_PARTS = {
    "date": ("date",),
    "time": ("time of day",),
    "timetz": ("time of day", "time zone"),
    "timestamp": ("date", "time of day"),
    "timestamptz": ("date", "time of day", "time zone"),
}
_FULL_PRECISION = 6


def _seconds_rounding(places: int) -> str:
    if places == 0:
        return "would round to whole seconds"
    return f"would round seconds to {places} decimal place{'' if places == 1 else 's'}"


def _datetime_into_datetime(s: _Type, t: _Type) -> str | None:
    for part in _DATETIME_PARTS[s.base]:
        if part not in _DATETIME_PARTS[t.base]:
            return f"would drop the {part}"
    if "time of day" not in _DATETIME_PARTS[s.base]:
        return None
    have, room = (x.typmod if x.typmod >= 0 else _FULL_PRECISION for x in (s, t))
    return _seconds_rounding(room) if room < have else None


# An interval typmod packs a field mask (high 16 bits) and a precision (low 16
# bits); the finest field in the mask is what values are truncated to.
_INTERVAL_UNITS = (  # finest first
    (1 << 12, "seconds"),
    (1 << 11, "minutes"),
    (1 << 10, "hours"),
    (1 << 3, "days"),
    (1 << 1, "months"),
    (1 << 2, "years"),
)
_INTERVAL_FULL_PRECISION = 0xFFFF


def _interval_unit(t: _Type) -> int:
    """Index into _INTERVAL_UNITS of the finest field the type keeps."""
    if t.typmod < 0:
        return 0
    mask = (t.typmod >> 16) & 0x7FFF
    return next(i for i, (bit, _) in enumerate(_INTERVAL_UNITS) if mask & bit)


def _interval_precision(t: _Type) -> int:
    precision = t.typmod & 0xFFFF if t.typmod >= 0 else _INTERVAL_FULL_PRECISION
    return _FULL_PRECISION if precision == _INTERVAL_FULL_PRECISION else precision


def _interval_into_interval(s: _Type, t: _Type) -> str | None:
    have, room = _interval_unit(s), _interval_unit(t)
    if room > have:
        return f"would truncate to whole {_INTERVAL_UNITS[room][1]}"
    if have == 0 and _interval_precision(t) < _interval_precision(s):
        return _seconds_rounding(_interval_precision(t))
    return None


# --- json ----------------------------------------------------------------------


def _json_into_json(s: _Type, t: _Type) -> str | None:
    if t.base == "jsonb":
        return "would drop duplicate keys and rewrite key order, whitespace and numbers"
    return None  # jsonb's text is valid json


# --- the table ---------------------------------------------------------------------

_FAMILY = {
    **dict.fromkeys(("int2", "int4", "int8", "numeric", "money"), "exact"),
    **dict.fromkeys(_FLOAT_BITS, "float"),
    **dict.fromkeys(_DATETIME_PARTS, "datetime"),
    "interval": "interval",
    "json": "json",
    "jsonb": "json",
}
_RULES: dict[tuple[str | None, str | None], Callable[[_Type, _Type], str | None]] = {
    ("exact", "exact"): _exact_into_exact,
    ("exact", "float"): _exact_into_float,
    ("float", "float"): _float_into_float,
    ("float", "exact"): _float_into_exact,
    ("datetime", "datetime"): _datetime_into_datetime,
    ("interval", "interval"): _interval_into_interval,
    ("json", "json"): _json_into_json,
}
_NUMBERS = ("int2", "int4", "int8", "numeric", "float4", "float8")
# Assignment (or implicit) casts in pg_cast between different types the rules
# cover; a pair missing here (smallint into money, date into time) has no cast.
_CASTS = frozenset(
    {(a, b) for a in _NUMBERS for b in _NUMBERS}
    | {("int4", "money"), ("int8", "money"), ("numeric", "money"), ("money", "numeric")}
    | {("date", "timestamp"), ("date", "timestamptz"), ("time", "timetz"), ("timetz", "time")}
    | {("timestamp", b) for b in ("date", "time", "timestamptz")}
    | {("timestamptz", b) for b in ("date", "time", "timetz", "timestamp")}
    | {("json", "jsonb"), ("jsonb", "json")}
)
