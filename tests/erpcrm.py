"""A small ERP and CRM of a DBA's own, not the shipped example: ERP customers (companies
and persons) and their contacts, integer-keyed; CRM accounts and contacts keyed by uuid,
holding the ERP's number in erp_id. The customers map carries companies only, so a
person's contacts have no parent on the CRM side."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.support import Project

ERP = """
CREATE SCHEMA erp;
CREATE TABLE erp.customers (
    id      integer PRIMARY KEY,
    name    text NOT NULL,
    kind    text NOT NULL DEFAULT 'company' CHECK (kind IN ('company', 'person')),
    credit  numeric(12, 2)
);
CREATE TABLE erp.contacts (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES erp.customers,
    name        text NOT NULL,
    email       text
);
"""

CRM = """
CREATE SCHEMA crm;
CREATE TABLE crm.accounts (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    erp_id       integer UNIQUE,
    name         text NOT NULL,
    credit_limit numeric(12, 2)
);
CREATE TABLE crm.contacts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    erp_id     integer UNIQUE,
    account_id uuid NOT NULL REFERENCES crm.accounts,
    full_name  text NOT NULL,
    email      text
);
"""

CUSTOMERS = """
[[map]]
name = "customers"
left = "customers"
right = "accounts"
left_filter = "kind = 'company'"

  [[map.field]]
  left = "id"
  right = "erp_id"
  key = true

  [[map.field]]
  left = "name"
  right = "name"

  [[map.field]]
  left = "credit"
  right = "credit_limit"
"""

CONTACTS = """
[[map]]
name = "contacts"
left = "contacts"
right = "contacts"

  [[map.field]]
  left = "id"
  right = "erp_id"
  key = true

  [[map.field]]
  left = "customer_id"
  right = "account_id"
  lookup = { map = "customers", left = "id", right = "id" }

  [[map.field]]
  left = "name"
  right = "full_name"

  [[map.field]]
  left = "email"
  right = "email"
"""


def erpcrm_project(root: Path, left_url: str, right_url: str, roles: bool = False) -> Project:
    """The two schemas in the given databases, a replicator.toml naming them and both
    maps; with ``roles``, the [roles] of the README (roles SQL not run)."""
    for url, ddl in ((left_url, ERP), (right_url, CRM)):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ddl.encode())
    (root / "maps").mkdir(parents=True)
    (root / "replicator.toml").write_text(
        'maps = "maps"\npoll_interval = 0.1\n'
        '[left]\nname = "erp"\nschema = "erp"\nconninfo_env = "REPLICATOR_LEFT"\n'
        '[right]\nname = "crm"\nschema = "crm"\nconninfo_env = "REPLICATOR_RIGHT"\n'
        + ('[roles]\nowner = "replicator_owner"\nruntime = "replicator_runtime"\n' if roles else "")
    )
    project = Project(root, left_url, right_url)
    project.write_map("customers.toml", CUSTOMERS)
    project.write_map("contacts.toml", CONTACTS)
    return project
