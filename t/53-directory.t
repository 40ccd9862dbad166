#!/bin/bash
# The directory (sql/007_directory.sql) through Search GAL (MS-ASCMD
# 2.2.1.16), Find GAL (2.2.1.2) and ResolveRecipients (2.2.1.15):
# matching, paging, pictures, certificates (full, mini, expired,
# distribution lists), availability, ambiguity.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/mail.sh"
stack_start
T=$STACK_T

# Certificates: one valid, one long expired (signed with fixed dates).
mkdir -p "$T/ca" && touch "$T/ca/index.txt" && echo 01 >"$T/ca/serial"
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nserial = %s/serial\nnew_certs_dir = %s\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' \
    "$T/ca" "$T/ca" "$T/ca" >"$T/ca/ca.cnf"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k1" -out "$T/valid.pem" -days 30 \
    -subj "/CN=Chris Gray" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/k2" -out "$T/old.csr" -subj "/CN=Old Chris" 2>/dev/null
openssl ca -batch -config "$T/ca/ca.cnf" -selfsign -keyfile "$T/k2" -in "$T/old.csr" \
    -out "$T/old.pem" -startdate 20200101000000Z -enddate 20200201000000Z >/dev/null 2>&1
der_hex() { openssl x509 -in "$1" -outform DER | od -An -tx1 -v | tr -d ' \n'; }
valid_b64=$(openssl x509 -in "$T/valid.pem" -outform DER | base64 -w0)
[ -n "$valid_b64" ] && [ -s "$T/old.pem" ]; ok $? "test certificates made"

png=89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a8ca2d0b0000000049454e44ae426082
sql "INSERT INTO eas.directory (email, other_emails, display_name, first_name, last_name, alias, title, company, phone, picture) VALUES
     ('chris@example.test', '{c.gray@example.test}', 'Chris Gray', 'Chris', 'Gray', 'cgray', 'Engineer', 'Example', '+1 555 0100', decode('$png', 'hex')),
     ('christine@example.test', '{}', 'Christine Blue', 'Christine', 'Blue', 'cblue', NULL, NULL, NULL, NULL),
     ('chrisanna@example.test', '{}', 'Chrisanna Green', 'Chrisanna', 'Green', NULL, NULL, NULL, NULL, NULL),
     ('secret@example.test', '{}', 'Chris Secret', 'Chris', 'Secret', NULL, NULL, NULL, NULL, NULL),
     ('team@example.test', '{}', 'Team Blue', NULL, NULL, 'team', NULL, NULL, NULL, NULL)" >/dev/null
sql "UPDATE eas.directory SET hidden = true WHERE email = 'secret@example.test'; UPDATE eas.directory SET kind = 'list' WHERE email = 'team@example.test'" >/dev/null
sql "INSERT INTO eas.directory_certificates (entry, certificate, mini_certificate)
     SELECT id, decode('$(der_hex "$T/valid.pem")', 'hex'), decode('0102030405', 'hex') FROM eas.directory WHERE email = 'chris@example.test'
     UNION ALL SELECT id, decode('$(der_hex "$T/old.pem")', 'hex'), NULL FROM eas.directory WHERE email = 'christine@example.test'" >/dev/null
sql "INSERT INTO eas.directory_members (list, member) SELECT l.id, m.id FROM eas.directory l, eas.directory m
     WHERE l.email = 'team@example.test' AND m.email IN ('chris@example.test', 'christine@example.test')" >/dev/null

gal() { # gal QUERY [OPTIONS]
    eas Search user1 dev1 <<<"<Search xmlns=\"Search:\"><Store><Name>GAL</Name><Query>$1</Query><Options>${2:-<Range>0-9</Range>}</Options></Store></Search>"
}
names() { xmllint --xpath "//*[local-name()='DisplayName']/text()" "$T/last.xml" 2>/dev/null | tr '\n' '|'; }

# ---- Search GAL
gal chris
is "$(xget Status 1):$(xget Status 2)" "1:1" "GAL search: Status 1"
is "$(names)" "Chris Gray|Chrisanna Green|Christine Blue|" "names starting with the query, sorted; hidden left out"
is "$(xget Total)" 3 "Total 3"
is "$(xget EmailAddress 1):$(xget Title 1):$(xget Phone 1):$(xget Alias 1)" \
    "chris@example.test:Engineer:+1 555 0100:cgray" "the entry's properties"
gal chris "<Range>1-1</Range>"
is "$(names):$(xget Range):$(xget Total)" "Chrisanna Green|:1-1:3" "paging"
gal blue
is "$(names)" "Christine Blue|" "last names match"
gal "chris gray"
is "$(names)" "Chris Gray|" "'first last' matches"
gal cg
is "$(names)" "Chris Gray|" "aliases match"
gal "c.gray@example.test"
is "$(names)" "Chris Gray|" "other addresses match"
gal "100%_"
is "$(xget Total)" 0 "LIKE wildcards in the query are plain characters"
gal chris "<Range>0-9</Range><Picture><MaxSize>1000</MaxSize><MaxPictures>1</MaxPictures></Picture>"
is "$(xget Status 3)" 1 "a picture for the first entry"
is "$(xget Data | tr -d ' \n')" "$(echo "$png" | unhex | base64 -w0)" "with the stored bytes"
is "$(xget Status 4)" 173 "none for an entry without one"
gal chris "<Range>0-9</Range><Picture><MaxSize>10</MaxSize></Picture>"
is "$(xget Status 3)" 174 "too large for MaxSize: Status 174"
eas Search user1 dev1 <<<'<Search xmlns="Search:"><Store><Name>GAL</Name><Options><Range>0-9</Range></Options></Store></Search>'
is "$(xget Status 2)" 2 "no query: Status 2"

# ---- Find GAL (16.1)
EAS_PROTOCOL_VERSION=16.1 eas Find user1 dev1 <<<'<Find xmlns="Find:"><SearchId>g-1</SearchId><ExecuteSearch><GalSearchCriterion><Query><FreeText>chris</FreeText></Query><Options><Range>0-1</Range></Options></GalSearchCriterion></ExecuteSearch></Find>'
is "$(xget Status 1):$(xget Store)" "1:GAL" "Find GAL: Status 1"
is "$(names):$(xget Total)" "Chris Gray|Chrisanna Green|:3" "same entries, paged"

# ---- ResolveRecipients
resolve() { # resolve TO-ELEMENTS OPTIONS
    eas ResolveRecipients user1 dev1 <<<"<ResolveRecipients xmlns=\"ResolveRecipients:\">$1<Options>$2</Options></ResolveRecipients>"
}
resolve "<To>chris@example.test</To>" "<CertificateRetrieval>2</CertificateRetrieval><Availability><StartTime>2026-03-02T08:00:00.000Z</StartTime><EndTime>2026-03-02T10:15:00.000Z</EndTime></Availability><Picture><MaxSize>1000</MaxSize></Picture>"
is "$(xget Status 1):$(xget Status 2)" "1:1" "an address resolves (Status 1)"
is "$(xget RecipientCount 1):$(xget Type):$(xget DisplayName)" "1:1:Chris Gray" "to one GAL recipient"
is "$(xget MergedFreeBusy)" 44444 "availability: one digit per half hour, 4 (no data)"
is "$(xget Certificate)" "$valid_b64" "the valid certificate, base64 DER"
is "$(xget CertificateCount)" 1 "CertificateCount 1"
is "$(xcount Data)" 1 "and the picture"
resolve "<To>chris@example.test</To>" "<CertificateRetrieval>3</CertificateRetrieval>"
is "$(xget MiniCertificate)" "$(printf '\1\2\3\4\5' | base64)" "CertificateRetrieval 3: the mini certificate"
resolve "<To>christine@example.test</To>" "<CertificateRetrieval>2</CertificateRetrieval>"
is "$(xget Status 3):$(xget CertificateCount)" "7:0" "only an expired certificate: Status 7"
resolve "<To>team@example.test</To>" "<CertificateRetrieval>2</CertificateRetrieval>"
is "$(xget Status 3):$(xget CertificateCount):$(xget RecipientCount 2)" "1:1:2" \
    "a list: its members' valid certificates, its member count"
resolve "<To>team@example.test</To>" "<CertificateRetrieval>2</CertificateRetrieval><MaxCertificates>0</MaxCertificates>"
is "$(xget Status 3)" 1 "MaxCertificates 0 means no limit"
resolve "<To>chris</To>" "<CertificateRetrieval>2</CertificateRetrieval>"
is "$(xget Status 2):$(xget RecipientCount):$(xcount Certificates)" "2:3:0" "a name with three matches: ambiguous, no certificates"
resolve "<To>chris</To>" "<MaxAmbiguousRecipients>2</MaxAmbiguousRecipients>"
is "$(xget Status 2):$(xget RecipientCount)" "3:2" "more matches than MaxAmbiguousRecipients: Status 3"
resolve "<To>secret@example.test</To><To>nobody@example.test</To>" ""
is "$(xget Status 2):$(xget DisplayName)" "1:Chris Secret" "a hidden entry resolves by its address"
is "$(xget Status 3):$(xget RecipientCount 2)" "4:0" "an unknown address: Status 4"
resolve "<To>chris@example.test</To>" "<Availability><StartTime>2026-03-02T10:00:00.000Z</StartTime><EndTime>2026-03-02T08:00:00.000Z</EndTime></Availability>"
is "$(xget Status)" 5 "an availability window that ends before it starts: Status 5"
resolve "" ""
is "$(xget Status)" 5 "no To: Status 5"
done_testing
