"""The map model: frozen dataclasses for sides, table maps and field maps. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from replicator.core.errors import Problem
from replicator.core.quoting import Scalar

Side = Literal["left", "right"]
Direction = Literal["to_right", "to_left"]
FlowDirection = Literal["both", "to_right", "to_left"]
Mode = Literal["queued", "online"]
# What a delete on one side does on the other: delete too, nothing, or set a column.
DeletePolicy = Literal["propagate", "ignore", "mark"]
# What a null arriving for a column does: write it, keep the target's value, or refuse it.
NullPolicy = Literal["write", "keep", "refuse"]

SIDES: tuple[Side, Side] = ("left", "right")
# The replicator's own schema in each database: queue, logs, generated functions.
CONTROL_SCHEMA = "replicator"
# The writers' functions: each does one map direction's writes to its target table, as
# the writer of that side. Whoever may use this schema writes as the replicator (the
# capture triggers skip it).
WRITE_SCHEMA = "replicator_write"
DIRECTIONS: tuple[Direction, Direction] = ("to_right", "to_left")


def source_of(direction: Direction) -> Side:
    """The side a direction reads from."""
    return "left" if direction == "to_right" else "right"


def target_of(direction: Direction) -> Side:
    """The side a direction writes to."""
    return "right" if direction == "to_right" else "left"


def other_direction(direction: Direction) -> Direction:
    """The direction back."""
    return "to_left" if direction == "to_right" else "to_right"


def direction_into(side: Side) -> Direction:
    """The direction that writes into ``side``."""
    return "to_right" if side == "right" else "to_left"


def flows(declared: FlowDirection, direction: Direction) -> bool:
    """Whether something declared ``declared`` carries changes in ``direction``."""
    return declared == "both" or declared == direction


@dataclass(frozen=True)
class SideConfig:
    """One of the two sides: its label, its schema and how to reach its database."""

    role: Side
    name: str
    schema: str
    conninfo: str = field(repr=False)  # may hold a password: never printed
    conninfo_source: str  # where it came from, safe to print ("env FNO_DSN")
    # How this side's changes are noticed: row triggers, or its database's WAL slot.
    capture: Capture = "trigger"


AlertAction = Literal["notify", "pause", "stop"]
Capture = Literal["trigger", "wal"]
CAPTURES: tuple[Capture, ...] = ("trigger", "wal")
TruncatePolicy = Literal["refuse", "replicate"]
TRUNCATE_POLICIES: tuple[TruncatePolicy, ...] = ("refuse", "replicate")
# Who wins when both sides changed a row before either change crossed over.
ConflictPolicy = Literal["left_wins", "right_wins", "newest_wins", "manual"]
CONFLICT_POLICIES: tuple[ConflictPolicy, ...] = ("left_wins", "right_wins", "newest_wins", "manual")


@dataclass(frozen=True)
class AlertRule:
    """[[alert]] in replicator.toml: so many errors of a kind within a window, per map
    and direction, and what then happens."""

    name: str
    sqlstate: str | None  # None: any error
    count: int
    window: timedelta
    actions: tuple[AlertAction, ...]
    channel: str = "replicator_alert"  # NOTIFY channel
    command: str | None = None  # run with the alert as JSON on stdin


@dataclass(frozen=True)
class Roles:
    """[roles] in replicator.toml: who owns what deploy creates, and who runs the applier."""

    owner: str  # owns the control schema and every generated function; deploy acts as it
    runtime: str  # the applier's login: the control schema and the apply functions, no more
    left_writer: str = ""  # writes the left side's mapped tables, nothing else ("": derived)
    right_writer: str = ""

    def writer(self, side: Side) -> str:
        """The role the replicator's writes to ``side``'s tables run as: application
        triggers there fire with its rights, which are that side's mapped tables only.
        Unnamed, it is the owner's name with ``_owner`` (if it ends so) replaced:
        replicator_owner writes the left side as replicator_left_writer."""
        named = self.left_writer if side == "left" else self.right_writer
        stem = self.owner.removesuffix("_owner")
        return named or f"{stem}_{side}_writer"


@dataclass(frozen=True)
class Config:
    """replicator.toml, resolved."""

    path: Path
    left: SideConfig
    right: SideConfig
    maps_dir: Path
    batch_size: int = 1000
    poll_interval: float = 1.0
    # Seconds replicator run retries databases it cannot reach before it exits 1.
    give_up_after: float = 300.0
    alerts: tuple[AlertRule, ...] = ()
    # Status warns when a slot retains more WAL than this.
    retained_wal_warning: int = 1024**3
    # None: no role separation; whoever connects deploys and applies.
    roles: Roles | None = None
    # What the servers said (connections.identified): both sides reach one database,
    # whatever their conninfo strings. None: not asked; equal strings decide.
    shared_database: bool | None = None

    def side(self, role: Side) -> SideConfig:
        return self.left if role == "left" else self.right

    @property
    def conninfos(self) -> tuple[str, str]:
        """Both sides' conninfos, for replicator.maps.config.scrubbed: never to be shown."""
        return self.left.conninfo, self.right.conninfo

    @property
    def same_database(self) -> bool:
        """Both sides in one database: apply and dequeue share a transaction. The
        servers decide where they were asked (a socket and a TCP address may reach one
        database); otherwise the conninfo strings, of which equal ones surely do."""
        if self.shared_database is not None:
            return self.shared_database
        return self.left.conninfo == self.right.conninfo

    @property
    def databases(self) -> tuple[Side, ...]:
        """One side per database: whose connection reaches it."""
        return ("left",) if self.same_database else SIDES

    def arrow(self, direction: Direction) -> str:
        """A direction as the DBA reads it: "fno→cds"."""
        return f"{self.side(source_of(direction)).name}→{self.side(target_of(direction)).name}"

    def database_of(self, side: Side) -> Side:
        """The side whose connection reaches ``side``'s database."""
        return "left" if self.same_database else side

    def hosted(self, role: Side) -> tuple[Side, ...]:
        """The sides whose schemas live in the database ``role`` connects to."""
        return SIDES if self.same_database else (role,)

    def label(self, role: Side) -> str:
        """The database ``role`` reaches, as messages name it: "fno", or "fno+cds"."""
        return "+".join(self.side(side).name for side in self.hosted(role))

    def wal_sides(self, role: Side) -> tuple[Side, ...]:
        """The sides of ``role``'s database whose changes its WAL slot captures."""
        return tuple(s for s in self.hosted(role) if self.side(s).capture == "wal")

    def slot_name(self, role: Side) -> str:
        """The logical slot of ``role``'s database, named after the side that reaches it."""
        return f"replicator_{self.side(role).name}"


@dataclass(frozen=True)
class Lookup:
    """A reference to a row of another map: on each side, the parent's column this
    field holds (a CRM uuid, an ERP code); values cross through the parent map's keys."""

    map: str
    left: str
    right: str

    def column(self, side: Side) -> str:
        return self.left if side == "left" else self.right


@dataclass(frozen=True)
class Expression:
    """A per-direction SQL expression over the source row, and the columns it reads."""

    direction: Direction
    text: str
    reads: tuple[str, ...]


@dataclass(frozen=True)
class FieldMap:
    """One column on each side (or one side and a constant) and how values cross."""

    left: str | None
    right: str | None
    direction: FlowDirection
    key: bool = False
    # (left value, right value) pairs; crossing to_right reads left→right, to_left the reverse.
    value_map: tuple[tuple[Scalar, Scalar], ...] | None = None
    fallback: tuple[tuple[Side, Scalar], ...] = ()  # value map miss → this, per receiving side
    default: tuple[tuple[Side, Scalar], ...] = ()  # null (or no source column) → this, per side
    expressions: tuple[Expression, ...] = ()  # to_right / to_left: computed instead of copied
    lookup: Lookup | None = None
    sticky: bool = False  # a boolean target that became true is never set back to false
    on_null: tuple[tuple[Side, NullPolicy], ...] = ()  # per receiving side; "write" otherwise
    conflict: ConflictPolicy | None = None  # None: the map's policy

    @property
    def label(self) -> str:
        """How messages name the field: its left column, else its right one."""
        return self.left or self.right or "?"

    def column(self, side: Side) -> str | None:
        return self.left if side == "left" else self.right

    def fallback_for(self, side: Side) -> Scalar | None:
        return dict(self.fallback).get(side)

    def default_for(self, side: Side) -> Scalar | None:
        return dict(self.default).get(side)

    def expression_for(self, direction: Direction) -> Expression | None:
        return next((e for e in self.expressions if e.direction == direction), None)

    def null_policy(self, side: Side) -> NullPolicy:
        return dict(self.on_null).get(side, "write")

    def reads(self, direction: Direction) -> tuple[str, ...]:
        """The source columns this field's value in ``direction`` is made from."""
        expression = self.expression_for(direction)
        if expression is not None:
            return expression.reads
        column = self.column(source_of(direction))
        return (column,) if column is not None else ()

    def carries(self, direction: Direction) -> bool:
        """Whether this field writes its target column in ``direction``."""
        from_side = source_of(direction)
        to_side = target_of(direction)
        if not flows(self.direction, direction) or self.column(to_side) is None:
            return False
        return (
            self.column(from_side) is not None
            or self.expression_for(direction) is not None
            or self.default_for(to_side) is not None
        )


@dataclass(frozen=True)
class TableMap:
    """A pair of tables, one per side, and how their rows correspond."""

    name: str
    file: str
    left_table: str
    right_table: str
    direction: FlowDirection
    mode: Mode
    fields: tuple[FieldMap, ...]
    left_filter: str | None = None
    right_filter: str | None = None
    requires: tuple[str, ...] = ()  # maps whose rows must exist first (parents before children)
    on_delete: DeletePolicy = "propagate"
    # With on_delete = "mark": per receiving side, the column set and its value.
    marks: tuple[tuple[Side, str, Scalar], ...] = ()
    # Initial sync: the side whose rows win where both sides hold the same key.
    master: Side = "left"
    # A TRUNCATE of a source table: refused into the error log, or replicated as
    # a delete of every row the map covers on the other side.
    on_truncate: TruncatePolicy = "refuse"
    # Both sides changed a row before either change crossed: who wins (per field,
    # unless a field says otherwise). None: the master side.
    conflict: ConflictPolicy | None = None

    @property
    def conflict_policy(self) -> ConflictPolicy:
        """The map's declared conflict policy; by default the master side wins."""
        return self.conflict or ("left_wins" if self.master == "left" else "right_wins")

    def field_policy(self, field: FieldMap) -> ConflictPolicy:
        """Who wins a conflict over ``field``."""
        return field.conflict or self.conflict_policy

    @property
    def policies(self) -> frozenset[ConflictPolicy]:
        """Every conflict policy the map or one of its fields declares."""
        return frozenset((self.conflict_policy, *(f.conflict for f in self.fields if f.conflict)))

    def mark_for(self, side: Side) -> tuple[str, Scalar] | None:
        for mark_side, column, value in self.marks:
            if mark_side == side:
                return column, value
        return None

    def table(self, side: Side) -> str:
        return self.left_table if side == "left" else self.right_table

    def filter(self, side: Side) -> str | None:
        return self.left_filter if side == "left" else self.right_filter

    @property
    def key_fields(self) -> tuple[FieldMap, ...]:
        return tuple(f for f in self.fields if f.key)

    def key_columns(self, side: Side) -> list[str]:
        """The key fields' columns on ``side``, in the map's order."""
        return [f.column(side) or "" for f in self.key_fields]

    @property
    def directions(self) -> tuple[Direction, ...]:
        return tuple(d for d in DIRECTIONS if flows(self.direction, d))

    def carried_fields(self, direction: Direction) -> tuple[FieldMap, ...]:
        """Fields written on the target in ``direction``, keys first."""
        return tuple(f for f in self.fields if f.carries(direction))

    def source_columns(self, direction: Direction) -> tuple[str, ...]:
        """Source columns whose change must cross in ``direction`` (keys included)."""
        return tuple(
            dict.fromkeys(
                name for f in self.carried_fields(direction) for name in f.reads(direction)
            )
        )

    def lookup_fields(self, direction: Direction) -> tuple[FieldMap, ...]:
        """Carried fields whose value is a reference translated through another map."""
        return tuple(f for f in self.carried_fields(direction) if f.lookup is not None)

    @property
    def prerequisites(self) -> tuple[str, ...]:
        """Maps whose rows must arrive first: those required, and those looked up."""
        looked_up = (f.lookup.map for f in self.fields if f.lookup is not None)
        return tuple(dict.fromkeys((*self.requires, *looked_up)))


def lookup_scope(
    child: TableMap, field: FieldMap, parent: TableMap
) -> tuple[tuple[FieldMap, FieldMap], ...]:
    """(parent key field, child field) pairs that narrow a lookup to the child's own scope:
    a parent keyed by company is looked up within the child's company. They pair when
    both look up the same map (e.g. both hold a company)."""
    pairs: list[tuple[FieldMap, FieldMap]] = []
    for parent_key in parent.key_fields:
        if parent_key.lookup is None:
            continue
        for other in child.fields:
            if (
                other is not field
                and other.lookup is not None
                and other.lookup.map == parent_key.lookup.map
            ):
                pairs.append((parent_key, other))
                break
    return tuple(pairs)


@dataclass(frozen=True)
class MapSet:
    """Every map of a maps directory, prerequisites first, otherwise in file then
    declaration order. Changes apply and artifacts deploy in this order."""

    maps: tuple[TableMap, ...]
    # Problems found while loading that do not stop validation (a prerequisite or
    # lookup naming no map): validate reports them with everything else.
    unresolved: tuple[Problem, ...] = ()

    @property
    def names(self) -> frozenset[str]:
        return frozenset(m.name for m in self.maps)

    def by_name(self, name: str) -> TableMap:
        for table_map in self.maps:
            if table_map.name == name:
                return table_map
        raise KeyError(name)
