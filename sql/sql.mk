# Schema and migrations, installed into $(pkgdatadir)/sql.
