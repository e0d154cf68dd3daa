"""The SQL generator, pure: model and catalog in, SQL text out (the compiler's bundle
of named artifacts, the roles script, verify's fingerprint queries). Same input, same
bytes; no connection is opened here. May import inspect (for the catalog's types and
the control schema's migration files), maps and core.
"""
