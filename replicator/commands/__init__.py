"""The functions behind the CLI's verbs, each testable without a subprocess:
lifecycle (validate, plan, deploy, undeploy, run), statusview (status) and admin
(pause, resume, stop, errors, retry, skip, conflicts, resolve, sync, purge, held changes, a removed
map's backlog). ``replicator.cli`` parses arguments and calls them. May import
every layer below (runtime, operations, sqlgen, inspect, maps, core).
"""
