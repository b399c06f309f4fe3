/*
 * store_due_sql.h - the probe that lets due clocks run ahead of the queue.
 *
 * A batch of clocks that fell due runs before requests queued earlier
 * (store.c, the due lane) only if none of those requests may touch a due
 * clock's case.  Requests that name their case are checked in the core
 * (batch_keys.c); this statement answers for the rest, in the batch's load:
 * which of the due cases ($1) a queued request reaches through its caller
 * ($2: the caller's open case), its call ($3), its work order ($4), or a case
 * it names that was merged into the due case ($5).  A due case that is
 * itself merged away is returned too (the rules decide it in queue order).
 * The rows returned are the clocks that wait for their turn in the queue.
 */
#ifndef HL_STORE_DUE_SQL_H
#define HL_STORE_DUE_SQL_H

static const char SQL_DUE_CONFLICTS[] =
	"SELECT c.id FROM hotline.cases c"
	" WHERE c.id = ANY (ARRAY(SELECT x::bigint FROM jsonb_array_elements_text($1::jsonb) x))"
	"   AND (c.merged_into IS NOT NULL"
	"     OR c.caller = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))"
	"     OR c.id IN (SELECT l.case_id FROM hotline.calls l"
	"                 WHERE l.call_id = ANY (ARRAY(SELECT jsonb_array_elements_text($3::jsonb))))"
	"     OR c.id IN (SELECT o.case_id FROM hotline.orders o"
	"                 WHERE o.order_id = ANY (ARRAY(SELECT jsonb_array_elements_text($4::jsonb))))"
	"     OR c.id IN (SELECT m.merged_into FROM hotline.cases m"
	"                 WHERE m.id = ANY (ARRAY(SELECT x::bigint FROM jsonb_array_elements_text($5::jsonb) x))))";

#endif
