# mk/dev.mk - developer targets (deps, private PostgreSQL, run, check), included by the Makefile.
#
#   make deps       install the missing Debian packages (as root), or say which are missing
#   make pg-start   start the private PostgreSQL cluster in var/pg (created on first use)
#   make pg-stop    stop it
#   make pg-status  is it running?
#   make psql       psql into database "hotline" on it
#   make run        deps + build + pg-start + var/dev.conf + --migrate, then the daemon in the foreground
#   make check      deps + pg-start + every test under ASan/UBSan; ends with "N passed, N failed"
#
# The cluster, the dev config and the socket all live in var/ (git-ignored).
# See docs/development.md.

DEV_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
PG_SH    := $(DEV_ROOT)/scripts/pg.sh

.PHONY: pg-status psql dev-conf

deps:
	@$(DEV_ROOT)/scripts/deps.sh

pg-start: deps
	@$(PG_SH) start

pg-stop:
	@$(PG_SH) stop

pg-status:
	@$(PG_SH) status

psql:
	@$(PG_SH) psql

# var/dev.conf from conf/dev.conf.in: absolute paths and the cluster's conninfo.
# Rewritten every time so that it follows the checkout and pg.sh.
dev-conf: pg-start
	@mkdir -p $(DEV_ROOT)/var/run
	@sed -e 's|@ROOT@|$(DEV_ROOT)|g' -e "s|@CONNINFO@|$$($(PG_SH) conninfo-daemon)|g" \
		$(DEV_ROOT)/conf/dev.conf.in > $(DEV_ROOT)/var/dev.conf
	@echo "wrote var/dev.conf"

# The daemon replaces make's shell (exec), so Ctrl-C stops it directly.
run: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory dev-conf
	$(B)/hotlined -c var/dev.conf --migrate --conninfo "$$($(PG_SH) conninfo)"
	exec $(B)/hotlined -c var/dev.conf

check: deps pg-start
	@MAKE="$(MAKE)" $(DEV_ROOT)/scripts/check.sh
