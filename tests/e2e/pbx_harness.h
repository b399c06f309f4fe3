/*
 * pbx_harness.h - helpers of the hotline-pbx end-to-end suites (pbx_harness.c).
 */
#ifndef HL_PBX_HARNESS_H
#define HL_PBX_HARNESS_H

#include "harness.h"

/* HOTLINE_PBX_BIN, or build/hotline-pbx */
const char *pbx_bin(void);
/* dir/pbx.conf: the test daemon's socket, dir/pbx.state, id prefix "t:",
 * country code 86, national length 11, poll 50 ms, window 64, plus `extra`
 * (libconfig text inside the pbx group; NULL = none). */
void write_pbx_conf(struct hl_d *d, const char *extra);
/* Start hotline-pbx -c dir/pbx.conf a1 a2 a3 a4 (NULL ends the list early);
 * its output is appended to dir/pbx.log. */
pid_t pbx_start(struct hl_d *d, const char *a1, const char *a2, const char *a3, const char *a4);
/* Exit status of the bridge, or -1 if it did not exit within timeout_ms (then killed). */
int pbx_wait(pid_t pid, int timeout_ms);
/* The bridge's output so far (a static buffer: valid until the next call). */
const char *pbx_log_text(struct hl_d *d);
/* tests/pbx/gen-queue-log ARGS > out */
void gen(const char *out, const char *args);
/* Rows in hotline.case_events. */
int64_t events_stored(struct hl_d *d);
/* Wait until hotline.case_events holds n rows (or the timeout); returns the count. */
int64_t await_events(struct hl_d *d, int64_t n, int timeout_ms);

#endif
