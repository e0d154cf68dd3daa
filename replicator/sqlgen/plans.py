"""How a batch's statements are planned: for its size, or once for small batches."""

from __future__ import annotations

from replicator.core.quoting import Sql, literal

# Up to this many changes, a batch is applied with plans made once for such batches
# (generic plans), not planned anew: on the example's customers, planning the apply
# statement took about 6 ms, running it on one change 0.5.
SMALL_BATCH = 16


def plan_mode_sql(changes: Sql) -> Sql:
    """A statement for the top of a function with ``SET plan_cache_mode =
    force_custom_plan``: a batch of ``changes`` up to SMALL_BATCH runs on generic plans
    (made once per session), a larger one is planned for its size (a plan made for one
    change, which plpgsql keeps after a few calls, made large batches several times
    slower). The function's SET restores the mode when it returns."""
    return Sql(
        "PERFORM set_config('plan_cache_mode',\n"
        "                       CASE WHEN {} <= {} THEN 'force_generic_plan'\n"
        "                            ELSE 'force_custom_plan' END, true);"
    ).format(changes, literal(SMALL_BATCH))
