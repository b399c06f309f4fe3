# hotlined - build, test and run.
#
#   make            build build/hotlined and build/hotlinectl
#   make run        install missing packages, start the private PostgreSQL in var/, migrate, run the daemon
#   make check      the same set-up, then every test (unit + end-to-end) under ASan/UBSan
#   make bench      benchmarks, written to docs/performance.md
#   make pg-stop    stop the private PostgreSQL cluster
#   make clean

PKGS      := libevent libevent_openssl libpq libconfig json-c libsystemd openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null)
# The functional core may use libconfig and json-c only: the unit tests link
# with nothing else, so a core file that calls libevent, libpq, OpenSSL or
# libsystemd fails the build of the unit tests.
CORE_LIBS  := $(shell pkg-config --libs libconfig json-c 2>/dev/null) -lm

CC       ?= cc
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Iinclude $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lm

# SAN=1 builds everything with AddressSanitizer and UndefinedBehaviorSanitizer into build/san.
ifeq ($(SAN),1)
B        := build/san
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
else
B        := build
endif

# The functional core: pure, no libevent, no libpq.
CORE_SRC  := $(filter-out daemon/hotlinectl.c, $(wildcard daemon/util.c daemon/protocol.c daemon/calendar.c daemon/redact.c \
             daemon/tz.c daemon/world.c daemon/rules.c daemon/config.c daemon/slots.c \
             daemon/config_orders.c daemon/config_people.c daemon/roles.c daemon/timefmt.c daemon/orders.c daemon/order_clocks.c \
             daemon/order_world.c daemon/hotspot.c daemon/config_webhooks.c \
             daemon/rules_text.c daemon/rules_check.c daemon/rules_clocks.c daemon/rules_alerts.c daemon/rules_ops.c daemon/rules_withheld.c \
             daemon/protocol_scan.c daemon/protocol_reply.c \
             daemon/config_read.c daemon/config_values.c daemon/config_table.c daemon/config_walk.c \
             daemon/config_calendars.c daemon/config_sla.c daemon/config_groups.c daemon/batch_keys.c \
             daemon/pos_table.c daemon/json_rows.c daemon/clock_list.c daemon/http_params.c))
CTL_SRC   := $(wildcard daemon/ctl_*.c)
SHELL_SRC := $(filter-out $(CORE_SRC) $(CTL_SRC) daemon/main.c daemon/hotlinectl.c, $(wildcard daemon/*.c))
CORE_OBJ  := $(CORE_SRC:daemon/%.c=$(B)/obj/%.o)
SHELL_OBJ := $(SHELL_SRC:daemon/%.c=$(B)/obj/%.o)

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit_%)
E2E_SRC   := $(wildcard tests/e2e/test_*.c)
E2E_BIN   := $(E2E_SRC:tests/e2e/%.c=$(B)/tests/e2e_%)
# The e2e harness library: tests/e2e/harness.c and its harness_*.c parts (see harness.h).
E2E_LIB_SRC := $(wildcard tests/e2e/harness.c tests/e2e/harness_*.c)
E2E_LIB   := $(E2E_LIB_SRC:tests/e2e/%.c=$(B)/obj/e2e_%.o)

# hotline-pbx (pbx/, docs/pbx.md): its pure core and its libevent shell; it
# links only the daemon's pure util.c, never the daemon shell.
PBX_CORE_SRC := pbx/pbx_event.c pbx/queue_log.c pbx/ql_split.c pbx/ql_legs.c pbx/ql_time.c pbx/ami_map.c pbx/ami_parse.c pbx/visits.c pbx/charset.c
PBX_SHELL_SRC := $(filter-out $(PBX_CORE_SRC), $(wildcard pbx/*.c))
PBX_CORE_OBJ := $(PBX_CORE_SRC:pbx/%.c=$(B)/obj/pbx_%.o) $(B)/obj/util.o
PBX_SHELL_OBJ := $(PBX_SHELL_SRC:pbx/%.c=$(B)/obj/pbx_%.o)

.PHONY: all run check unit e2e test clean pg-start pg-stop deps bench install uninstall fuzz stress
all: $(B)/hotlined $(B)/hotlinectl $(B)/hotline-pbx

$(B)/obj/%.o: daemon/%.c $(wildcard include/*.h) | $(B)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/obj/migrations.c: mk/embed-sql.sh $(wildcard sql/*.sql) | $(B)/obj
	sh mk/embed-sql.sh $(sort $(wildcard sql/[0-9]*.sql)) > $@

$(B)/obj/migrations.o: $(B)/obj/migrations.c include/migrations.h
	$(CC) $(CFLAGS) -c -o $@ $<

# The wallboard's page, script and style, embedded like the SQL (web/ keeps them as real files).
WEB_SRC := web/wallboard.html web/wallboard.js web/wallboard.css web/favicon.svg
$(B)/obj/web_assets.c: mk/embed-web.sh $(WEB_SRC) | $(B)/obj
	sh mk/embed-web.sh $(WEB_SRC) > $@

$(B)/obj/web_assets.o: $(B)/obj/web_assets.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/hotlined: $(B)/obj/main.o $(SHELL_OBJ) $(B)/obj/migrations.o $(B)/obj/web_assets.o $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/hotlinectl: $(B)/obj/hotlinectl.o $(CTL_SRC:daemon/%.c=$(B)/obj/%.o) $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/obj/pbx_%.o: pbx/%.c $(wildcard include/*.h pbx/*.h) | $(B)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

# zlib: rotated queue_logs compressed by logrotate (pbx/rotated.c)
$(B)/hotline-pbx: $(PBX_SHELL_OBJ) $(PBX_CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lz

# The pbx unit test also links the bridge's pure core.
$(B)/tests/unit_test_pbx $(B)/tests/unit_test_pbx_visits $(B)/tests/unit_test_pbx_input $(B)/tests/unit_test_pbx_versions $(B)/tests/unit_test_pbx_gaps: $(B)/tests/unit_%: tests/unit/%.c $(CORE_OBJ) $(PBX_CORE_OBJ) $(wildcard include/*.h tests/unit/*.h) | $(B)/tests
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(filter-out $(B)/obj/util.o, $(PBX_CORE_OBJ)) $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

# the timer structure is shell (libevent), tested without a loop: clocks.o alone
$(B)/tests/unit_test_clocks: tests/unit/test_clocks.c $(CORE_OBJ) $(B)/obj/clocks.o $(wildcard include/*.h) | $(B)/tests
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(B)/obj/clocks.o $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

# tests/unit/*.h: the fixtures shared by the files of one split module (rules_fixtures.h, ...)
$(B)/tests/unit_%: tests/unit/%.c $(CORE_OBJ) $(wildcard include/*.h tests/unit/*.h) | $(B)/tests
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDFLAGS) $(CORE_LIBS) $(TEST_LIBS)

# The pbx e2e suites share tests/e2e/pbx_harness.c; test_pbx also links the
# bridge's pure mapper (expected event ids).
PBX_E2E_LIB := $(B)/obj/e2e_pbx_harness.o
$(PBX_E2E_LIB): tests/e2e/pbx_harness.c tests/e2e/pbx_harness.h tests/e2e/harness.h | $(B)/obj
	$(CC) $(CFLAGS) -Itests/e2e -c -o $@ $<

$(B)/tests/e2e_test_pbx: tests/e2e/test_pbx.c $(E2E_LIB) $(PBX_E2E_LIB) $(CORE_OBJ) $(PBX_CORE_OBJ) $(wildcard include/*.h) | $(B)/tests
	$(CC) $(CFLAGS) -Itests/e2e -o $@ $< $(E2E_LIB) $(PBX_E2E_LIB) $(CORE_OBJ) $(filter-out $(B)/obj/util.o, $(PBX_CORE_OBJ)) $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

$(B)/tests/e2e_test_pbx_ami $(B)/tests/e2e_test_pbx_input $(B)/tests/e2e_test_pbx_gaps: $(B)/tests/e2e_%: tests/e2e/%.c $(E2E_LIB) $(PBX_E2E_LIB) $(CORE_OBJ) $(wildcard include/*.h) | $(B)/tests
	$(CC) $(CFLAGS) -Itests/e2e -o $@ $< $(E2E_LIB) $(PBX_E2E_LIB) $(CORE_OBJ) $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

$(E2E_LIB): $(B)/obj/e2e_%.o: tests/e2e/%.c tests/e2e/harness.h tests/e2e/harness_internal.h | $(B)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

# test_cluster_clock.c starts a daemon under this LD_PRELOAD shim (its wall clock moved)
$(B)/tests/clock_shift.so: tests/e2e/clock_shift.c | $(B)/tests
	$(CC) -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl
$(B)/tests/e2e_test_cluster_clock: $(B)/tests/clock_shift.so

# A test file may include helpers shared by its sibling files (tests/e2e/*.h).
$(B)/tests/e2e_%: tests/e2e/%.c $(E2E_LIB) $(CORE_OBJ) $(wildcard include/*.h tests/e2e/*.h) | $(B)/tests
	$(CC) $(CFLAGS) -Itests/e2e -o $@ $< $(E2E_LIB) $(CORE_OBJ) $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

$(B)/obj $(B)/tests:
	mkdir -p $@

# Build every test binary without running one (`make -j2 tests`): make check
# builds in parallel first, then runs the suites one at a time.
.PHONY: tests
tests: all $(UNIT_BIN) $(E2E_BIN)

# Every test binary runs even when an earlier one fails; the target fails if any did.
unit: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs 2 || rc=1; done; exit $$rc

e2e: all $(E2E_BIN)
	@rc=0; for t in $(E2E_BIN); do echo "== $$t"; HOTLINED_BIN=$(B)/hotlined HOTLINECTL_BIN=$(B)/hotlinectl HOTLINE_PBX_BIN=$(B)/hotline-pbx $$t --jobs 1 || rc=1; done; exit $$rc

clean:
	rm -rf build

include mk/dev.mk
include mk/install.mk
-include mk/bench.mk
-include mk/fuzz.mk
-include mk/stress.mk
