# Tests: unit tests (C, TAP) and integration tests (t/*.t, TAP) under automake's TAP driver.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
T_LOG_DRIVER = $(LOG_DRIVER)
TEST_EXTENSIONS = .t
AM_TESTS_ENVIRONMENT = \
	top_builddir='$(abs_top_builddir)'; top_srcdir='$(abs_top_srcdir)'; \
	HTTPD_BIN='$(HTTPD_BIN)'; \
	export top_builddir top_srcdir HTTPD_BIN;

noinst_HEADERS += t/tap.h
EXTRA_DIST += t/lib/httpd.sh t/conf/httpd.conf.in

TESTS += t/01-httpd-options.t
EXTRA_DIST += t/01-httpd-options.t

check_PROGRAMS += t/unit/test_wbxml
TESTS += t/unit/test_wbxml
t_unit_test_wbxml_SOURCES = t/unit/test_wbxml.c
t_unit_test_wbxml_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/t
t_unit_test_wbxml_LDADD = libeas/libeas.la $(APR_LIBS)

# The libwbxml2 cross-check: a helper that reduces documents to tokens.
check_PROGRAMS += t/wbxml-canon
t_wbxml_canon_SOURCES = t/wbxml-canon.c
t_wbxml_canon_CPPFLAGS = $(AM_CPPFLAGS) $(XML_CFLAGS)
t_wbxml_canon_LDADD = libeas/libeas.la $(APR_LIBS) $(XML_LIBS)
TESTS += t/02-wbxml-crosscheck.t
EXTRA_DIST += t/02-wbxml-crosscheck.t t/wbxml-corpus
TESTS += t/03-eas-wbxml.t
EXTRA_DIST += t/03-eas-wbxml.t
