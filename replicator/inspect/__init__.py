"""What the live databases say, read-only: connections (and the control schema
version they find), the catalog (tables, columns, types, keys), the model checked
against it (validate, typecheck), and server checks (WAL settings, clocks, the roles'
privileges). Writes nothing. May import maps and core.
"""
