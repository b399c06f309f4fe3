# mk/fuzz.mk - libFuzzer targets, included by the Makefile (-include mk/fuzz.mk).
#
#   make fuzz                   build the three targets, run each for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_SECONDS=600  longer
#   make fuzz-build             build only (build/fuzz/fuzz_protocol, fuzz_config, fuzz_pbx)
#
# Each target runs with a scratch corpus first (build/fuzz/corpus-<name>: new
# inputs are written there, the checked-in seeds stay clean) and the seed
# corpus tests/fuzz/corpus/<name> second.  Crashes, leaks and timeouts land in
# build/fuzz/ as crash-*/leak-*/timeout-* files; replay one with
#   build/fuzz/fuzz_protocol build/fuzz/crash-<sha1>
# The link lines are the ones in the headers of tests/fuzz/fuzz_*.c.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_CFLAGS  := -std=c17 -D_GNU_SOURCE -g -O1 -Iinclude -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_HDRS    := $(wildcard include/*.h)

.PHONY: fuzz-build

$(FUZZ_DIR):
	mkdir -p $@

FUZZ_PROTOCOL_SRC := daemon/protocol.c daemon/protocol_scan.c daemon/protocol_reply.c daemon/util.c
$(FUZZ_DIR)/fuzz_protocol: tests/fuzz/fuzz_protocol.c $(FUZZ_PROTOCOL_SRC) daemon/protocol_internal.h $(FUZZ_HDRS) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_protocol.c $(FUZZ_PROTOCOL_SRC) \
		$$(pkg-config --cflags --libs json-c)

# every daemon/config*.c file, and what they call (roles.c: the socket roles of listen.tokens)
FUZZ_CONFIG_SRC := $(wildcard daemon/config*.c) daemon/roles.c daemon/util.c daemon/calendar.c daemon/tz.c
$(FUZZ_DIR)/fuzz_config: tests/fuzz/fuzz_config.c $(FUZZ_CONFIG_SRC) daemon/config_internal.h $(FUZZ_HDRS) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_config.c $(FUZZ_CONFIG_SRC) \
		$$(pkg-config --cflags --libs libconfig json-c) -lm

# hotline-pbx's pure core: queue_log lines, AMI messages, its state lines
FUZZ_PBX_SRC := pbx/pbx_event.c pbx/queue_log.c pbx/ql_split.c pbx/ql_legs.c pbx/ql_time.c pbx/ami_map.c pbx/ami_parse.c pbx/visits.c pbx/charset.c daemon/util.c
$(FUZZ_DIR)/fuzz_pbx: tests/fuzz/fuzz_pbx.c $(FUZZ_PBX_SRC) $(FUZZ_HDRS) $(wildcard pbx/*.h) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_pbx.c $(FUZZ_PBX_SRC) \
		$$(pkg-config --cflags --libs json-c)

fuzz-build: $(FUZZ_DIR)/fuzz_protocol $(FUZZ_DIR)/fuzz_config $(FUZZ_DIR)/fuzz_pbx

# protocol inputs are request lines (max_line is 64 KiB; 8 KiB finds the same
# bugs much faster); config inputs are files (4 KiB, see fuzz_config.c).
fuzz: fuzz-build
	@set -e; for t in protocol:8192 config:4096 pbx:8192; do \
		name=$${t%%:*}; maxlen=$${t##*:}; \
		mkdir -p $(FUZZ_DIR)/corpus-$$name; \
		echo "== fuzz_$$name for $(FUZZ_SECONDS) s (corpus $(FUZZ_DIR)/corpus-$$name + tests/fuzz/corpus/$$name)"; \
		$(FUZZ_DIR)/fuzz_$$name -max_total_time=$(FUZZ_SECONDS) -max_len=$$maxlen -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/ \
			$(FUZZ_DIR)/corpus-$$name tests/fuzz/corpus/$$name; \
	done; echo "fuzz: no crash, leak or timeout in $(FUZZ_SECONDS) s per target"
