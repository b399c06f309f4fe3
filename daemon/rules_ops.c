/*
 * rules_ops.c - what the order rules (orders.c) may do to a case: the case
 * rules' effects behind a small interface of their own (rules_internal.h,
 * struct hl_rules_op), so that orders.c never reaches into an event's
 * context.  Each op copies the description being written in and out: the
 * effect appends its clause to it, as it does for a case event.  Pure.
 */
#include <stdarg.h>
#include <string.h>

#include "rules.h"
#include "rules_internal.h"

static struct hl_rules_ctx op_ctx(struct hl_rules_op *op)
{
	struct hl_rules_ctx x = {.w = op->w, .cfg = op->env->cfg, .now = op->env->now, .at = op->at, .ev = op->ev};
	memcpy(x.text.buf, op->text, sizeof x.text.buf);
	x.text.len = op->len;
	return x;
}

static void op_done(struct hl_rules_op *op, const struct hl_rules_ctx *x)
{
	memcpy(op->text, x->text.buf, sizeof op->text);
	op->len = x->text.len;
}

void hl_rules_op_note(struct hl_rules_op *op, const char *fmt, ...)
{
	struct hl_rules_ctx x = op_ctx(op);
	if (x.text.len)
		hl_rules_say(&x.text, "; ");
	va_list ap;
	va_start(ap, fmt);
	hl_rules_vsay(&x.text, fmt, ap);
	va_end(ap);
	op_done(op, &x);
}

void hl_rules_op_owe_callback(struct hl_rules_op *op, struct hl_case *c)
{
	struct hl_rules_ctx x = op_ctx(op);
	hl_rules_owe_callback(&x, c);
	op_done(op, &x);
}

void hl_rules_op_resolve(struct hl_rules_op *op, struct hl_case *c)
{
	struct hl_rules_ctx x = op_ctx(op);
	hl_rules_resolve(&x, c);
	op_done(op, &x);
}

bool hl_rules_op_arm(struct hl_rules_op *op, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_rules_ctx x = op_ctx(op);
	bool armed = hl_rules_clock_arm(&x, c, kind, "armed");
	op_done(op, &x);
	return armed;
}

void hl_rules_op_meet(struct hl_rules_op *op, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_rules_ctx x = op_ctx(op);
	hl_rules_clock_meet(&x, c, kind);
	op_done(op, &x);
}

void hl_rules_op_stop(struct hl_rules_op *op, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_rules_ctx x = op_ctx(op);
	hl_rules_clock_stop(&x, c, kind);
	op_done(op, &x);
}

void hl_rules_op_classify(struct hl_rules_op *op, struct hl_case *c)
{
	struct hl_rules_ctx x = op_ctx(op);
	hl_rules_classify(&x, c);
	op_done(op, &x);
}

struct hl_alert *hl_rules_raise(struct hl_world *w, const char *kind, const struct hl_case *c, hl_ms raised_at,
                                const char *dedupe, const char *detail)
{
	return hl_rules_raise_alert(w, kind, c, c ? c->caller : NULL, raised_at, dedupe, detail);
}
