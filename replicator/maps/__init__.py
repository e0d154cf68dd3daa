"""The maps as files and as a model: ``replicator.toml`` and the map files read into
frozen dataclasses (config, loader, tomlfile), the expression allow-list, and what
each role does to each table (grants), every problem collected before raising. No
database: nothing here connects, reads a catalog or writes. May import core only.
"""
