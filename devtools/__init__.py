"""Development tools, not part of the product: throw-away PostgreSQL servers
(``throwaway``) for the tests, the benchmark and ``make demo`` (``demo``); the
import rules ``make lint`` checks (``check_imports``).

The wheel carries only the ``replicator`` package; this one is used from a checkout,
run from its root (``python -m devtools.demo``, pytest, ``python -m bench.run``), and
needs the test extras (testing.postgresql). It may import ``replicator``; nothing in
``replicator`` imports it.
"""
