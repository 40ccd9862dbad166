#!/bin/bash
# The module loads into a real httpd and answers OPTIONS (MS-ASHTTP 2.2.3).
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/httpd.sh"
httpd_start

hdr=$(curl -s -i -X OPTIONS "$BASE/Microsoft-Server-ActiveSync")
echo "$hdr" | grep -q '^HTTP/1.1 200'; ok $? "OPTIONS answers 200"
echo "$hdr" | grep -qi '^MS-ASProtocolVersions: .*14\.1'; ok $? "MS-ASProtocolVersions lists 14.1"
echo "$hdr" | grep -qi '^MS-ASProtocolCommands: .*FolderSync'; ok $? "MS-ASProtocolCommands lists FolderSync"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary 'garbage' \
    -H 'Content-Type: application/vnd.ms-sync.wbxml' "$BASE/Microsoft-Server-ActiveSync")
is "$code" 400 "a malformed POST gets 400"
pgrep -f "$T/httpd.conf" >/dev/null; ok $? "httpd still runs after bad input"
done_testing
