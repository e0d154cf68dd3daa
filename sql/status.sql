-- replicator status reads the control schema's status view on each database.
SELECT * FROM replicator.status ORDER BY map_name, direction
