"""The leaves every layer may use: the error types and the exit codes they map to,
the ``Sql`` type and the one place names and values become SQL text (quoting), the
packaged ``sql/`` and ``templates/`` files (resources), output and progress helpers,
signal handling, and the constants that generated SQL and Python share (advisory
lock keys, replication origin names). Imports nothing of the package outside core.
"""
