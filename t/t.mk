# Tests: unit tests (C, TAP) and integration tests (t/*.t, TAP) under automake's TAP driver.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
T_LOG_DRIVER = $(LOG_DRIVER)
TEST_EXTENSIONS = .t
AM_TESTS_ENVIRONMENT = \
	top_builddir='$(abs_top_builddir)'; top_srcdir='$(abs_top_srcdir)'; \
	HTTPD_BIN='$(HTTPD_BIN)'; \
	export top_builddir top_srcdir HTTPD_BIN;

noinst_HEADERS += t/tap.h
EXTRA_DIST += t/lib/stack.sh t/lib/tap.sh

TESTS += t/01-httpd-options.t t/04-stack-mail.t t/05-log-numbers.t
EXTRA_DIST += t/01-httpd-options.t t/04-stack-mail.t t/05-log-numbers.t

# Unit tests: one program per libeas area.
UNIT_LDADD = libeas/libeas.la $(APR_LIBS)
check_PROGRAMS += t/unit/test_query
t_unit_test_query_LDADD = $(UNIT_LDADD)
TESTS += t/unit/test_query

check_PROGRAMS += t/unit/test_wbxml
TESTS += t/unit/test_wbxml
t_unit_test_wbxml_LDADD = $(UNIT_LDADD)
check_PROGRAMS += t/unit/test_policy t/unit/test_autodiscover
t_unit_test_policy_CPPFLAGS = $(AM_CPPFLAGS) $(XML_CFLAGS)
t_unit_test_policy_LDADD = $(UNIT_LDADD) $(XML_LIBS)
t_unit_test_autodiscover_CPPFLAGS = $(AM_CPPFLAGS) $(XML_CFLAGS)
t_unit_test_autodiscover_LDADD = $(UNIT_LDADD) $(XML_LIBS)
TESTS += t/unit/test_policy t/unit/test_autodiscover

# WBXML: libwbxml2 cross-check (with a helper that reduces documents to
# tokens) and the eas-wbxml tool.
check_PROGRAMS += t/wbxml-canon
t_wbxml_canon_CPPFLAGS = $(AM_CPPFLAGS) $(XML_CFLAGS)
t_wbxml_canon_LDADD = $(UNIT_LDADD) $(XML_LIBS)
TESTS += t/02-wbxml-crosscheck.t t/03-eas-wbxml.t
EXTRA_DIST += t/02-wbxml-crosscheck.t t/03-eas-wbxml.t t/wbxml-corpus
# IMAP client: the parsers (built from source, to reach the internals) and
# the connection pool without a server.
check_PROGRAMS += t/unit/test_imap_parse
t_unit_test_imap_parse_SOURCES = t/unit/test_imap_parse.c libeas/eas_imap_parse.c
t_unit_test_imap_parse_CPPFLAGS = $(AM_CPPFLAGS)
t_unit_test_imap_parse_LDADD = $(APR_LIBS)
TESTS += t/unit/test_imap_parse
check_PROGRAMS += t/unit/test_imap_pool
t_unit_test_imap_pool_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS)
t_unit_test_imap_pool_LDADD = $(UNIT_LDADD) $(CURL_LIBS)
TESTS += t/unit/test_imap_pool
check_PROGRAMS += t/unit/test_smtp
t_unit_test_smtp_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS)
t_unit_test_smtp_LDADD = $(UNIT_LDADD) $(CURL_LIBS)
TESTS += t/unit/test_smtp

# ... and against the stack's Dovecot and Postfix (t/10-imap.t runs it).
check_PROGRAMS += t/imap-client-test
t_imap_client_test_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS)
t_imap_client_test_LDADD = $(UNIT_LDADD) $(CURL_LIBS)
TESTS += t/10-imap.t
EXTRA_DIST += t/10-imap.t

# Protocol core against the local stack.
EAS_TESTS = t/20-foldersync.t t/21-provision.t t/22-http.t t/23-settings.t
TESTS += $(EAS_TESTS)
EXTRA_DIST += $(EAS_TESTS) t/lib/eas.sh

# Time zones: ICU is the oracle the tests compare against.
check_PROGRAMS += t/unit/test_tz
t_unit_test_tz_CPPFLAGS = $(AM_CPPFLAGS) $(ICU_CFLAGS)
t_unit_test_tz_LDADD = $(UNIT_LDADD) $(ICU_LIBS)
TESTS += t/unit/test_tz
check_PROGRAMS += t/unit/test_recur
t_unit_test_recur_LDADD = $(UNIT_LDADD)
TESTS += t/unit/test_recur

check_PROGRAMS += t/unit/test_time
t_unit_test_time_LDADD = $(UNIT_LDADD)
TESTS += t/unit/test_time

# Device health: what a processed request tells about its device.
check_PROGRAMS += t/unit/test_health
t_unit_test_health_LDADD = $(UNIT_LDADD)
TESTS += t/unit/test_health

# Operations: device health, request statistics, eas-admin (against a stack);
# the example configurations.
TESTS += t/24-ops.t t/07-examples.t t/06-debian-package.t
EXTRA_DIST += t/24-ops.t t/07-examples.t t/06-debian-package.t
check_PROGRAMS += t/unit/test_mime
TESTS += t/unit/test_mime
t_unit_test_mime_CPPFLAGS = $(AM_CPPFLAGS) $(ICAL_CFLAGS)
t_unit_test_mime_LDADD = $(UNIT_LDADD) $(ICAL_LIBS)
EXTRA_DIST += t/mime-corpus/.gitattributes \
	t/mime-corpus/apple-alt-related.eml \
	t/mime-corpus/apple-reply-accepted.eml \
	t/mime-corpus/gmail-invite.eml \
	t/mime-corpus/html-only.eml \
	t/mime-corpus/iso-2022-jp.eml \
	t/mime-corpus/koi8-r.eml \
	t/mime-corpus/latin1-8bit.eml \
	t/mime-corpus/malformed.eml \
	t/mime-corpus/mislabeled-charset.eml \
	t/mime-corpus/nested-rfc822.eml \
	t/mime-corpus/outlook-cancel.eml \
	t/mime-corpus/outlook-cp1252.eml \
	t/mime-corpus/outlook-mac-related.eml \
	t/mime-corpus/plain-ascii.eml \
	t/mime-corpus/shift-jis.eml \
	t/mime-corpus/smime-encrypted.eml \
	t/mime-corpus/smime-signed.eml \
	t/mime-corpus/thunderbird-mixed.eml

# Mail commands (SendMail family, ItemOperations, Search/Find,
# ResolveRecipients, MeetingResponse) against the stack.
MAIL_TESTS = t/50-sendmail.t t/51-itemops.t t/52-search.t t/53-directory.t t/54-meeting.t
TESTS += $(MAIL_TESTS)
EXTRA_DIST += $(MAIL_TESTS) t/lib/mail.sh
check_PROGRAMS += t/unit/test_mailcmd
t_unit_test_mailcmd_LDADD = $(UNIT_LDADD)
TESTS += t/unit/test_mailcmd
# PIM model (no database) and the Sync engine against the local stack.
check_PROGRAMS += t/unit/test_pim
t_unit_test_pim_LDADD = $(UNIT_LDADD)
TESTS += t/unit/test_pim
# eas_sync_pending() and the long-poll runs against a stack's database, for
# t/33-sync-ping-retry.t.
check_PROGRAMS += t/sync-pending t/sync-wait
t_sync_pending_LDADD = $(UNIT_LDADD)
t_sync_wait_LDADD = $(UNIT_LDADD)
SYNC_TESTS = t/30-sync-contacts.t t/31-sync-calendar.t t/32-sync-tasks-notes.t \
	t/33-sync-ping-retry.t
TESTS += $(SYNC_TESTS)
EXTRA_DIST += $(SYNC_TESTS) t/lib/sync.sh
# Push: NOTIFY payloads and the waiting set.
check_PROGRAMS += t/unit/test_push
t_unit_test_push_LDADD = $(UNIT_LDADD)
TESTS += t/unit/test_push

# Push: Ping and waiting requests on the stack (one stack, then two front ends).
PUSH_TESTS = t/40-ping.t t/41-ping-frontends.t
TESTS += $(PUSH_TESTS)
EXTRA_DIST += $(PUSH_TESTS)
