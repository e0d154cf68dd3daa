"""One-shot work against the databases: the maps checked against both sides
(checked), deploy, initial sync, map states, the activity, error and conflict logs,
a removed map's backlog, verify and repair, status. Each call does its job and
returns. May import sqlgen, inspect, maps and core; never runtime or commands.
"""
