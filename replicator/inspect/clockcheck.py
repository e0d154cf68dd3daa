"""What conflict = "newest_wins" needs of a server: commit timestamps.

newest_wins compares when each side's change committed; PostgreSQL records that
only with track_commit_timestamp = on, on both databases (each judges the
changes it receives against its own rows).
"""

from __future__ import annotations

from replicator.inspect.connections import connect
from replicator.maps.model import Config, MapSet


def clock_problems(config: Config, maps: MapSet) -> list[str]:
    """One message per database without commit timestamps, if a map needs them."""
    needing = [m.name for m in maps.maps if "newest_wins" in m.policies]
    if not needing:
        return []
    problems: list[str] = []
    for role in config.databases:
        with connect(config, role) as conn:
            row = conn.execute("SELECT current_setting('track_commit_timestamp')").fetchone()
        if row is None or row[0] != "on":
            problems.append(
                f"{config.label(role)}: track_commit_timestamp is off, and conflict ="
                f' "newest_wins" (maps {", ".join(needing)}) compares commit times:'
                " ALTER SYSTEM SET track_commit_timestamp = on, then restart the server"
            )
    return problems
