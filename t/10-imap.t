#!/bin/bash
# The IMAP and SMTP client layer (libeas/eas_imap, eas_smtp) against the
# stack's real Dovecot and Postfix: t/imap-client-test prints the TAP.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
stack_start
"$top_builddir/t/imap-client-test"
tap_fail=$?
exit "$tap_fail"
