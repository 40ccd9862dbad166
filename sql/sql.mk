# Schema and migrations, installed into $(pkgdatadir)/sql; eas-dbupgrade applies them.
sqldir = $(pkgdatadir)/sql
dist_sql_DATA = \
	sql/001_schema_version.sql
dist_bin_SCRIPTS = tools/eas-dbupgrade
