"""loss_reason judged from catalog snapshots alone: no database needed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from replicator.inspect.catalog import Column
from replicator.inspect.typecheck import loss_reason

# pg_type.typname of the builtin types the cases use, keyed by format_type() output.
TYPNAME = {
    "smallint": "int2",
    "integer": "int4",
    "bigint": "int8",
    "numeric": "numeric",
    "real": "float4",
    "double precision": "float8",
    "money": "money",
    "text": "text",
    "character varying": "varchar",
    "bpchar": "bpchar",
    "name": "name",
    "boolean": "bool",
    "uuid": "uuid",
    "json": "json",
    "jsonb": "jsonb",
    "date": "date",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "interval": "interval",
}


def col(type_sql: str, base: str | None = None, typmod: int = -1) -> Column:
    """A builtin column; ``base`` defaults to the typname of ``type_sql``."""
    typname = base or TYPNAME[type_sql]
    return Column(
        name="c",
        type_sql=type_sql,
        type_kind="b",
        type_name=typname,
        type_schema="pg_catalog",
        base_type=typname,
        base_type_sql=type_sql,
        typmod=typmod,
        not_null=False,
        has_default=False,
        generated=False,
    )


def numeric(precision: int, scale: int = 0) -> Column:
    return col(
        f"numeric({precision},{scale})", "numeric", ((precision << 16) | (scale & 0x7FF)) + 4
    )


def varchar(length: int) -> Column:
    return col(f"character varying({length})", "varchar", length + 4)


def char(length: int) -> Column:
    return col(f"character({length})", "bpchar", length + 4)


def timestamp(precision: int, zone: bool = False) -> Column:
    words = "with" if zone else "without"
    return col(
        f"timestamp({precision}) {words} time zone",
        "timestamptz" if zone else "timestamp",
        precision,
    )


def time(precision: int, zone: bool = False) -> Column:
    words = "with" if zone else "without"
    return col(f"time({precision}) {words} time zone", "timetz" if zone else "time", precision)


# Interval field bits (datetime.h) and the all-fields / default-precision markers.
YEAR, MONTH, DAY, HOUR, MINUTE, SECOND = 1 << 2, 1 << 1, 1 << 3, 1 << 10, 1 << 11, 1 << 12


def interval(type_sql: str, fields: int = 0x7FFF, precision: int = 0xFFFF) -> Column:
    return col(type_sql, "interval", (fields << 16) | precision)


def enum(type_sql: str, *labels: str) -> Column:
    schema, typname = type_sql.split(".")
    return replace(
        col(type_sql, typname),
        type_kind="e",
        type_schema=schema,
        enum_labels=labels,
    )


def domain(type_sql: str, over: Column) -> Column:
    schema, typname = type_sql.split(".")
    return replace(
        over,
        type_sql=type_sql,
        type_kind="d",
        type_name=typname,
        type_schema=schema,
    )


def array(element: Column) -> Column:
    return replace(
        element,
        type_sql=element.type_sql + "[]",
        type_name="_" + element.type_name,
        base_type="_" + element.base_type,
        base_type_sql=element.base_type_sql + "[]",
        enum_labels=None,
    )


def checked(column: Column, *values: str) -> Column:
    """The column with a CHECK (col IN (...)) list."""
    return replace(column, allowed_values=values)


def test_the_helpers_encode_typmods_as_postgresql_15_does() -> None:
    # atttypmod values read from a PostgreSQL 15 server for these declarations.
    assert numeric(32, 6).typmod == 2097162
    assert numeric(38, 10).typmod == 2490382
    assert numeric(3, -2).typmod == 198658
    assert numeric(2, 4).typmod == 131080
    assert varchar(100).typmod == 104
    assert char(5).typmod == 9
    assert timestamp(3).typmod == 3
    assert interval("interval(3)", precision=3).typmod == 2147418115
    assert interval("interval year to month", YEAR | MONTH).typmod == 458751
    assert interval("interval day", DAY).typmod == 589823
    assert interval("interval hour to second(2)", HOUR | MINUTE | SECOND, 2).typmod == 469762050


INT2, INT4, INT8 = col("smallint"), col("integer"), col("bigint")
NUMERIC, FLOAT4, FLOAT8, MONEY = col("numeric"), col("real"), col("double precision"), col("money")
TEXT, VARCHAR, BPCHAR, NAME = col("text"), col("character varying"), col("bpchar"), col("name")
CITEXT = replace(col("public.citext", "citext"), type_schema="public")
BOOL, UUID, JSON, JSONB = col("boolean"), col("uuid"), col("json"), col("jsonb")
DATE, TIMESTAMP, TIMESTAMPTZ = (
    col("date"),
    col("timestamp without time zone"),
    col("timestamp with time zone"),
)
TIME, TIMETZ, INTERVAL = col("time without time zone"), col("time with time zone"), col("interval")
STATUS = enum("erp.status", "open", "closed", "archived")
STATE = enum("crm.state", "open", "closed")


def transform(source: str, target: str) -> str:
    return f"no lossless conversion from {source} into {target}"


CASES = [
    # Identical types, and domains judged by their base type.
    pytest.param(INT4, INT4, None, id="same type"),
    pytest.param(domain("erp.code", varchar(20)), varchar(20), None, id="domain over varchar(20)"),
    pytest.param(
        domain("erp.code", varchar(20)),
        varchar(10),
        "erp.code into character varying(10) would cut values longer than 10 characters",
        id="domain over varchar(20) into varchar(10)",
    ),
    pytest.param(
        domain("erp.amount", numeric(32, 6)),
        numeric(32, 4),
        "erp.amount into numeric(32,4) would round to 4 decimal places",
        id="domain over numeric(32,6)",
    ),
    # Integers.
    pytest.param(INT2, INT4, None, id="smallint into integer"),
    pytest.param(INT4, INT8, None, id="integer into bigint"),
    pytest.param(INT8, NUMERIC, None, id="bigint into numeric"),
    pytest.param(INT8, numeric(19), None, id="bigint into numeric(19,0)"),
    pytest.param(
        INT8,
        numeric(18),
        "bigint into numeric(18,0) would overflow above 999999999999999999",
        id="bigint into numeric(18,0)",
    ),
    pytest.param(INT4, numeric(12, 2), None, id="integer into numeric(12,2)"),
    pytest.param(INT2, numeric(5), None, id="smallint into numeric(5,0)"),
    pytest.param(
        INT2,
        numeric(4),
        "smallint into numeric(4,0) would overflow above 9999",
        id="smallint into numeric(4,0)",
    ),
    pytest.param(
        INT4,
        numeric(10, -2),
        "integer into numeric(10,-2) would round to multiples of 100",
        id="integer into negative scale",
    ),
    pytest.param(
        INT8, INT4, "bigint into integer would overflow above 2147483647", id="bigint into integer"
    ),
    pytest.param(
        INT4, INT2, "integer into smallint would overflow above 32767", id="integer into smallint"
    ),
    # Numerics.
    pytest.param(
        numeric(32, 6),
        numeric(32, 4),
        "numeric(32,6) into numeric(32,4) would round to 4 decimal places",
        id="numeric scale shrinks",
    ),
    pytest.param(numeric(32, 6), numeric(38, 10), None, id="numeric widens"),
    pytest.param(
        numeric(10, 2),
        numeric(6, 2),
        "numeric(10,2) into numeric(6,2) would overflow above 9999.99",
        id="numeric integer digits shrink",
    ),
    pytest.param(
        numeric(4, 2),
        numeric(2, 4),
        "numeric(4,2) into numeric(2,4) would overflow above 0.0099",
        id="numeric scale above precision",
    ),
    pytest.param(
        NUMERIC,
        numeric(10, 2),
        "numeric into numeric(10,2) would round to 2 decimal places",
        id="unconstrained numeric into numeric(10,2)",
    ),
    pytest.param(numeric(10, 2), NUMERIC, None, id="numeric(10,2) into numeric"),
    pytest.param(numeric(3, -2), numeric(5), None, id="negative scale into numeric(5,0)"),
    pytest.param(
        numeric(10, 2),
        INT4,
        "numeric(10,2) into integer would round to whole numbers",
        id="numeric into integer",
    ),
    pytest.param(
        numeric(12),
        INT4,
        "numeric(12,0) into integer would overflow above 2147483647",
        id="numeric(12,0) into integer",
    ),
    pytest.param(
        numeric(9),
        INT4,
        "numeric(9,0) into integer would fail on NaN",
        id="numeric(9,0) into integer",
    ),
    # Floating point.
    pytest.param(
        FLOAT8,
        INT4,
        "double precision into integer would round to whole numbers",
        id="float into integer",
    ),
    pytest.param(
        FLOAT8,
        NUMERIC,
        "double precision into numeric would round to 15 significant digits",
        id="double precision into numeric",
    ),
    pytest.param(
        FLOAT4,
        NUMERIC,
        "real into numeric would round to 6 significant digits",
        id="real into numeric",
    ),
    pytest.param(
        FLOAT8,
        numeric(10, 2),
        "double precision into numeric(10,2) would round to 2 decimal places",
        id="double precision into numeric(10,2)",
    ),
    pytest.param(INT2, FLOAT8, None, id="smallint into double precision"),
    pytest.param(INT4, FLOAT8, None, id="integer into double precision"),
    pytest.param(
        INT8,
        FLOAT8,
        "bigint into double precision would lose precision",
        id="bigint into double precision",
    ),
    pytest.param(INT2, FLOAT4, None, id="smallint into real"),
    pytest.param(INT4, FLOAT4, "integer into real would lose precision", id="integer into real"),
    pytest.param(numeric(15), FLOAT8, None, id="numeric(15,0) into double precision"),
    pytest.param(
        numeric(10, 2),
        FLOAT8,
        "numeric(10,2) into double precision would lose precision",
        id="numeric(10,2) into double precision",
    ),
    pytest.param(FLOAT4, FLOAT8, None, id="real into double precision"),
    pytest.param(
        FLOAT8, FLOAT4, "double precision into real would lose precision", id="double into real"
    ),
    # Money.
    pytest.param(
        numeric(32, 6),
        MONEY,
        "numeric(32,6) into money would round to the currency's 2 decimal places",
        id="numeric(32,6) into money",
    ),
    pytest.param(
        numeric(10, 2),
        MONEY,
        "numeric(10,2) into money would fail on NaN",
        id="numeric(10,2) into money",
    ),
    pytest.param(INT4, MONEY, None, id="integer into money"),
    pytest.param(
        INT8,
        MONEY,
        "bigint into money would overflow above 92233720368547758.07",
        id="bigint into money",
    ),
    pytest.param(INT2, MONEY, transform("smallint", "money"), id="smallint into money has no cast"),
    pytest.param(
        FLOAT8, MONEY, transform("double precision", "money"), id="double into money has no cast"
    ),
    pytest.param(MONEY, NUMERIC, None, id="money into numeric"),
    pytest.param(MONEY, numeric(19, 2), None, id="money into numeric(19,2)"),
    pytest.param(
        MONEY,
        numeric(18, 2),
        "money into numeric(18,2) would overflow above 9999999999999999.99",
        id="money into numeric(18,2)",
    ),
    pytest.param(MONEY, INT8, transform("money", "bigint"), id="money into bigint has no cast"),
    # Text.
    pytest.param(
        varchar(100),
        varchar(20),
        "character varying(100) into character varying(20)"
        " would cut values longer than 20 characters",
        id="varchar(100) into varchar(20)",
    ),
    pytest.param(
        TEXT,
        varchar(50),
        "text into character varying(50) would cut values longer than 50 characters",
        id="text into varchar(50)",
    ),
    pytest.param(varchar(20), varchar(100), None, id="varchar(20) into varchar(100)"),
    pytest.param(varchar(20), TEXT, None, id="varchar(20) into text"),
    pytest.param(TEXT, VARCHAR, None, id="text into unbounded varchar"),
    pytest.param(CITEXT, TEXT, None, id="citext into text"),
    pytest.param(TEXT, CITEXT, None, id="text into citext"),
    pytest.param(char(10), varchar(10), None, id="char(10) into varchar(10)"),
    pytest.param(
        char(10),
        varchar(5),
        "character(10) into character varying(5) would cut values longer than 5 characters",
        id="char(10) into varchar(5)",
    ),
    pytest.param(char(5), char(10), None, id="char(5) into char(10)"),
    pytest.param(
        varchar(10),
        char(10),
        "character varying(10) into character(10) would drop trailing spaces",
        id="varchar(10) into char(10)",
    ),
    pytest.param(
        TEXT, BPCHAR, "text into bpchar would drop trailing spaces", id="text into bpchar"
    ),
    pytest.param(NAME, varchar(63), None, id="name into varchar(63)"),
    pytest.param(
        NAME,
        varchar(50),
        "name into character varying(50) would cut values longer than 50 characters",
        id="name into varchar(50)",
    ),
    pytest.param(
        TEXT, NAME, "text into name would cut values longer than 63 bytes", id="text into name"
    ),
    pytest.param(varchar(15), NAME, None, id="varchar(15) into name"),
    pytest.param(
        varchar(16),
        NAME,
        "character varying(16) into name would cut values longer than 63 bytes",
        id="varchar(16) into name",
    ),
    pytest.param(
        checked(TEXT, "open", "closed"), varchar(6), None, id="checked text into varchar that fits"
    ),
    pytest.param(
        checked(TEXT, "open", "closed"),
        varchar(5),
        "text into character varying(5) would cut values longer than 5 characters",
        id="checked text into varchar too short",
    ),
    pytest.param(checked(TEXT, "open", "closed"), char(6), None, id="checked text into char(6)"),
    pytest.param(
        checked(TEXT, "a ", "b"),
        char(5),
        "text into character(5) would drop trailing spaces",
        id="checked text with a trailing space into char",
    ),
    # Every value has a text form.
    pytest.param(INT4, TEXT, None, id="integer into text"),
    pytest.param(numeric(10, 2), TEXT, None, id="numeric into text"),
    pytest.param(BOOL, TEXT, None, id="boolean into text"),
    pytest.param(DATE, TEXT, None, id="date into text"),
    pytest.param(TIMESTAMP, TEXT, None, id="timestamp into text"),
    pytest.param(JSONB, TEXT, None, id="jsonb into text"),
    pytest.param(INT4, varchar(11), None, id="integer into varchar(11)"),
    pytest.param(BOOL, char(5), None, id="boolean into char(5)"),
    pytest.param(UUID, varchar(36), None, id="uuid into varchar(36)"),
    pytest.param(
        UUID,
        varchar(35),
        "uuid into character varying(35) would cut values longer than 35 characters",
        id="uuid into varchar(35)",
    ),
    pytest.param(
        JSONB,
        varchar(100),
        "jsonb into character varying(100) would cut values longer than 100 characters",
        id="jsonb into varchar(100)",
    ),
    # Text into other types.
    pytest.param(TEXT, UUID, "text into uuid: not every text is a uuid", id="text into uuid"),
    pytest.param(
        varchar(20),
        INT4,
        "character varying(20) into integer: not every character varying(20) is an integer",
        id="varchar into integer",
    ),
    pytest.param(
        TEXT,
        JSONB,
        "text into jsonb: not every text is a jsonb",
        id="text into jsonb",
    ),
    # Same type.
    pytest.param(BOOL, BOOL, None, id="boolean into boolean"),
    pytest.param(UUID, UUID, None, id="uuid into uuid"),
    pytest.param(
        BOOL,
        INT4,
        transform("boolean", "integer"),
        id="boolean into integer has no assignment cast",
    ),
    # Dates and times.
    pytest.param(
        TIMESTAMPTZ,
        TIMESTAMP,
        "timestamp with time zone into timestamp without time zone would drop the time zone",
        id="timestamptz into timestamp",
    ),
    pytest.param(TIMESTAMP, TIMESTAMPTZ, None, id="timestamp into timestamptz"),
    pytest.param(DATE, TIMESTAMP, None, id="date into timestamp"),
    pytest.param(DATE, TIMESTAMPTZ, None, id="date into timestamptz"),
    pytest.param(
        TIMESTAMP,
        DATE,
        "timestamp without time zone into date would drop the time of day",
        id="timestamp into date",
    ),
    pytest.param(
        TIMESTAMP,
        TIME,
        "timestamp without time zone into time without time zone would drop the date",
        id="timestamp into time",
    ),
    pytest.param(
        timestamp(6),
        timestamp(3),
        "timestamp(6) without time zone into timestamp(3) without time zone"
        " would round seconds to 3 decimal places",
        id="timestamp(6) into timestamp(3)",
    ),
    pytest.param(
        TIMESTAMPTZ,
        timestamp(0, zone=True),
        "timestamp with time zone into timestamp(0) with time zone would round to whole seconds",
        id="timestamptz into timestamptz(0)",
    ),
    pytest.param(timestamp(3), TIMESTAMPTZ, None, id="timestamp(3) into timestamptz"),
    pytest.param(TIME, TIMETZ, None, id="time into timetz"),
    pytest.param(
        TIMETZ,
        TIME,
        "time with time zone into time without time zone would drop the time zone",
        id="timetz into time",
    ),
    pytest.param(
        time(2),
        time(1),
        "time(2) without time zone into time(1) without time zone"
        " would round seconds to 1 decimal place",
        id="time(2) into time(1)",
    ),
    pytest.param(
        DATE, TIME, transform("date", "time without time zone"), id="date into time has no cast"
    ),
    pytest.param(
        INTERVAL,
        interval("interval(3)", precision=3),
        "interval into interval(3) would round seconds to 3 decimal places",
        id="interval into interval(3)",
    ),
    pytest.param(
        INTERVAL,
        interval("interval day", DAY),
        "interval into interval day would truncate to whole days",
        id="interval into interval day",
    ),
    pytest.param(
        interval("interval year to month", YEAR | MONTH),
        INTERVAL,
        None,
        id="year to month into interval",
    ),
    pytest.param(
        interval("interval month", MONTH),
        interval("interval year", YEAR),
        "interval month into interval year would truncate to whole years",
        id="interval month into interval year",
    ),
    pytest.param(
        interval("interval day", DAY),
        interval("interval(0)", precision=0),
        None,
        id="day into interval(0)",
    ),
    pytest.param(
        interval("interval hour to second(2)", HOUR | MINUTE | SECOND, 2),
        interval("interval minute", MINUTE),
        "interval hour to second(2) into interval minute would truncate to whole minutes",
        id="hour to second into minute",
    ),
    pytest.param(
        INTERVAL, TIME, transform("interval", "time without time zone"), id="interval into time"
    ),
    # JSON.
    pytest.param(
        JSON,
        JSONB,
        "json into jsonb would drop duplicate keys and rewrite key order, whitespace and numbers",
        id="json into jsonb",
    ),
    pytest.param(JSONB, JSON, None, id="jsonb into json"),
    pytest.param(JSONB, INT4, transform("jsonb", "integer"), id="jsonb into integer"),
    # Enums.
    pytest.param(
        STATUS,
        STATE,
        "erp.status into crm.state would fail on labels crm.state lacks: 'archived'",
        id="enum labels missing",
    ),
    pytest.param(STATE, STATUS, None, id="enum into an enum with more labels"),
    pytest.param(
        STATUS,
        enum("erp.status", "open"),
        "erp.status into erp.status would fail on labels erp.status lacks: 'closed', 'archived'",
        id="same-named enum of another database",
    ),
    pytest.param(STATUS, TEXT, None, id="enum into text"),
    pytest.param(STATUS, varchar(8), None, id="enum into varchar as long as its labels"),
    pytest.param(
        STATUS,
        varchar(7),
        "erp.status into character varying(7) would cut values longer than 7 characters",
        id="enum into varchar shorter than a label",
    ),
    pytest.param(
        TEXT,
        STATE,
        "text into crm.state: not every text is a crm.state",
        id="text into enum",
    ),
    pytest.param(checked(TEXT, "closed", "open"), STATE, None, id="checked text into enum"),
    pytest.param(
        checked(varchar(10), "open", "lost"),
        STATE,
        "character varying(10) into crm.state would fail on labels crm.state lacks: 'lost'",
        id="checked varchar with a value the enum lacks",
    ),
    pytest.param(INT4, STATE, transform("integer", "crm.state"), id="integer into enum"),
    # Arrays: the element rule, named by the array types.
    pytest.param(array(INT4), array(INT4), None, id="same array"),
    pytest.param(array(INT4), array(INT8), None, id="integer[] into bigint[]"),
    pytest.param(
        array(INT8),
        array(INT4),
        "bigint[] into integer[] would overflow above 2147483647",
        id="bigint[] into integer[]",
    ),
    pytest.param(array(varchar(20)), array(TEXT), None, id="varchar(20)[] into text[]"),
    pytest.param(
        array(TEXT),
        array(varchar(20)),
        "text[] into character varying(20)[] would cut values longer than 20 characters",
        id="text[] into varchar(20)[]",
    ),
    pytest.param(
        array(TEXT),
        array(UUID),
        "text[] into uuid[]: not every text[] is a uuid[]",
        id="text[] into uuid[]",
    ),
    pytest.param(array(INT4), TEXT, None, id="array into text"),
    pytest.param(
        TEXT,
        array(INT4),
        "text into integer[]: not every text is an integer[]",
        id="text into array",
    ),
    pytest.param(
        array(INT4), INT4, transform("integer[]", "integer"), id="array into its element type"
    ),
    pytest.param(
        array(STATUS), array(STATE), transform("erp.status[]", "crm.state[]"), id="enum arrays"
    ),
]


@pytest.mark.parametrize(("source", "target", "expected"), CASES)
def test_loss_reason(source: Column, target: Column, expected: str | None) -> None:
    assert loss_reason(source, target) == expected
