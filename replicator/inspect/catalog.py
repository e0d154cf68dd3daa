"""What the live database says about the mapped tables: columns, types, keys.

The queries live in sql/catalog/*.sql; this module runs them and folds the
rows into a frozen snapshot the validator and the compiler read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import sqlglot
from psycopg.rows import TupleRow, dict_row
from sqlglot import exp

from replicator.core.resources import sql_file


@dataclass(frozen=True)
class Column:
    """One column as the catalog describes it (domains resolved to their base type)."""

    name: str
    type_sql: str  # format_type() of the declared type, e.g. "character varying(20)"
    type_kind: str  # pg_type.typtype: b base, e enum, d domain, c composite, r range
    type_name: str  # pg_type.typname
    type_schema: str
    base_type: str  # pg_type.typname of the type, or of the domain's base type
    base_type_sql: str  # format_type() of that base type with its modifier
    typmod: int
    not_null: bool
    has_default: bool
    generated: bool
    enum_labels: tuple[str, ...] | None = None
    # Values a single-column CHECK (col IN (...)) restricts the column to.
    allowed_values: tuple[str, ...] | None = None
    # pg_attribute.attidentity: "a" GENERATED ALWAYS AS IDENTITY, "d" BY DEFAULT, "" none.
    identity: str = ""

    @property
    def builtin(self) -> bool:
        """A type every PostgreSQL database has, so the other server knows it too."""
        return self.type_schema == "pg_catalog"

    @property
    def domain_values(self) -> tuple[str, ...] | None:
        """The closed set of values the column accepts, if the catalog says so."""
        return self.enum_labels if self.enum_labels is not None else self.allowed_values


@dataclass(frozen=True)
class UniqueKey:
    """A primary key or a unique index over plain columns, usable with ON CONFLICT."""

    name: str
    columns: tuple[str, ...]
    primary: bool
    replica_identity: bool = False  # ALTER TABLE ... REPLICA IDENTITY USING INDEX names it


@dataclass(frozen=True)
class RowSecurity:
    """Row level security on a table that binds roles the replicator reads and writes the
    table as (a side's writer and the [roles] owner, else whoever deploys): rows its
    policies hide from them would be neither copied nor replicated."""

    forced: bool  # FORCE ROW LEVEL SECURITY: it binds the table's owner too
    hidden_from: tuple[str, ...]  # the roles it binds, that no policy shows every row


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]
    unique_keys: tuple[UniqueKey, ...]
    # pg_class.relreplident: what an UPDATE or DELETE writes of the old row to the
    # WAL: d the primary key, i the replica identity index, f every column, n nothing.
    replica_identity: str = "d"
    # pg_class.relkind: r a table; the others (KINDS) cannot be mapped.
    kind: str = "r"
    # pg_class.relpersistence: p permanent, u UNLOGGED (writes no WAL), t temporary.
    persistence: str = "p"
    # pg_class.relispartition: rows inserted through the partitioned table fire its row
    # triggers only, not its statement triggers.
    is_partition: bool = False
    row_security: RowSecurity | None = None  # None: row level security is off

    @property
    def label(self) -> str:
        """schema.name, as messages and wal2json name the table."""
        return f"{self.schema}.{self.name}"

    @property
    def identity_key(self) -> UniqueKey | None:
        """The key whose columns the WAL carries of an old row (DEFAULT or USING INDEX);
        None for FULL, NOTHING, and for DEFAULT without a primary key or USING INDEX
        of a dropped index, which PostgreSQL then treats as NOTHING."""
        for key in self.unique_keys:
            if (self.replica_identity == "d" and key.primary) or (
                self.replica_identity == "i" and key.replica_identity
            ):
                return key
        return None

    @property
    def identity_columns(self) -> tuple[str, ...]:
        """The columns of an updated or deleted row that WAL capture sees."""
        if self.replica_identity == "f":
            return tuple(c.name for c in self.columns)
        key = self.identity_key
        return key.columns if key is not None else ()

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def key_for(self, columns: tuple[str, ...]) -> UniqueKey | None:
        """The unique key whose columns are exactly ``columns`` (in any order)."""
        wanted = set(columns)
        for key in self.unique_keys:
            if set(key.columns) == wanted and len(key.columns) == len(columns):
                return key
        return None


@dataclass(frozen=True)
class SchemaCatalog:
    """Every table of one side's schema."""

    schema: str
    tables: tuple[Table, ...]
    # The database it was read from (sql/catalog/database.sql); "" when not read.
    database: str = ""

    def table(self, name: str) -> Table | None:
        for table in self.tables:
            if table.name == name:
                return table
        return None


def allowed_values_of(check_definition: str) -> tuple[str, ...] | None:
    """The value list of ``CHECK (col IN (...))`` / ``= ANY (ARRAY[...])``, else None."""
    body = check_definition.removeprefix("CHECK").strip()
    if body.endswith("NOT VALID"):
        return None
    try:
        tree = sqlglot.parse_one(body, read="postgres")
    except sqlglot.errors.ParseError:
        return None
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if isinstance(tree, exp.In):
        candidates = list(tree.expressions)
    elif isinstance(tree, exp.EQ) and isinstance(tree.expression, exp.Any):
        array = tree.expression.find(exp.Array)
        if array is None:
            return None
        candidates = list(array.expressions)
    else:
        return None
    values: list[str] = []
    for candidate in candidates:
        literal = candidate.find(exp.Literal)
        if literal is None or not literal.is_string:
            return None
        values.append(literal.this)
    return tuple(values)


# Relations a map may name by mistake, by pg_class.relkind; validate refuses all but
# ordinary tables, saying what the relation is.
KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}


def read_schema(
    conn: psycopg.Connection[TupleRow],
    schema: str,
    kinds: tuple[str, ...] = tuple(KINDS),
    roles: tuple[str, ...] = (),
) -> SchemaCatalog:
    """Snapshot one schema's tables, and the other relations a map might name, from
    the live catalog (or, with ``kinds``, relations of those kinds only); row level
    security as it binds ``roles`` (default: the session's role)."""
    params = {"schema": schema, "kinds": list(kinds), "roles": list(roles) or None}
    # With only pg_catalog on the path, format_type() schema-qualifies every user type.
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SET LOCAL search_path = pg_catalog, pg_temp")
        column_rows = cur.execute(sql_file("catalog", "columns.sql"), params).fetchall()
        key_rows = cur.execute(sql_file("catalog", "unique_keys.sql"), params).fetchall()
        check_rows = cur.execute(sql_file("catalog", "check_constraints.sql"), params).fetchall()
        database = cur.execute(sql_file("catalog", "database.sql")).fetchone()
        security_rows = cur.execute(sql_file("catalog", "row_security.sql"), params).fetchall()

    allowed = _allowed_values(check_rows)

    columns: dict[str, list[Column]] = {}
    identities: dict[str, str] = {}
    relkinds: dict[str, str] = {}
    persistences: dict[str, str] = {}
    partitions: dict[str, bool] = {}
    for row in column_rows:
        identities[row["table_name"]] = row["replica_identity"]
        relkinds[row["table_name"]] = row["kind"]
        persistences[row["table_name"]] = row["persistence"]
        partitions[row["table_name"]] = row["is_partition"]
        columns.setdefault(row["table_name"], []).append(_column(row, allowed))
    keys = _unique_keys(key_rows)
    security = {
        row["table_name"]: RowSecurity(forced=row["forced"], hidden_from=tuple(row["hidden_from"]))
        for row in security_rows
    }
    return SchemaCatalog(
        schema=schema,
        database=database["database"] if database else "",
        tables=tuple(
            Table(
                schema=schema,
                name=name,
                columns=tuple(cols),
                unique_keys=tuple(keys.get(name, ())),
                replica_identity=identities[name],
                kind=relkinds[name],
                persistence=persistences[name],
                is_partition=partitions[name],
                row_security=security.get(name),
            )
            for name, cols in sorted(columns.items())
        ),
    )


def _allowed_values(check_rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Per (table, column), the values its CHECK constraints allow, when they list them."""
    allowed: dict[tuple[str, str], tuple[str, ...]] = {}
    for row in check_rows:
        values = allowed_values_of(row["definition"])
        if values is None:
            continue
        spot = (row["table_name"], row["column_name"])
        # Two such checks on one column: only values both accept are allowed.
        allowed[spot] = (
            tuple(v for v in allowed[spot] if v in values) if spot in allowed else values
        )
    return allowed


def _column(row: dict[str, Any], allowed: dict[tuple[str, str], tuple[str, ...]]) -> Column:
    """A row of columns.sql as a Column."""
    labels = row["enum_labels"]
    return Column(
        name=row["column_name"],
        type_sql=row["type_sql"],
        type_kind=row["type_kind"],
        type_name=row["type_name"],
        type_schema=row["type_schema"],
        base_type=row["base_type"],
        base_type_sql=row["base_type_sql"],
        typmod=row["typmod"],
        not_null=row["not_null"],
        has_default=row["has_default"],
        generated=row["generated"],
        enum_labels=tuple(labels) if labels is not None else None,
        allowed_values=allowed.get((row["table_name"], row["column_name"])),
        identity=row["identity"],
    )


def _unique_keys(key_rows: list[dict[str, Any]]) -> dict[str, list[UniqueKey]]:
    """Per table, its primary key and unique indexes (unique_keys.sql)."""
    keys: dict[str, list[UniqueKey]] = {}
    for row in key_rows:
        keys.setdefault(row["table_name"], []).append(
            UniqueKey(
                name=row["index_name"],
                columns=tuple(row["columns"]),
                primary=row["is_primary"],
                replica_identity=row["is_replica_identity"],
            )
        )
    return keys


def probe_types(
    conn: psycopg.Connection[TupleRow], views: list[tuple[str, str]]
) -> dict[str, Column | str]:
    """Create each (name, CREATE TEMP VIEW statement) in a transaction that is rolled
    back, and read what type PostgreSQL gives its one column ``value``; a view the
    database refuses maps to its message."""
    found: dict[str, Column | str] = {}
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL search_path = pg_catalog, pg_temp")
        for name, statement in views:
            try:
                with conn.transaction():
                    conn.execute(statement.encode())
            except psycopg.Error as exc:
                hint = exc.diag.message_hint
                message = exc.diag.message_primary or str(exc).strip()
                found[name] = f"{message} ({hint})" if hint else message
        row = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()"
        ).fetchone()
        if row is not None:
            for table in read_schema(conn, row[0], kinds=("v",)).tables:
                column = table.column("value")
                if column is not None and table.name not in found:
                    found[table.name] = column
    return found
