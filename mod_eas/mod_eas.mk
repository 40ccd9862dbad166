# mod_eas: thin httpd glue around libeas.
apachemod_LTLIBRARIES += mod_eas/mod_eas.la
mod_eas_mod_eas_la_SOURCES = \
	mod_eas/mod_eas.c \
	mod_eas/mod_eas_auth.c \
	mod_eas/mod_eas_autodiscover.c \
	mod_eas/mod_eas_config.c \
	mod_eas/mod_eas_config.h \
	mod_eas/mod_eas_handler.c \
	mod_eas/mod_eas_handler.h \
	mod_eas/mod_eas_private.h \
	mod_eas/mod_eas_notify.c \
	mod_eas/mod_eas_push.c \
	mod_eas/mod_eas_push.h \
	mod_eas/mod_eas_watch.c \
	mod_eas/mod_eas_watch.h \
	mod_eas/mod_eas_stats.c \
	mod_eas/mod_eas_stats.h \
	mod_eas/mod_eas_status.c
mod_eas_mod_eas_la_CPPFLAGS = $(AM_CPPFLAGS) $(APXS_CPPFLAGS) $(CURL_CFLAGS) $(XML_CFLAGS) \
	$(OPENSSL_CFLAGS) $(GMIME_CFLAGS) $(PQ_CFLAGS)
mod_eas_mod_eas_la_LIBADD = libeas/libeas.la $(APR_LIBS) $(CURL_LIBS) $(XML_LIBS) $(OPENSSL_LIBS) \
	$(PQ_LIBS)
mod_eas_mod_eas_la_LDFLAGS = -module -avoid-version -shared -export-symbols-regex '^eas_module$$'

# Debian's a2enmod works from the .so alone.
install-data-hook:
	rm -f $(DESTDIR)$(apachemoddir)/mod_eas.la
uninstall-local:
	rm -f $(DESTDIR)$(apachemoddir)/mod_eas.so
