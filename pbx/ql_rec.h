/*
 * ql_rec.h - one queue_log record split into fields (ql_split.c), as
 * queue_log.c maps it.  Private to the bridge's queue_log reader.
 */
#ifndef HL_PBX_QL_REC_H
#define HL_PBX_QL_REC_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx.h"

#define MAX_FIELDS 16
#define MAX_LINE 4096

struct rec {
	hl_ms at;
	const char *uid, *queue, *agent, *event;
	const char *data[MAX_FIELDS];
	int n_data;
};

/* Split buf (modified in place) into r; false when the line is not a queue_log record at all. */
bool pbx_ql_split(char *buf, struct rec *r);
/* Where a second record header "EPOCH|UID|" starts inside a cut line; 0 when none.
 * The search starts after the first record's uniqueid field. */
size_t pbx_ql_embedded(const char *s, size_t len);

#endif
