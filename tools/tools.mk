# Command-line tools.
bin_PROGRAMS += tools/eas-wbxml
tools_eas_wbxml_SOURCES = tools/eas-wbxml.c
tools_eas_wbxml_CPPFLAGS = $(AM_CPPFLAGS) $(XML_CFLAGS)
tools_eas_wbxml_LDADD = libeas/libeas.la $(APR_LIBS) $(XML_LIBS)
EXTRA_DIST += docs/eas-wbxml.md

# eas-stack: the local stack behind the quickstart, the integration tests and
# the benchmarks; runs from the source tree, not installed.
EXTRA_DIST += tools/eas-stack \
	tools/stack/httpd.conf.in \
	tools/stack/eas-site.conf.in \
	tools/stack/dovecot.conf.in \
	tools/stack/postfix-main.cf.in \
	tools/stack/postfix-master.cf.in \
	tools/stack/postgresql.conf.in \
	tools/stack/demo-data.sh

# Manual pages of the installed tools.
dist_man1_MANS = docs/man/eas-admin.1 docs/man/eas-dbupgrade.1 docs/man/eas-wbxml.1
