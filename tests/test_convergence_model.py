"""The rules' own argument, checked without a database: for every policy but manual,
any history of writes on both sides, pauses and batches of any size ends with the two
sides of the model (tests/convergence_model.py) equal once both queues are drained.

The databases are held to the model by tests/test_convergence_property.py, a few dozen
histories per setting; the model alone plays a history in milliseconds, so long histories
and the shrinking happen here. A divergence found at random in make test-slow (a change
merged into a row deleted on one side, lost when a later change brought the row back)
was in the model itself; this is where it shrinks to its few steps.

    REPLICATOR_MODEL_EXAMPLES=20000   histories per policy and topology
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from tests.convergence_model import Model, Policy, Side
from tests.history_steps import FIELDS, KEYS, SIDES, some_values

EXAMPLES = int(os.environ.get("REPLICATOR_MODEL_EXAMPLES", "0"))
POLICIES: tuple[tuple[Policy, Policy], ...] = (
    ("left_wins", "right_wins"),
    ("right_wins", "left_wins"),
    ("newest_wins", "newest_wins"),
)

def machine(policies: tuple[Policy, Policy], one_database: bool) -> type[RuleBasedStateMachine]:
    """The history machine for a map whose policy is ``policies[0]`` and field c's
    ``policies[1]``."""

    class History(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.model = Model(
                FIELDS,
                {"": policies[0], "a": policies[0], "b": policies[0], "c": policies[1]},
                one_database=one_database,
            )
            self.paused: set[Side] = set()

        @rule(
            side=st.sampled_from(SIDES),
            key=st.sampled_from(KEYS),
            delete=st.booleans(),
            values=some_values,
            again=st.none() | some_values,
        )
        def write(
            self,
            side: Side,
            key: str,
            delete: bool,
            values: dict[str, str | None],
            again: dict[str, str | None] | None,
        ) -> None:
            stamp = self.model.commit()
            first = None if delete else self.model.upserted(side, key, values)
            self.model.write(side, key, first, stamp)
            if again is not None:
                self.model.write(side, key, self.model.upserted(side, key, again), stamp)

        @rule(source=st.sampled_from(SIDES), limit=st.integers(min_value=1, max_value=6))
        def cross(self, source: Side, limit: int) -> None:
            if source not in self.paused:
                self.model.cross(source, limit)

        @rule(source=st.sampled_from(SIDES))
        def pause(self, source: Side) -> None:
            self.paused.add(source)

        @rule(source=st.sampled_from(SIDES))
        def resume(self, source: Side) -> None:
            self.paused.discard(source)

        def teardown(self) -> None:
            for _ in range(2):
                for side in SIDES:
                    self.model.cross(side, len(self.model.replica(side).queue))
            assert self.model.left.rows == self.model.right.rows

    return History


def cases() -> list[object]:
    """make test: newest_wins (whose rule found the divergence) between two servers; the
    rest, 500 histories each, in make test-slow."""
    found: list[object] = []
    for policies in POLICIES:
        for one_database in (True, False):
            for slow in (False, True):
                if not slow and (policies[0] != "newest_wins" or one_database):
                    continue
                topology = "one_database" if one_database else "two_servers"
                found.append(
                    pytest.param(
                        policies,
                        one_database,
                        slow,
                        marks=[pytest.mark.slow] if slow else [],
                        id=f"{policies[0]}-{topology}-{'long' if slow else 'short'}",
                    )
                )
    return found


@pytest.mark.parametrize(("policies", "one_database", "slow"), cases())
def test_any_history_of_the_model_ends_with_both_sides_equal(
    policies: tuple[Policy, Policy], one_database: bool, slow: bool
) -> None:
    run_state_machine_as_test(
        machine(policies, one_database),
        settings=settings(
            max_examples=EXAMPLES or (500 if slow else 300),
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=not slow,
            database=None,
        ),
    )
