#!/bin/bash
# tools/eas-wbxml: the XML form (docs/eas-wbxml.md) and its answers to bad input.
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
E="$top_builddir/tools/eas-wbxml"
[ -x "$E" ] || { echo "Bail out! $E not built"; exit 1; }

. "${top_srcdir:-$(dirname "$0")/..}/t/lib/tap.sh"
hex() { od -An -v -tx1 | tr -d ' \n'; }
T=$(mktemp -d "${TMPDIR:-/tmp}/eas-wbxml.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM

# Encoding: the header devices send, prefixes and default namespaces alike.
got=$(printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' |
      "$E" encode | hex)
is "$got" "03""01""6a""00""0007""56""52""03""3000""01""01" "FolderSync with SyncKey 0"
got=$(printf '<?xml version="1.0"?>\n<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "x">\n<f:FolderSync xmlns:f="FolderHierarchy"><f:SyncKey>0</f:SyncKey></f:FolderSync>' |
      "$E" encode | hex)
is "$got" "03016a00000756520330000101" "a DOCTYPE and a prefix without ':' change nothing"

# Opaque data: byte arrays are base64 in XML; wbxml= overrides.
got=$(printf '<SendMail xmlns="ComposeMail:"><Mime>AAEC</Mime></SendMail>' | "$E" encode | hex)
is "$got" "03016a000015""45""50""c303000102""01""01" "ComposeMail:Mime is OPAQUE from base64"
got=$(printf '<Sync xmlns="AirSync:" xmlns:b="AirSyncBase:"><b:Data wbxml="opaque">AAEC</b:Data></Sync>' |
      "$E" encode | hex)
is "$got" "03016a00""45""0011""4b""c303000102""01""01" "wbxml=\"opaque\" on another element"
printf '<Sync xmlns="AirSync:" xmlns:b="AirSyncBase:"><b:Data wbxml="opaque">AAEC</b:Data></Sync>' |
    "$E" encode >"$T/op.wbxml"
"$E" decode "$T/op.wbxml" | grep -q '<airsyncbase:Data wbxml="opaque">AAEC</airsyncbase:Data>'
ok $? "decode marks OPAQUE where the element is not a byte array"
printf '\x03\x01\x6a\x00\x45\x4b\x03a\x01b\x00\x01\x00\x16\x49\x03id\x00\x01\x01' >"$T/odd.wbxml"
"$E" decode "$T/odd.wbxml" >"$T/odd.xml"
grep -q '<SyncKey wbxml="string-base64">YQFi</SyncKey>' "$T/odd.xml"
ok $? "a control character makes a string base64"
grep -q '<email2:ConversationId wbxml="string">id</email2:ConversationId>' "$T/odd.xml"
ok $? "an inline string on a byte-array element is marked"
"$E" encode "$T/odd.xml" | cmp -s - "$T/odd.wbxml"
ok $? "and both encode back to the same bytes"

# Text is kept as it is; CR (which XML can only carry as &#13;) survives.
printf '<Sync xmlns="AirSync:"><SyncKey> a&#13;\nb &amp; </SyncKey></Sync>' >"$T/cr.xml"
"$E" encode "$T/cr.xml" >"$T/cr.wbxml"
got=$("$E" decode "$T/cr.wbxml" | grep SyncKey)
is "$got" "  <SyncKey> a&#13;
b &amp; </SyncKey>" "edges, CR and markup characters"

# Bad input: exit 1 and say what and where.
msg=$(printf '<Sync xmlns="AirSync:"><Foo/></Sync>' | "$E" encode 2>&1 >/dev/null); rc=$?
is "$rc:$msg" "1:eas-wbxml: stdin: line 1: AirSync has no element Foo" "unknown element"
msg=$(printf '<Sync><SyncKey/></Sync>' | "$E" encode 2>&1 >/dev/null); rc=$?
is "$rc:$msg" "1:eas-wbxml: stdin: line 1: <Sync> is not in an EAS namespace (none)" "no namespace"
msg=$(printf '<Sync xmlns="AirSync:"><SyncKey x="1"/></Sync>' | "$E" encode 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && echo "$msg" | grep -q "has an attribute x"
ok $? "attributes are refused"
msg=$(printf '<SendMail xmlns="ComposeMail:"><Mime>A*==</Mime></SendMail>' | "$E" encode 2>&1 >/dev/null); rc=$?
is "$rc:$msg" "1:eas-wbxml: stdin: line 1: <Mime> needs base64 content" "bad base64"
out=$(printf '<Sync xmlns="AirSync:"' | "$E" encode 2>"$T/err"); rc=$?
[ $rc = 1 ] && [ -z "$out" ] && grep -q "not well-formed XML" "$T/err"
ok $? "malformed XML, and nothing on stdout"
msg=$(printf '\x03\x01\x6a\x00\x45\x4b\x03ab' | "$E" decode 2>&1 >/dev/null); rc=$?
is "$rc:$msg" "1:eas-wbxml: stdin: offset 6: input ends inside a construct" "truncated WBXML"
msg=$(printf '\x03\x01\x6a\x00\x45\x51\x01' | "$E" decode 2>&1 >/dev/null); rc=$?
is "$rc:$msg" "1:eas-wbxml: stdin: offset 5: unknown or unsupported token" "unknown token"
msg=$(: | "$E" decode 2>&1 >/dev/null); rc=$?
is "$rc:$msg" "1:eas-wbxml: stdin: offset 0: empty body" "empty input"
"$E" decode "$T/missing" 2>/dev/null; is $? 1 "a missing file"
"$E" frobnicate 2>/dev/null; is $? 2 "bad usage"
"$E" --help | grep -q 'wbxml="string-base64"'; ok $? "--help documents the opaque form"

echo "1..$tap_n"
[ "$tap_fail" -eq 0 ]
