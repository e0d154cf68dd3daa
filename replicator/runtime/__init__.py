"""What runs for as long as ``replicator run`` does: the applier loop, the WAL
listener, drift checks, alerts, Prometheus metrics and the run's logging. May import
operations, sqlgen, inspect, maps and core; never commands. It reads no map file
while running.
"""
