"""Alert rules, checked by the applier after a batch with failures.

A rule fires for a map direction when its target database logged ``count``
errors of its kind within ``window``; it then notifies (NOTIFY on a channel,
and an optional command given the alert as JSON on stdin), pauses the map
(state ``failed``) or stops it. A rule fires once per window for a map
direction; each firing is in the activity log. The map is the deployed one: the
running applier never reads the map files.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from replicator.inspect.connections import connect
from replicator.maps.model import AlertRule, Config, Direction, source_of
from replicator.operations import activity, states

log = logging.getLogger("replicator.alerts")

# Maps over the threshold that this rule has not fired for within its window.
DUE = """
SELECT e.map_name, count(*)
  FROM replicator.error_log AS e
 WHERE e.direction = %(direction)s
   AND e.last_seen > now() - %(window)s
   AND (%(sqlstate)s::text IS NULL OR e.sqlstate = %(sqlstate)s)
   AND NOT EXISTS (SELECT 1 FROM replicator.activity_log AS a
                    WHERE a.kind = 'alert' AND a.map_name = e.map_name
                      AND a.direction = %(direction)s AND a.detail->>'rule' = %(rule)s
                      AND a.at > now() - %(window)s)
 GROUP BY e.map_name
HAVING count(*) >= %(count)s
 ORDER BY e.map_name
"""


@dataclass(frozen=True)
class Alert:
    rule: str
    map: str
    direction: Direction
    errors: int
    window: str
    actions: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "map": self.map,
            "direction": self.direction,
            "errors": self.errors,
            "window": self.window,
            "actions": list(self.actions),
        }

    def payload(self) -> str:
        return json.dumps(self.as_dict())


def check(
    config: Config, direction: Direction, target: psycopg.Connection[TupleRow]
) -> list[Alert]:
    """Fire every rule that is due for ``direction``; returns what fired."""
    fired: list[Alert] = []
    for rule in config.alerts:
        due = target.execute(
            DUE,
            {
                "direction": direction,
                "window": rule.window,
                "sqlstate": rule.sqlstate,
                "rule": rule.name,
                "count": rule.count,
            },
        ).fetchall()
        for map_name, errors in due:
            alert = Alert(
                rule.name, str(map_name), direction, int(errors), str(rule.window), rule.actions
            )
            _act(config, rule, alert, target)
            fired.append(alert)
    return fired


def _act(
    config: Config,
    rule: AlertRule,
    alert: Alert,
    target: psycopg.Connection[TupleRow],
) -> None:
    log.warning(
        "alert %r: map %s (%s): %d errors within %s",
        rule.name,
        alert.map,
        config.arrow(alert.direction),
        alert.errors,
        alert.window,
    )
    activity.record(
        target,
        "alert",
        f"alert {rule.name}: {alert.errors} errors within {alert.window}; {', '.join(rule.actions)}",
        alert.map,
        alert.direction,
        alert.as_dict(),
    )
    halt: states.Action | None = (
        "stop" if "stop" in rule.actions else "fail" if "pause" in rule.actions else None
    )
    if halt is not None:
        reason = f"alert {rule.name}: {alert.errors} errors within {alert.window}"
        # Not through the applier's session: on a database with WAL capture that runs
        # under the replicator's origin, and the slot must see a stop, in order.
        with connect(config, config.database_of(source_of(alert.direction))) as conn:
            states.change_state(
                conn, config, states.DeployedMap(alert.map), alert.direction, halt, reason
            )
    if "notify" in rule.actions:
        target.execute("SELECT pg_notify(%s, %s)", (rule.channel, alert.payload()))
        if rule.command:
            _run(rule.command, alert)


def _run(command: str, alert: Alert) -> None:
    try:
        done = subprocess.run(
            shlex.split(command),
            input=alert.payload(),
            text=True,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("alert command %r failed: %s", command, exc)
        return
    if done.returncode != 0:
        log.warning("alert command %r exited %d: %s", command, done.returncode, done.stderr.strip())
