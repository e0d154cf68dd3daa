-- The ERP side (finance and operations): rows belong to a company (dataareaid)
-- and reference each other by code, the company always part of the key.
CREATE SCHEMA fno;

CREATE TYPE fno.party_type AS ENUM ('Organization', 'Person');

CREATE TABLE fno.companies (
    dataareaid varchar(4)  PRIMARY KEY,
    name       varchar(60) NOT NULL
);

CREATE TABLE fno.customer_groups (
    dataareaid     varchar(4)  NOT NULL REFERENCES fno.companies,
    customer_group varchar(10) NOT NULL,
    description    varchar(60),
    PRIMARY KEY (dataareaid, customer_group)
);

CREATE TABLE fno.payment_schedules (
    dataareaid    varchar(4)  NOT NULL REFERENCES fno.companies,
    schedule_name varchar(30) NOT NULL,
    description   varchar(60),
    allocation    varchar(10) CHECK (allocation IN ('Percent', 'Fixed')),
    PRIMARY KEY (dataareaid, schedule_name)
);

CREATE TABLE fno.payment_schedule_lines (
    dataareaid    varchar(4)     NOT NULL REFERENCES fno.companies,
    schedule_name varchar(30)    NOT NULL,
    line_num      integer        NOT NULL,
    percent       numeric(32, 6),
    due_months    integer,
    due_days      integer,
    PRIMARY KEY (dataareaid, schedule_name, line_num),
    FOREIGN KEY (dataareaid, schedule_name)
        REFERENCES fno.payment_schedules ON DELETE CASCADE
);

CREATE TABLE fno.payment_days (
    dataareaid       varchar(4)  NOT NULL REFERENCES fno.companies,
    payment_day_name varchar(30) NOT NULL,
    description      varchar(60),
    PRIMARY KEY (dataareaid, payment_day_name)
);

CREATE TABLE fno.payment_day_lines (
    dataareaid       varchar(4)  NOT NULL REFERENCES fno.companies,
    payment_day_name varchar(30) NOT NULL,
    line_num         integer     NOT NULL,
    -- Not null, like the CRM's weekday: an ERP enum always has a value.
    week_day         varchar(10) NOT NULL DEFAULT 'None' CHECK (week_day IN (
        'None', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')),
    day_of_month     integer,
    PRIMARY KEY (dataareaid, payment_day_name, line_num),
    FOREIGN KEY (dataareaid, payment_day_name)
        REFERENCES fno.payment_days ON DELETE CASCADE
);

CREATE TABLE fno.payment_terms (
    dataareaid       varchar(4)  NOT NULL REFERENCES fno.companies,
    payment_term_id  varchar(10) NOT NULL,
    description      varchar(60),
    net_days         integer     NOT NULL DEFAULT 0,
    payment_schedule varchar(30),
    payment_day      varchar(30),
    PRIMARY KEY (dataareaid, payment_term_id),
    FOREIGN KEY (dataareaid, payment_schedule) REFERENCES fno.payment_schedules,
    FOREIGN KEY (dataareaid, payment_day) REFERENCES fno.payment_days
);

CREATE TABLE fno.customer_payment_methods (
    dataareaid     varchar(4)  NOT NULL REFERENCES fno.companies,
    payment_method varchar(10) NOT NULL,
    description    varchar(60),
    payment_type   varchar(12) CHECK (payment_type IN ('Check', 'Electronic', 'Cash')),
    PRIMARY KEY (dataareaid, payment_method)
);

CREATE TABLE fno.customers (
    dataareaid     varchar(4)      NOT NULL REFERENCES fno.companies,
    account_num    varchar(20)     NOT NULL,
    party_type     fno.party_type  NOT NULL DEFAULT 'Organization',
    name           varchar(100)    NOT NULL,
    customer_group varchar(10),
    payment_terms  varchar(10),
    payment_method varchar(10),
    credit_limit   numeric(32, 6)  NOT NULL DEFAULT 0,
    blocked        varchar(10)     NOT NULL DEFAULT 'No' CHECK (blocked IN ('No', 'Invoice', 'All')),
    email          varchar(80),
    modified_by    text            DEFAULT current_user,  -- ERP bookkeeping, not shared
    PRIMARY KEY (dataareaid, account_num),
    FOREIGN KEY (dataareaid, customer_group) REFERENCES fno.customer_groups,
    FOREIGN KEY (dataareaid, payment_terms) REFERENCES fno.payment_terms,
    FOREIGN KEY (dataareaid, payment_method) REFERENCES fno.customer_payment_methods
);

-- Contact persons of customers and vendors. The account columns are plain
-- codes, not foreign keys: vendors are not part of this example.
CREATE TABLE fno.contact_persons (
    dataareaid        varchar(4)  NOT NULL REFERENCES fno.companies,
    contact_person_id varchar(20) NOT NULL,
    first_name        varchar(50),
    last_name         varchar(50) NOT NULL,
    email             varchar(80),
    customer_account  varchar(20),
    vendor_account    varchar(20),
    PRIMARY KEY (dataareaid, contact_person_id)
);

-- Shared by all companies.
CREATE TABLE fno.loyalty_cards (
    card_number varchar(20) PRIMARY KEY,
    tier        varchar(10) NOT NULL DEFAULT 'Basic',
    issued_on   date,
    blocked     boolean     NOT NULL DEFAULT false
);

CREATE TABLE fno.name_affixes (
    affix       varchar(20) NOT NULL,
    affix_type  varchar(10) NOT NULL CHECK (affix_type IN ('Prefix', 'Suffix')),
    description varchar(60),
    PRIMARY KEY (affix, affix_type)
);
