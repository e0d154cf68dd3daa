"""What a server must offer before WAL capture can work: the settings and role
attributes a wal2json logical slot needs.

Each missing prerequisite is one message naming the database, the setting, the
statement that fixes it and whether a reload or a restart makes it take effect,
so ``validate`` (and so ``deploy``) refuse before anything is installed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

import psycopg
from psycopg.rows import TupleRow, dict_row

from replicator.core import origins
from replicator.core.quoting import ident, literal
from replicator.core.resources import sql_file
from replicator.inspect.connections import connect
from replicator.maps.model import Config, Side

PLUGIN = "wal2json"

# The server's own words when output_plugin_libraries lacks the plugin, quoted in
# our message so a DBA who has met it in a log recognises it.
PLUGIN_REFUSED = f'library "{PLUGIN}" may not be used as an output plugin'


@dataclass(frozen=True)
class ServerCheck:
    """What the databases lack for WAL capture (problems: nothing can be deployed), and
    what could not be checked with the connecting role's rights (warnings)."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_server_check(config: Config) -> ServerCheck:
    """``server_check`` of every database that holds a WAL-captured side."""
    found = ServerCheck()
    for role in config.databases:
        if config.wal_sides(role):
            with connect(config, role) as conn:
                one = server_check(conn, config, role)
            found.problems.extend(one.problems)
            found.warnings.extend(one.warnings)
    return found


def server_problems(conn: psycopg.Connection[TupleRow], config: Config, role: Side) -> list[str]:
    """What the database ``role`` connects to lacks for WAL capture, one message per
    missing prerequisite; [] when it has everything or none of its sides uses WAL."""
    return server_check(conn, config, role).problems


# long: a linear sequence of server checks, each a paragraph with its fix, in the
# order a DBA works through them.
def server_check(conn: psycopg.Connection[TupleRow], config: Config, role: Side) -> ServerCheck:
    """``server_problems``, and a warning for each prerequisite this role may not see."""
    if not config.wal_sides(role):
        return ServerCheck()
    database = config.label(role)
    slot = config.slot_name(role)
    with conn.cursor(row_factory=dict_row) as cur:
        facts = cur.execute(sql_file("wal_server.sql"), {"slot": slot}).fetchone()
    assert facts is not None  # a SELECT without FROM returns one row
    settings: dict[str, dict[str, str]] = facts["settings"]
    problems: list[str] = []

    wal_level = settings["wal_level"]
    if wal_level["setting"] != "logical":
        problems.append(
            f'{database}: wal_level is "{wal_level["setting"]}"; WAL capture needs'
            f" wal_level = logical: ALTER SYSTEM SET wal_level = logical,"
            f" {_then(wal_level['context'])}"
        )

    elsewhere: str | None = facts["slot_elsewhere"]
    if elsewhere is not None:
        holder = f"database {elsewhere}" if elsewhere else "a physical slot"
        problems.append(
            f"{database}: the slot {slot} that WAL capture needs here is taken by {holder} of"
            f" the same server (slot names are per server; this one is named after the"
            f" {role} side, {config.side(role).name!r}): give the {role} side another name in"
            f' {config.path.name} ([{role}] name = "..."), which names its slot'
            " replicator_<name>"
        )

    slots = settings["max_replication_slots"]
    in_use: int = facts["slots_in_use"]
    others = _other_origin_states(conn)
    # max_replication_slots bounds the slots, and separately the replication origins
    # that hold progress: WAL capture needs its slot and a state for each origin.
    needed = max(in_use + (0 if facts["slot_exists"] else 1), others + len(origins.ALL))
    if needed > int(slots["setting"]):
        problems.append(
            f"{database}: max_replication_slots = {slots['setting']} is too small for WAL"
            f" capture: its slot {slot} "
            + ("exists" if facts["slot_exists"] else f"needs one of the slots ({in_use} in use)")
            + f", and its"
            f" {len(origins.ALL)} replication origins a state each ({others} held by others):"
            f" ALTER SYSTEM SET max_replication_slots = {needed}, {_then(slots['context'])},"
            " or drop slots and origins that are no longer needed (see pg_replication_slots"
            " and pg_replication_origin_status)"
        )

    senders = settings["max_wal_senders"]
    if int(senders["setting"]) == 0:
        problems.append(
            f"{database}: max_wal_senders = 0 leaves WAL capture no walsender to stream its"
            f" slot through (the applier holds one per database with WAL capture):"
            f" ALTER SYSTEM SET max_wal_senders = 10, {_then(senders['context'])}"
        )

    # Builds without this allow-list accept any installed plugin; a role that may not
    # read superuser settings does not see it: then validate says it could not check.
    warnings: list[str] = []
    plugins = settings.get("output_plugin_libraries")
    plugin_problem = _plugin_problem(database, plugins) if plugins is not None else None
    if plugin_problem is not None:
        problems.append(plugin_problem)
    if plugins is None and _hidden(conn, "output_plugin_libraries"):
        warnings.append(
            f"{database}: role {ident(facts['role_name'])} may not read output_plugin_libraries"
            " (PostgreSQL shows it only to superusers and members of pg_read_all_settings), so"
            f" validate could not check that it lists {PLUGIN}; without it, deploy fails with"
            f" '{PLUGIN_REFUSED}'. The SQL of replicator plan --roles grants the owner"
            " pg_read_all_settings; or a superuser runs SHOW output_plugin_libraries and, if"
            f" {PLUGIN} is missing, adds it (ALTER SYSTEM SET output_plugin_libraries = ...,"
            f" '{PLUGIN}', then SELECT pg_reload_conf())"
        )

    if not facts["may_use_slots"]:
        problems.append(
            f'{database}: role "{facts["role_name"]}" may not use replication slots, which'
            f" WAL capture reads: ALTER ROLE {ident(facts['role_name'])} REPLICATION"
        )
    return ServerCheck(problems, warnings)


def _hidden(conn: psycopg.Connection[TupleRow], setting: str) -> bool:
    """Whether the server knows ``setting`` but will not show it to this role (an
    unknown setting reads as null with missing_ok; a hidden one is refused)."""
    try:
        with conn.transaction():
            conn.execute("SELECT current_setting(%s, true)", (setting,))
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def _other_origin_states(conn: psycopg.Connection[TupleRow]) -> int:
    """Replication origins holding a state, other than this database's own; 0 when this
    role may not see them (then creating ours says what is missing)."""
    allowed = conn.execute(
        "SELECT has_table_privilege('pg_replication_origin_status', 'SELECT')"
    ).fetchone()
    if not allowed or not allowed[0]:
        return 0
    row = conn.execute(
        "SELECT count(*) FROM pg_replication_origin_status"
        " WHERE external_id NOT LIKE '%/' || current_database()"
    ).fetchone()
    return int(row[0]) if row else 0


def _plugin_problem(database: str, plugins: dict[str, str]) -> str | None:
    # A list setting: comma-separated names, double-quoted where they need it.
    listed = [
        name for name in next(csv.reader([plugins["setting"]], skipinitialspace=True)) if name
    ]
    if PLUGIN in listed:
        return None
    now = (
        f"output_plugin_libraries lists {', '.join(listed)} but not {PLUGIN}"
        if listed
        else "output_plugin_libraries is empty"
    )
    # One literal per name: a single 'a, b' would be read as one name containing a comma.
    values = ", ".join(literal(name) for name in [*listed, PLUGIN])
    return (
        f"{database}: {now}, so creating or reading WAL capture's slot fails with"
        f" '{PLUGIN_REFUSED}': ALTER SYSTEM SET output_plugin_libraries = {values},"
        f" {_then(plugins['context'])}"
    )


def _then(context: str) -> str:
    """How a changed setting takes effect, from its pg_settings.context."""
    if context == "postmaster":
        return "then restart the server"
    return "then reload the configuration (SELECT pg_reload_conf())"
