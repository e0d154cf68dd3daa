"""What the convergence histories are made of, shared by the model's own test
(tests/test_convergence_model.py) and the databases' (tests/test_convergence_property.py):
a few keys, fields and values, so that same-value writes and A-B-A come often."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.convergence_model import Side

KEYS = ("k1", "k2", "k3")
FIELDS = ("a", "b", "c")
VALUES = ("x", "y", "z")
SIDES: tuple[Side, Side] = ("left", "right")

# An upsert's values: per field a value, or none (null).
some_values = st.fixed_dictionaries({f: st.none() | st.sampled_from(VALUES) for f in FIELDS})
