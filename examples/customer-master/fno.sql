-- The ERP side (finance and operations): rows belong to a company (dataareaid).
CREATE SCHEMA fno;

CREATE TYPE fno.party_type AS ENUM ('Organization', 'Person');

CREATE TABLE fno.customer_groups (
    dataareaid     varchar(4)  NOT NULL,
    customer_group varchar(10) NOT NULL,
    description    varchar(60),
    PRIMARY KEY (dataareaid, customer_group)
);

CREATE TABLE fno.payment_terms (
    dataareaid      varchar(4)  NOT NULL,
    payment_term_id varchar(10) NOT NULL,
    description     varchar(60),
    net_days        integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (dataareaid, payment_term_id)
);

CREATE TABLE fno.customers (
    dataareaid     varchar(4)      NOT NULL,
    account_num    varchar(20)     NOT NULL,
    party_type     fno.party_type  NOT NULL DEFAULT 'Organization',
    name           varchar(100)    NOT NULL,
    customer_group varchar(10),
    payment_terms  varchar(10),
    credit_limit   numeric(32, 6)  NOT NULL DEFAULT 0,
    blocked        varchar(10)     NOT NULL DEFAULT 'No' CHECK (blocked IN ('No', 'Invoice', 'All')),
    email          varchar(80),
    modified_by    text            DEFAULT current_user,  -- ERP bookkeeping, not shared
    PRIMARY KEY (dataareaid, account_num)
);
