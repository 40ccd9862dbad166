# Schema and migrations, installed into $(pkgdatadir)/sql; eas-dbupgrade applies them.
sqldir = $(pkgdatadir)/sql
dist_sql_DATA = \
	sql/001_schema_version.sql \
	sql/002_core.sql \
	sql/003_admin.sql \
	sql/004_sync.sql \
	sql/005_push.sql \
	sql/006_ops.sql \
	sql/007_directory.sql
dist_bin_SCRIPTS = tools/eas-dbupgrade tools/eas-admin
