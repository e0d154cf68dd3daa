"""Advisory lock keys, in one place: the SQL the compiler generates and the
Python that runs use the same numbers. All are two-int keys under one
namespace, so they cannot collide with an application's single-bigint locks."""

NAMESPACE = 0x72756E  # "run"

DEPLOY = (NAMESPACE, 0)  # transaction lock: one deploy per database at a time
# Session lock, taken exclusively by an applier while it sleeps; a capturing
# writer tries it shared, and only when that fails (the applier sleeps) does it
# NOTIFY. NOTIFY serialises commits, so writers must not pay it on every commit.
WAKE = (NAMESPACE, 1)
# Session locks: one applier per source database and direction.
APPLIER = {"to_right": (NAMESPACE, 2), "to_left": (NAMESPACE, 3)}
