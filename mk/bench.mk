# mk/bench.mk - `make bench`: benchmarks, written to docs/performance.md.
#
#   make bench                 every measurement (~30 min), docs/performance.md
#   BENCH_QUICK=1 make bench   ~3-minute smoke run, written to var/bench/quick.md
#   BENCH_HISTORY=100000000 make bench   with the opt-in 100M-event history (~1 h more, ~50 GB)
#   make bench-history         the history phase alone at 100 M, shown beside the full run
#
# Builds the daemon and the two benchmark clients with the Makefile's CFLAGS
# and LDLIBS, then runs scripts/bench.sh (its own PostgreSQL on port 5490 in
# var/bench/pg, the daemon, pgbench, the clients, python3 for the capture of
# the limit baseline).  Never part of
# `make check`: timings are printed, not asserted.  See docs/performance.md.

BENCH_B := $(B)/bench

$(BENCH_B):
	mkdir -p $@

$(BENCH_B)/loadgen: tests/bench/loadgen.c tests/bench/loadgen_workload.c tests/bench/loadgen.h | $(BENCH_B)
	$(CC) $(CFLAGS) -o $@ tests/bench/loadgen.c tests/bench/loadgen_workload.c $(LDFLAGS) $(LDLIBS)

$(BENCH_B)/limit: tests/bench/limit.c | $(BENCH_B)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

bench: $(B)/hotlined $(BENCH_B)/loadgen $(BENCH_B)/limit
	HOTLINED_BIN=$(abspath $(B)/hotlined) LOADGEN_BIN=$(abspath $(BENCH_B)/loadgen) \
	LIMIT_BIN=$(abspath $(BENCH_B)/limit) scripts/bench.sh run

# `make bench-history`: the history phase alone at 100 M events (~1 h, ~60 GB
# free disk needed), kept in tests/bench/history-100m.jsonl and shown in
# docs/performance.md beside the full run's 10 M.  Printed, not asserted.
.PHONY: bench-history
bench-history: $(B)/hotlined $(BENCH_B)/loadgen
	HOTLINED_BIN=$(abspath $(B)/hotlined) LOADGEN_BIN=$(abspath $(BENCH_B)/loadgen) \
	scripts/bench.sh history-big $(or $(BENCH_HISTORY),100000000)

# `make bench-pbx`: how fast hotline-pbx imports history (scripts/bench-pbx.sh;
# BENCH_PBX_DAYS / BENCH_PBX_CALLS size it).  Printed, not asserted.
.PHONY: bench-pbx
bench-pbx: $(B)/hotlined $(B)/hotline-pbx
	HOTLINED_BIN=$(abspath $(B)/hotlined) HOTLINE_PBX_BIN=$(abspath $(B)/hotline-pbx) scripts/bench-pbx.sh
# 1,000 SSE clients, alerts while ingest continues (scripts/bench-sse.sh; docs/performance.md "SSE fan-out")
$(BENCH_B)/ssefan: tests/bench/ssefan.c | $(BENCH_B)
	$(CC) $(CFLAGS) -o $@ $<

.PHONY: bench-sse
bench-sse: $(B)/hotlined $(BENCH_B)/ssefan
	HOTLINED_BIN=$(abspath $(B)/hotlined) SSEFAN_BIN=$(abspath $(BENCH_B)/ssefan) scripts/bench-sse.sh
bench: bench-sse
# Several daemons on one database: ingest with 1, 2, 3 daemons and the takeover
# time over repeated kill -9 (scripts/bench-cluster.sh; var/bench/cluster.md).
.PHONY: bench-cluster
bench-cluster: $(B)/hotlined $(BENCH_B)/loadgen
	HOTLINED_BIN=$(abspath $(B)/hotlined) LOADGEN_BIN=$(abspath $(BENCH_B)/loadgen) scripts/bench-cluster.sh

# `make bench-order-cost`: the pure rules' CPU per order.dispatch as a batch grows
# (tests/bench/order_cost.c, no database).  Printed, not asserted.
$(BENCH_B)/order_cost: tests/bench/order_cost.c $(CORE_OBJ) $(wildcard include/*.h) | $(BENCH_B)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDFLAGS) $(CORE_LIBS)

.PHONY: bench-order-cost
bench-order-cost: $(BENCH_B)/order_cost
	$(BENCH_B)/order_cost
