"""How a batch's statements are planned: for its size, or once for small batches."""

from __future__ import annotations

from replicator.core.quoting import Sql
from replicator.sqlgen.sqltypes import control_function


def plan_mode_sql(changes: Sql) -> Sql:
    """A statement for the top of a function with ``SET plan_cache_mode =
    force_custom_plan``: a batch of ``changes`` runs on generic plans if small, or is
    planned for its size (replicator.plan_for_batch, sql/migrations/0009: on the
    example's customers, planning the apply statement took about 6 ms, running it on
    one change 0.5). The function's SET restores the mode when it returns."""
    return Sql("PERFORM {}({});").format(control_function("plan_for_batch"), changes)
