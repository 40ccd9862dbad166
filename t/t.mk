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

# Unit tests: one program per libeas area.
UNIT_LDADD = libeas/libeas.la $(APR_LIBS)
check_PROGRAMS += t/unit/test_query
t_unit_test_query_LDADD = $(UNIT_LDADD)
TESTS += t/unit/test_query
# Time zones: ICU is the oracle the tests compare against.
check_PROGRAMS += t/unit/test_tz
t_unit_test_tz_CPPFLAGS = $(AM_CPPFLAGS) $(ICU_CFLAGS)
t_unit_test_tz_LDADD = $(UNIT_LDADD) $(ICU_LIBS)
TESTS += t/unit/test_tz
check_PROGRAMS += t/unit/test_recur
t_unit_test_recur_LDADD = $(UNIT_LDADD)
TESTS += t/unit/test_recur
