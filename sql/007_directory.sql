-- mod_eas schema, migration 007: the directory (Global Address List) that
-- Search GAL, Find and ResolveRecipients read, and the record of sent
-- messages that keeps a resent SendMail from going out twice.
--
-- The directory is filled by administrators with plain SQL (or an import
-- job): people and distribution lists, their S/MIME certificates and
-- photos.  mod_eas only reads it.  docs/administration.md has examples.

-- ---------------------------------------------------------------- entries
CREATE TABLE eas.directory (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'list')),
    email         text NOT NULL,              -- primary SMTP address
    other_emails  text[] NOT NULL DEFAULT '{}', -- lower-case addresses that also resolve to it
    display_name  text NOT NULL,
    alias         text,                       -- short name, e.g. the login
    first_name    text,
    last_name     text,
    title         text,
    company       text,
    office        text,
    phone         text,                       -- business phone
    home_phone    text,
    mobile_phone  text,
    picture       bytea,                      -- a small JPEG or PNG
    hidden        boolean NOT NULL DEFAULT false, -- resolvable by address, never listed
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX directory_email ON eas.directory (lower(email));
-- Lookups match the start of names, aliases and addresses, case-insensitively.
CREATE INDEX directory_display_name ON eas.directory (lower(display_name) text_pattern_ops);
CREATE INDEX directory_first_name ON eas.directory (lower(first_name) text_pattern_ops);
CREATE INDEX directory_last_name ON eas.directory (lower(last_name) text_pattern_ops);
CREATE INDEX directory_alias ON eas.directory (lower(alias) text_pattern_ops);
CREATE INDEX directory_email_prefix ON eas.directory (lower(email) text_pattern_ops);
CREATE INDEX directory_full_name ON eas.directory (lower(first_name || ' ' || last_name) text_pattern_ops);
CREATE INDEX directory_other_emails ON eas.directory USING gin (other_emails);

-- Members of a distribution list (kind = 'list'); lists may nest.
CREATE TABLE eas.directory_members (
    list    bigint NOT NULL REFERENCES eas.directory (id) ON DELETE CASCADE,
    member  bigint NOT NULL REFERENCES eas.directory (id) ON DELETE CASCADE,
    PRIMARY KEY (list, member)
);

-- S/MIME certificates (DER-encoded X.509) for ResolveRecipients
-- (MS-ASCMD 2.2.3.23); expired ones are never handed out.  The optional
-- mini certificate is what clients asking for CertificateRetrieval 3 get.
CREATE TABLE eas.directory_certificates (
    id               bigserial PRIMARY KEY,
    entry            bigint NOT NULL REFERENCES eas.directory (id) ON DELETE CASCADE,
    certificate      bytea NOT NULL,
    mini_certificate bytea
);
CREATE INDEX directory_certificates_entry ON eas.directory_certificates (entry);

-- LIKE pattern for "starts with q", case-insensitive (lower-cased).
CREATE FUNCTION eas.like_prefix(q text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT replace(replace(replace(lower(q), '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

-- Entries matching a query the way Exchange's ambiguous name resolution
-- does: the query is the start of the display name, first or last name,
-- "first last", the alias or an address.  Hidden entries match only by a
-- whole address.  (The function is inlined, so the indexes above serve it.)
CREATE FUNCTION eas.directory_match(q text) RETURNS SETOF eas.directory
LANGUAGE sql STABLE AS $$
    SELECT d.* FROM eas.directory d
     WHERE lower(d.email) = lower(q) OR d.other_emails @> ARRAY[lower(q)]
        OR (NOT d.hidden AND length(q) > 0 AND (
               lower(d.display_name) LIKE eas.like_prefix(q)
            OR lower(d.first_name) LIKE eas.like_prefix(q)
            OR lower(d.last_name) LIKE eas.like_prefix(q)
            OR lower(d.alias) LIKE eas.like_prefix(q)
            OR lower(d.email) LIKE eas.like_prefix(q)
            OR lower(d.first_name || ' ' || d.last_name) LIKE eas.like_prefix(q)))
$$;

-- ---------------------------------------------------------- sent messages
-- ClientIds of messages a device had sent (SendMail, SmartReply,
-- SmartForward, 14.0+): a resent request with the same ClientId is
-- answered with Status 118 instead of sending the message again.  Rows
-- older than 30 days are dropped by mod_eas as the device sends more.
CREATE TABLE eas.sent_messages (
    device      bigint NOT NULL REFERENCES eas.devices (id) ON DELETE CASCADE,
    client_id   text NOT NULL,
    message_id  text NOT NULL,              -- Message-ID of what went out, without <>
    sent_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device, client_id)
);
CREATE INDEX sent_messages_sent_at ON eas.sent_messages (device, sent_at);

INSERT INTO eas.schema_version (version, name) VALUES (7, 'directory');
