# mk/install.mk - "make install" and "make uninstall" for hotlined.
#
# Included by the top-level Makefile.  Honours PREFIX (default /usr/local) and
# DESTDIR (staging root for packagers), GNU style:
#
#   $(PREFIX)/sbin/hotlined                 the daemon (section 8: run by the system)
#   $(PREFIX)/bin/hotlinectl                the client
#   $(PREFIX)/share/hotlined/sql/NNN_*.sql  migrations, for reading (the daemon embeds its own copy)
#   $(PREFIX)/share/man/man{1,5,8}/         manual pages
#   $(PREFIX)/share/doc/hotlined/           README.md, docs/*.md (the README's links), example configuration
#   $(PREFIX)/lib/systemd/system/           hotlined.service, hotlined.socket (pkg-config's
#                                           systemdsystemunitdir for PREFIX when known)
#   $(PREFIX)/lib/sysusers.d/hotlined.conf  the system user
#   $(PREFIX)/lib/tmpfiles.d/hotlined.conf  /run/hotlined, config permissions
#   /etc/hotlined/hotlined.conf             only when absent: an admin's config is never overwritten
#
# systemd searches /usr/local/lib/{systemd/system,sysusers.d,tmpfiles.d} as well
# as /usr/lib, so the default PREFIX works without further set-up.  The units
# name the binary by absolute path; install rewrites /usr/local/ in them to
# $(PREFIX)/.
#
# "make uninstall" removes exactly what install put down.  The configuration is
# removed only when it is still byte-identical to the shipped example; an
# edited one is kept (and said so).  Directories are left in place.
#
# The binaries come from the normal build ($(B)/hotlined, $(B)/hotlinectl).
# HOTLINED_BIN / HOTLINECTL_BIN may point elsewhere (scripts/test-install.sh
# uses that to test packaging on a tree that does not build yet).

PREFIX      ?= /usr/local
DESTDIR     ?=
EXEC_PREFIX ?= $(PREFIX)
BINDIR      ?= $(EXEC_PREFIX)/bin
SBINDIR     ?= $(EXEC_PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/hotlined
SQLDIR      ?= $(DATADIR)/hotlined/sql
LIBDIR_SD   ?= $(PREFIX)/lib
# systemd's own answer for this prefix when pkg-config knows systemd, else the usual path
UNITDIR     ?= $(or $(shell pkg-config --define-variable=prefix=$(PREFIX) --define-variable=rootprefix=$(PREFIX) --variable=systemdsystemunitdir systemd 2>/dev/null),$(LIBDIR_SD)/systemd/system)
SYSUSERSDIR ?= $(LIBDIR_SD)/sysusers.d
TMPFILESDIR ?= $(LIBDIR_SD)/tmpfiles.d
SYSCONFDIR  ?= /etc
CONFDIR     ?= $(SYSCONFDIR)/hotlined

INSTALL      ?= install
INSTALL_PROG ?= $(INSTALL) -m 0755
INSTALL_DATA ?= $(INSTALL) -m 0644

HOTLINED_BIN   ?= $(B)/hotlined
HOTLINECTL_BIN ?= $(B)/hotlinectl
HOTLINE_PBX_BIN ?= $(B)/hotline-pbx

# Evaluated when a recipe runs, so sql/ files added later are picked up.
HL_SQL_FILES  = $(sort $(wildcard sql/[0-9][0-9][0-9]_*.sql))
HL_MAN_PAGES := man/hotlinectl.1 man/hotlined.conf.5 man/hotlined.8
# every document the README links to: README.md and all of docs/ (*.md, the example rules)
HL_DOCS       = $(wildcard README.md docs/*.md docs/*.yml docs/*.png)
HL_CONF_EX   ?= conf/hotlined.conf

.PHONY: install uninstall install-bin install-data install-systemd install-conf

install: install-bin install-data install-systemd install-conf
	@if [ -z "$(DESTDIR)" ]; then \
		echo "hotlined installed.  Next (as root):"; \
		echo "  systemd-sysusers hotlined.conf && systemd-tmpfiles --create hotlined.conf"; \
		echo "  systemctl daemon-reload"; \
		echo "then create the database and migrate: see $(DOCDIR)/operations.md"; \
	fi

install-bin: $(HOTLINED_BIN) $(HOTLINECTL_BIN) $(HOTLINE_PBX_BIN)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	$(INSTALL_PROG) $(HOTLINED_BIN) $(DESTDIR)$(SBINDIR)/hotlined
	$(INSTALL_PROG) $(HOTLINECTL_BIN) $(DESTDIR)$(BINDIR)/hotlinectl
	$(INSTALL_PROG) $(HOTLINE_PBX_BIN) $(DESTDIR)$(BINDIR)/hotline-pbx

# sql/ must hold at least one migration: an install without them could never
# create the schema.
install-data:
	@test -n "$(HL_SQL_FILES)" || { echo "install: no sql/NNN_*.sql migrations found" >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(SQLDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL_DATA) $(HL_SQL_FILES) $(DESTDIR)$(SQLDIR)/
	$(INSTALL_DATA) man/hotlinectl.1 $(DESTDIR)$(MANDIR)/man1/hotlinectl.1
	$(INSTALL_DATA) man/hotline-pbx.1 $(DESTDIR)$(MANDIR)/man1/hotline-pbx.1
	$(INSTALL_DATA) man/hotlined.conf.5 $(DESTDIR)$(MANDIR)/man5/hotlined.conf.5
	$(INSTALL_DATA) man/hotlined.8 $(DESTDIR)$(MANDIR)/man8/hotlined.8
	$(if $(HL_DOCS),$(INSTALL_DATA) $(HL_DOCS) $(DESTDIR)$(DOCDIR)/)
	$(if $(wildcard $(HL_CONF_EX)),$(INSTALL_DATA) $(HL_CONF_EX) $(DESTDIR)$(DOCDIR)/hotlined.conf.example)
	$(INSTALL_DATA) conf/hotline-pbx.conf $(DESTDIR)$(DOCDIR)/hotline-pbx.conf.example

# The units carry /usr/local/ paths; rewrite them for this PREFIX.
install-systemd:
	$(INSTALL) -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/usr/local/bin/|$(BINDIR)/|g' \
		systemd/hotlined.service > $(DESTDIR)$(UNITDIR)/hotlined.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/hotlined.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/hotlined.service.tmp $(DESTDIR)$(UNITDIR)/hotlined.service
	sed -e 's|/usr/local/bin/|$(BINDIR)/|g' systemd/hotline-pbx.service > $(DESTDIR)$(UNITDIR)/hotline-pbx.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/hotline-pbx.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/hotline-pbx.service.tmp $(DESTDIR)$(UNITDIR)/hotline-pbx.service
	$(INSTALL_DATA) systemd/hotlined.socket $(DESTDIR)$(UNITDIR)/hotlined.socket
	$(INSTALL_DATA) systemd/hotlined.sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/hotlined.conf
	$(INSTALL_DATA) systemd/hotlined.tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/hotlined.conf

# Never overwrite: the admin's file wins.  0640, since it may hold a database
# password; tmpfiles.d gives it group hotlined on the target system.
install-conf:
	$(INSTALL) -d -m 0750 $(DESTDIR)$(CONFDIR)
	@if [ ! -f $(HL_CONF_EX) ]; then \
		echo "install: $(HL_CONF_EX) missing, no configuration installed"; \
	elif [ -e $(DESTDIR)$(CONFDIR)/hotlined.conf ]; then \
		echo "install: keeping existing $(DESTDIR)$(CONFDIR)/hotlined.conf"; \
	else \
		echo "$(INSTALL) -m 0640 $(HL_CONF_EX) $(DESTDIR)$(CONFDIR)/hotlined.conf"; \
		$(INSTALL) -m 0640 $(HL_CONF_EX) $(DESTDIR)$(CONFDIR)/hotlined.conf; \
	fi

# Removes by name what install put down (not every *.sql under SQLDIR, which
# might hold a newer release's files), then the config if it is unmodified.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/hotlined $(DESTDIR)$(BINDIR)/hotlinectl $(DESTDIR)$(BINDIR)/hotline-pbx
	rm -f $(DESTDIR)$(MANDIR)/man1/hotline-pbx.1 $(DESTDIR)$(DOCDIR)/pbx.md \
		$(DESTDIR)$(DOCDIR)/hotline-pbx.conf.example $(DESTDIR)$(UNITDIR)/hotline-pbx.service
	rm -f $(addprefix $(DESTDIR)$(SQLDIR)/,$(notdir $(HL_SQL_FILES)))
	rm -f $(DESTDIR)$(MANDIR)/man1/hotlinectl.1 $(DESTDIR)$(MANDIR)/man5/hotlined.conf.5 \
		$(DESTDIR)$(MANDIR)/man8/hotlined.8
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(HL_DOCS))) $(DESTDIR)$(DOCDIR)/hotlined.conf.example
	rm -f $(DESTDIR)$(UNITDIR)/hotlined.service $(DESTDIR)$(UNITDIR)/hotlined.socket \
		$(DESTDIR)$(SYSUSERSDIR)/hotlined.conf $(DESTDIR)$(TMPFILESDIR)/hotlined.conf
	@c=$(DESTDIR)$(CONFDIR)/hotlined.conf; \
	if [ -f "$$c" ] && [ -f $(HL_CONF_EX) ] && cmp -s $(HL_CONF_EX) "$$c"; then \
		echo "rm -f $$c"; rm -f "$$c"; \
	elif [ -e "$$c" ]; then \
		echo "uninstall: keeping $$c (differs from the shipped example)"; \
	fi
