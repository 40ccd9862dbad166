# Example configurations (docs/installation.md); the Debian package installs
# them under /usr/share/doc/libapache2-mod-eas/examples.
EXTRA_DIST += \
	examples/eas.load \
	examples/eas.conf \
	examples/eas-activesync.conf \
	examples/eas-vhost.conf \
	examples/policies.sql \
	examples/dovecot/90-mod-eas.conf \
	examples/postfix/main.cf \
	examples/postfix/master.cf
