# libeas: the protocol core, no httpd dependency.  Installed as a shared
# library, or (--disable-shared-libeas) a convenience library linked into
# mod_eas.so and the tools.
if SHARED_LIBEAS
lib_LTLIBRARIES += libeas/libeas.la
# C:R:A — bump per libtool's rules when the exported interface changes.
libeas_libeas_la_LDFLAGS = -version-info 0:0:0 -no-undefined -export-symbols-regex '^eas_'
else
noinst_LTLIBRARIES += libeas/libeas.la
endif
libeas_libeas_la_SOURCES = \
	libeas/eas_log.c
libeas_libeas_la_SOURCES += \
	libeas/eas_wbxml.c \
	libeas/eas_wbxml_tables.c \
	libeas/eas_wbxml_private.h
libeas_libeas_la_SOURCES += \
	libeas/eas_imap.c \
	libeas/eas_imap_parse.c \
	libeas/eas_imap_int.h \
	libeas/eas_smtp.c
libeas_libeas_la_CPPFLAGS = $(AM_CPPFLAGS) $(XML_CFLAGS) $(CURL_CFLAGS) $(PQ_CFLAGS) \
	$(OPENSSL_CFLAGS) $(GMIME_CFLAGS) $(ICAL_CFLAGS) $(ICU_CFLAGS)
libeas_libeas_la_LIBADD = $(APR_LIBS) $(XML_LIBS) $(CURL_LIBS) $(PQ_LIBS) \
	$(OPENSSL_LIBS) $(GMIME_LIBS) $(ICAL_LIBS) $(ICU_LIBS)
pkginclude_HEADERS += libeas/eas_imap.h libeas/eas_smtp.h
pkginclude_HEADERS += \
	libeas/eas_log.h \
	libeas/eas_wbxml.h \
	libeas/eas_codepages.def
libeas_libeas_la_SOURCES += \
	libeas/eas_protocol.c \
	libeas/eas_query.c
pkginclude_HEADERS += \
	libeas/eas_protocol.h \
	libeas/eas_query.h
libeas_libeas_la_SOURCES += \
	libeas/eas_utf8.c \
	libeas/eas_policy.c \
	libeas/eas_autodiscover.c
pkginclude_HEADERS += \
	libeas/eas_utf8.h \
	libeas/eas_policy.h \
	libeas/eas_autodiscover.h
libeas_libeas_la_SOURCES += \
	libeas/eas_commands.h \
	libeas/eas_cmd_folders.c \
	libeas/eas_cmd_settings.c \
	libeas/eas_db.c \
	libeas/eas_device.c \
	libeas/eas_device.h \
	libeas/eas_folders.c \
	libeas/eas_folders.h \
	libeas/eas_login.c \
	libeas/eas_provision.c \
	libeas/eas_provision.h \
	libeas/eas_request.c \
	libeas/eas_status.c \
	libeas/eas_status.h \
	libeas/eas_time.c
pkginclude_HEADERS += \
	libeas/eas_db.h \
	libeas/eas_login.h \
	libeas/eas_request.h \
	libeas/eas_time.h
libeas_libeas_la_SOURCES += \
	libeas/eas_tz.c
pkginclude_HEADERS += \
	libeas/eas_tz.h
libeas_libeas_la_SOURCES += \
	libeas/eas_recur.c
pkginclude_HEADERS += \
	libeas/eas_recur.h
libeas_libeas_la_SOURCES += \
	libeas/eas_mime.c \
	libeas/eas_mime_text.c \
	libeas/eas_mime_ical.c \
	libeas/eas_mime_write.c \
	libeas/eas_mime_compose.c \
	libeas/eas_mime_private.h
pkginclude_HEADERS += \
	libeas/eas_mime.h
libeas_libeas_la_SOURCES += \
	libeas/eas_mailitem.c \
	libeas/eas_mailitem.h \
	libeas/eas_mime_opts.c \
	libeas/eas_mime_opts.h \
	libeas/eas_cmd_compose.c \
	libeas/eas_cmd_itemops.c \
	libeas/eas_cmd_search.c \
	libeas/eas_directory.c \
	libeas/eas_directory.h \
	libeas/eas_cmd_resolve.c \
	libeas/eas_cmd_meeting.c \
	libeas/eas_mime_itip.c \
	libeas/eas_mime_itip.h

EXTRA_DIST += docs/mime.md
libeas_libeas_la_SOURCES += \
	libeas/eas_sync.c \
	libeas/eas_pim.c \
	libeas/eas_cmd_sync.c \
	libeas/eas_sync.h \
	libeas/eas_pim.h
# Push: Ping, the pending-change checks, the generation and NOTIFY payloads.
libeas_libeas_la_SOURCES += \
	libeas/eas_cmd_ping.c \
	libeas/eas_mail_pending.c \
	libeas/eas_pending.c \
	libeas/eas_pending.h \
	libeas/eas_push.c
pkginclude_HEADERS += libeas/eas_push.h
libeas_libeas_la_SOURCES += libeas/eas_waitset.c
pkginclude_HEADERS += libeas/eas_waitset.h
# Device health: what each request tells about its device (sql/006_ops.sql).
libeas_libeas_la_SOURCES += \
	libeas/eas_health.c \
	libeas/eas_health.h
