-- The CRM side: rows keyed by uuid; the ERP key is kept as an integration key.
CREATE SCHEMA cds;

CREATE TYPE cds.hold_status AS ENUM ('none', 'invoice_hold', 'full_hold');

CREATE TABLE cds.customer_group (
    customergroupid uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    company_code    varchar(4)  NOT NULL,
    group_code      varchar(10) NOT NULL,
    name            varchar(60),
    UNIQUE (company_code, group_code)
);

CREATE TABLE cds.payment_term (
    paymenttermid uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    company_code  varchar(4)  NOT NULL,
    code          varchar(10) NOT NULL,
    name          varchar(60),
    due_days      integer     NOT NULL DEFAULT 0,
    UNIQUE (company_code, code)
);

CREATE TABLE cds.account (
    accountid           uuid            PRIMARY KEY DEFAULT gen_random_uuid(),
    company_code        varchar(4)      NOT NULL,
    accountnumber       varchar(20)     NOT NULL,
    name                varchar(100)    NOT NULL,
    customer_group_code varchar(10),
    payment_terms_code  varchar(10),
    creditlimit         numeric(38, 10),
    credit_hold         cds.hold_status NOT NULL DEFAULT 'none',
    emailaddress1       varchar(80),
    relationship_type   varchar(20)     NOT NULL DEFAULT 'customer',
    UNIQUE (company_code, accountnumber)
);

CREATE TABLE cds.contact (
    contactid       uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    company_code    varchar(4)   NOT NULL,
    customer_number varchar(20),
    fullname        varchar(100) NOT NULL,
    emailaddress1   varchar(80),
    is_sellable     boolean      NOT NULL DEFAULT false,
    UNIQUE (company_code, customer_number)
);
