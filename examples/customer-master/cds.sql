-- The CRM side: rows keyed by uuid and referencing each other by uuid; the
-- ERP key is kept as a unique integration key, within the company.
CREATE SCHEMA cds;

CREATE TYPE cds.hold_status AS ENUM ('none', 'invoice_hold', 'full_hold');
CREATE TYPE cds.allocation_type AS ENUM ('percent', 'fixed');
CREATE TYPE cds.weekday AS ENUM (
    'none', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday');
CREATE TYPE cds.payment_type AS ENUM ('check', 'electronic', 'cash');

CREATE TABLE cds.company (
    companyid    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    company_code varchar(4)  NOT NULL UNIQUE,
    name         varchar(60)
);

CREATE TABLE cds.customer_group (
    customergroupid uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    companyid       uuid        NOT NULL REFERENCES cds.company,
    group_code      varchar(10) NOT NULL,
    name            varchar(60),
    UNIQUE (companyid, group_code)
);

CREATE TABLE cds.payment_schedule (
    paymentscheduleid uuid                PRIMARY KEY DEFAULT gen_random_uuid(),
    companyid         uuid                NOT NULL REFERENCES cds.company,
    name              varchar(30)         NOT NULL,
    description       varchar(60),
    allocation        cds.allocation_type,
    UNIQUE (companyid, name)
);

CREATE TABLE cds.payment_schedule_line (
    paymentschedulelineid uuid            PRIMARY KEY DEFAULT gen_random_uuid(),
    companyid             uuid            NOT NULL REFERENCES cds.company,
    paymentscheduleid     uuid            NOT NULL
        REFERENCES cds.payment_schedule ON DELETE CASCADE,
    line_number           integer         NOT NULL,
    percentage            numeric(38, 10),
    months                integer,
    days                  integer,
    UNIQUE (companyid, paymentscheduleid, line_number)
);

CREATE TABLE cds.payment_day (
    paymentdayid uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    companyid    uuid        NOT NULL REFERENCES cds.company,
    name         varchar(30) NOT NULL,
    description  varchar(60),
    UNIQUE (companyid, name)
);

CREATE TABLE cds.payment_day_line (
    paymentdaylineid uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    companyid        uuid        NOT NULL REFERENCES cds.company,
    paymentdayid     uuid        NOT NULL REFERENCES cds.payment_day ON DELETE CASCADE,
    line_number      integer     NOT NULL,
    weekday          cds.weekday NOT NULL DEFAULT 'none',
    dayofmonth       integer,
    UNIQUE (companyid, paymentdayid, line_number)
);

CREATE TABLE cds.payment_term (
    paymenttermid     uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    companyid         uuid        NOT NULL REFERENCES cds.company,
    code              varchar(10) NOT NULL,
    name              varchar(60),
    due_days          integer     NOT NULL DEFAULT 0,
    paymentscheduleid uuid        REFERENCES cds.payment_schedule,
    paymentdayid      uuid        REFERENCES cds.payment_day,
    UNIQUE (companyid, code)
);

CREATE TABLE cds.customer_payment_method (
    customerpaymentmethodid uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
    companyid               uuid             NOT NULL REFERENCES cds.company,
    code                    varchar(10)      NOT NULL,
    name                    varchar(60),
    payment_type            cds.payment_type,
    UNIQUE (companyid, code)
);

CREATE TABLE cds.account (
    accountid               uuid            PRIMARY KEY DEFAULT gen_random_uuid(),
    companyid               uuid            NOT NULL REFERENCES cds.company,
    accountnumber           varchar(20)     NOT NULL,
    name                    varchar(100)    NOT NULL,
    customergroupid         uuid            REFERENCES cds.customer_group,
    paymenttermid           uuid            REFERENCES cds.payment_term,
    customerpaymentmethodid uuid            REFERENCES cds.customer_payment_method,
    creditlimit             numeric(38, 4),  -- CRM money: 4 decimals
    credit_hold             cds.hold_status NOT NULL DEFAULT 'none',
    emailaddress1           varchar(80),
    relationship_type       varchar(20)     NOT NULL DEFAULT 'customer',
    UNIQUE (companyid, accountnumber)
);

-- One table for people: ERP customers that are persons (customer_number) and
-- contact persons of customers and vendors (contactpersonid), or both.
CREATE TABLE cds.contact (
    contactid             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    companyid             uuid        NOT NULL REFERENCES cds.company,
    customer_number       varchar(20),
    contactpersonid       varchar(20),
    firstname             varchar(50),
    middlename            varchar(50),
    lastname              varchar(50),
    emailaddress1         varchar(80),
    parent_account_number varchar(20),
    is_sellable           boolean     NOT NULL DEFAULT false,
    UNIQUE (companyid, customer_number),
    UNIQUE (companyid, contactpersonid)
);

-- Shared by all companies.
CREATE TABLE cds.loyalty_card (
    loyaltycardid uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    card_number   varchar(20) NOT NULL UNIQUE,
    tier          varchar(10),
    issued_on     date,
    is_blocked    boolean     NOT NULL DEFAULT false
);

CREATE TABLE cds.name_affix (
    nameaffixid uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    affix       varchar(20) NOT NULL,
    affix_type  varchar(10) NOT NULL,
    description varchar(60),
    UNIQUE (affix, affix_type)
);
