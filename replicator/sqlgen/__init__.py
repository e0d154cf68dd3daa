"""The SQL generator, pure: model and catalog in, SQL text out (bundle.py's bundle of
named artifacts, one module per artifact kind, the roles script, verify's fingerprint
queries). Same input, same bytes; no connection is opened here. May import inspect
(for the catalog's types and the control schema's migration files), maps and core.
"""
