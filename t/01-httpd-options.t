#!/bin/bash
# The module loads into a real httpd and answers OPTIONS (MS-ASHTTP 2.2.3).
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
stack_start
u1=user1:$(user_pass user1)

hdr=$(curl -sk -i -u "$u1" -X OPTIONS "$EAS_URL")
echo "$hdr" | grep -q '^HTTP/1.1 200'; ok $? "OPTIONS answers 200"
echo "$hdr" | grep -qi '^MS-ASProtocolVersions: .*14\.1'; ok $? "MS-ASProtocolVersions lists 14.1"
echo "$hdr" | grep -qi '^MS-ASProtocolCommands: .*FolderSync'; ok $? "MS-ASProtocolCommands lists FolderSync"
code=$(curl -sk -o /dev/null -w '%{http_code}' -u "$u1" -X POST --data-binary 'garbage' \
    -H 'Content-Type: application/vnd.ms-sync.wbxml' "$EAS_URL")
is "$code" 400 "a malformed POST gets 400"
is "$(curl -sk -o /dev/null -w '%{http_code}' -u "$u1" -X OPTIONS "$EAS_URL")" 200 "httpd still answers after bad input"
done_testing
