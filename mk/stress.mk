# mk/stress.mk - the long chaos run, included by the Makefile (-include mk/stress.mk).
#
#   make stress                         HL_STRESS=5, 3 rounds, then 120 s of fuzzing per target
#   make stress SAN=1                   the same under ASan/UBSan (slower, stricter)
#   make stress STRESS_SCALE=20 STRESS_ROUNDS=1 STRESS_FUZZ=0
#
# tests/stress/stress.sh does the work; output also in var/stress.log.

STRESS_SCALE  ?= 5
STRESS_ROUNDS ?= 3
STRESS_FUZZ   ?= 120
STRESS_BINS   := $(B)/tests/e2e_test_durability $(B)/tests/e2e_test_faults $(B)/tests/e2e_test_limits $(B)/tests/e2e_test_access

stress: deps pg-start all $(STRESS_BINS)
	@B=$(B) MAKE="$(MAKE)" STRESS_SCALE=$(STRESS_SCALE) STRESS_ROUNDS=$(STRESS_ROUNDS) STRESS_FUZZ=$(STRESS_FUZZ) \
		tests/stress/stress.sh
