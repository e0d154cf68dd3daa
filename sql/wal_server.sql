-- What WAL capture needs of a server, as one row: the settings involved (with
-- pg_settings.context, which says whether a reload or a restart changes them),
-- the replication slots in use, whether ours exists (and where), and whether this role may
-- use slots. output_plugin_libraries is absent from builds without it, and
-- hidden from roles that are neither superuser nor pg_read_all_settings.
SELECT current_user                                       AS role_name,
       (SELECT rolsuper OR rolreplication
          FROM pg_roles WHERE rolname = current_user)     AS may_use_slots,
       (SELECT count(*) FROM pg_replication_slots)        AS slots_in_use,
       EXISTS (SELECT FROM pg_replication_slots
                WHERE slot_name = %(slot)s)               AS slot_exists,
       -- Slot names are per server: ours may be taken by another database ('': by
       -- a physical slot).
       (SELECT coalesce(database::text, '')
          FROM pg_replication_slots
         WHERE slot_name = %(slot)s
           AND database IS DISTINCT FROM current_database()) AS slot_elsewhere,

       (SELECT jsonb_object_agg(name, jsonb_build_object('setting', setting, 'context', context))
          FROM pg_settings
         WHERE name IN ('wal_level', 'max_replication_slots', 'max_wal_senders',
                        'output_plugin_libraries'))
                                                          AS settings
