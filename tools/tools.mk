# Command-line tools.
bin_PROGRAMS += tools/eas-wbxml
tools_eas_wbxml_SOURCES = tools/eas-wbxml.c
tools_eas_wbxml_CPPFLAGS = $(AM_CPPFLAGS) $(XML_CFLAGS)
tools_eas_wbxml_LDADD = libeas/libeas.la $(APR_LIBS) $(XML_LIBS)
EXTRA_DIST += docs/eas-wbxml.md
