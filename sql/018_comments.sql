-- 018: psql for administrators (issue 17).
--
-- * Every table, view, column and function of schema hotline that
--   administrators meet gets a COMMENT (\d+ and \df+ in psql show them);
--   tests/sql/admin_test.sql fails when a column that hotline_admin can read
--   has none, so a column added later must come with its comment.
-- * Durations as interval: v_cases gains `held` (the time on hold as an
--   interval) after its last column; held_ms stays for existing queries.
--   The view is otherwise exactly as sql/008 made it (masking unchanged).
-- * hotline.figure_facts, the long-format helper the figure views are built
--   from, is internal: administrators lose SELECT on it (the figure views
--   run with their owner's rights and keep working) and its comment says so.
-- * The report time zone is documented on the figure views and on
--   hotline.report_tz() (docs/admin.md: ALTER DATABASE ... SET hotline.timezone).

------------------------------------------------------- durations as interval

CREATE OR REPLACE VIEW hotline.v_cases WITH (security_barrier) AS
SELECT c.id, hotline.visible_caller(c.caller, cl.confidential) AS caller,
       coalesce(cl.confidential, false) AS confidential,
       c.status, c.opened_at, c.resolved_at, c.closed_at, c.last_contact_at, c.updated_at,
       hotline.visible_text(c.category, cl.confidential) AS category,
       hotline.visible_text(c.priority, cl.confidential) AS priority,
       c.department,
       hotline.visible_text(c.queue, cl.confidential) AS queue,
       hotline.visible_text(c.summary, cl.confidential) AS summary,
       hotline.visible_text(c.resolution, cl.confidential) AS resolution,
       c.transfers, c.reopens, c.on_hold, c.hold_since, c.held_ms, c.policy,
       c.held_ms * interval '1 millisecond' AS held
FROM hotline.cases c LEFT JOIN hotline.callers cl ON cl.caller = c.caller;

------------------------------------------------------- internal helper views

REVOKE SELECT ON hotline.figure_facts FROM hotline_admin;

------------------------------------------------------------------- comments

COMMENT ON TABLE hotline.alerts IS 'Alerts raised by hotlined: overdue call-backs, breaches, repeat callers, transfer loops, order deadlines. Administrators read v_alerts / open_alerts (masked).';
COMMENT ON COLUMN hotline.alerts.id IS 'Alert number.';
COMMENT ON COLUMN hotline.alerts.kind IS 'callback_overdue, due_soon, repeat_caller, transfer_loop, ... (docs/protocol.md).';
COMMENT ON COLUMN hotline.alerts.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.alerts.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.alerts.level IS 'Escalation level: 1 when raised, +1 at each escalation.';
COMMENT ON COLUMN hotline.alerts.raised_at IS 'When the alert was raised.';
COMMENT ON COLUMN hotline.alerts.due_at IS 'The deadline.';
COMMENT ON COLUMN hotline.alerts.escalated_at IS 'When the alert was last escalated; NULL if never.';
COMMENT ON COLUMN hotline.alerts.escalate_at IS 'When the alert escalates next unless acknowledged; NULL once acknowledged or at the last level.';
COMMENT ON COLUMN hotline.alerts.acked_at IS 'When a supervisor acknowledged the alert; NULL while open.';
COMMENT ON COLUMN hotline.alerts.acked_by IS 'Who acknowledged the alert.';
COMMENT ON COLUMN hotline.alerts.detail IS 'What the alert is about, for people.';
COMMENT ON COLUMN hotline.alerts.dedupe_key IS 'Unique key of the breach: each breach is alerted exactly once.';
COMMENT ON COLUMN hotline.alerts.order_id IS 'The work order (hotline.orders.order_id); NULL for a case alert.';
COMMENT ON COLUMN hotline.alerts.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';

COMMENT ON TABLE hotline.callers IS 'Every caller seen, with their confidentiality flag.';
COMMENT ON COLUMN hotline.callers.caller IS 'The caller''s number in E.164 (primary key).';
COMMENT ON COLUMN hotline.callers.confidential IS 'True when the caller asked for confidentiality: their number and free texts are masked for readers outside hotline_privileged.';
COMMENT ON COLUMN hotline.callers.repeat_alerted_at IS 'When a repeat_caller alert was last raised for this caller.';
COMMENT ON COLUMN hotline.callers.first_seen_at IS 'When the caller first called.';

COMMENT ON TABLE hotline.calls IS 'Calls as the PBX reported them.';
COMMENT ON COLUMN hotline.calls.call_id IS 'The PBX''s call id.';
COMMENT ON COLUMN hotline.calls.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.calls.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.calls.state IS 'offered, answered, ended.';
COMMENT ON COLUMN hotline.calls.inbound IS 'True for a call from the caller, false for a call-back.';
COMMENT ON COLUMN hotline.calls.offered_at IS 'When the call was offered to the queue.';
COMMENT ON COLUMN hotline.calls.answered_at IS 'When the call was answered; NULL if not.';
COMMENT ON COLUMN hotline.calls.ended_at IS 'When the call ended.';
COMMENT ON COLUMN hotline.calls.queue IS 'The call-centre queue.';
COMMENT ON COLUMN hotline.calls.agent IS 'The agent (operator) id.';
COMMENT ON COLUMN hotline.calls.outcome IS 'How the call ended (answered, abandoned, voicemail, no_answer, ...).';

COMMENT ON TABLE hotline.case_events IS 'Every event applied to a case, as received (the audit trail).';
COMMENT ON COLUMN hotline.case_events.seq IS 'Sequence number: the run of a clock, or the order of events.';
COMMENT ON COLUMN hotline.case_events.event_id IS 'The sender''s unique event id (duplicates have no second effect).';
COMMENT ON COLUMN hotline.case_events.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.case_events.type IS 'The event type, e.g. call.abandoned, case.resolved.';
COMMENT ON COLUMN hotline.case_events.at IS 'When it happened (timestamptz; shown in the session''s TimeZone).';
COMMENT ON COLUMN hotline.case_events.received_at IS 'When hotlined received it.';
COMMENT ON COLUMN hotline.case_events.description IS 'A short text for people (masked for a confidential caller).';
COMMENT ON COLUMN hotline.case_events.body IS 'The event as received (JSON; the caller masked for a confidential caller in v_case_events).';

COMMENT ON TABLE hotline.cases IS 'Cases: one per caller concern, from first call to closing.';
COMMENT ON COLUMN hotline.cases.id IS 'Case number.';
COMMENT ON COLUMN hotline.cases.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.cases.status IS 'open, resolved, closed or merged.';
COMMENT ON COLUMN hotline.cases.opened_at IS 'When the case was opened.';
COMMENT ON COLUMN hotline.cases.resolved_at IS 'When the case was resolved; NULL if not resolved.';
COMMENT ON COLUMN hotline.cases.closed_at IS 'When the case was closed; NULL if open.';
COMMENT ON COLUMN hotline.cases.last_contact_at IS 'Last contact with the caller.';
COMMENT ON COLUMN hotline.cases.updated_at IS 'When the row was last changed.';
COMMENT ON COLUMN hotline.cases.category IS 'Category of the complaint or request (as sent).';
COMMENT ON COLUMN hotline.cases.priority IS 'Priority (as sent).';
COMMENT ON COLUMN hotline.cases.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.cases.queue IS 'The call-centre queue.';
COMMENT ON COLUMN hotline.cases.summary IS 'Summary of the case (masked for a confidential caller).';
COMMENT ON COLUMN hotline.cases.resolution IS 'How the case was resolved (masked for a confidential caller).';
COMMENT ON COLUMN hotline.cases.transfers IS 'Number of transfers between departments.';
COMMENT ON COLUMN hotline.cases.reopens IS 'Number of times the case was reopened.';
COMMENT ON COLUMN hotline.cases.on_hold IS 'True while the case is on hold (its clocks paused).';
COMMENT ON COLUMN hotline.cases.hold_since IS 'Since when the case is on hold; NULL when not on hold.';
COMMENT ON COLUMN hotline.cases.held_ms IS 'Total time on hold, in milliseconds.';
COMMENT ON COLUMN hotline.cases.policy IS 'The SLA policy that applies (sla.policies in hotlined.conf; "default" otherwise).';
COMMENT ON COLUMN hotline.cases.merged_into IS 'The case this one was merged into; NULL if not merged.';

COMMENT ON TABLE hotline.clock_runs IS 'Every run of a case clock, ended or pending (history of deadlines).';
COMMENT ON COLUMN hotline.clock_runs.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.clock_runs.kind IS 'callback, update, resolution, survey or redispatch.';
COMMENT ON COLUMN hotline.clock_runs.seq IS 'Sequence number: the run of a clock, or the order of events.';
COMMENT ON COLUMN hotline.clock_runs.state IS 'How the run ended (met, breached, stopped) or pending.';
COMMENT ON COLUMN hotline.clock_runs.started_at IS 'When the clock started.';
COMMENT ON COLUMN hotline.clock_runs.due_at IS 'The deadline.';
COMMENT ON COLUMN hotline.clock_runs.allowed_ms IS 'The time allowed, in milliseconds (working time for a calendar clock).';
COMMENT ON COLUMN hotline.clock_runs.met_at IS 'When the obligation was met; NULL if not (yet).';
COMMENT ON COLUMN hotline.clock_runs.breached_at IS 'When the deadline passed unmet; NULL if not (yet).';
COMMENT ON COLUMN hotline.clock_runs.updated_at IS 'When the row was last changed.';

COMMENT ON TABLE hotline.clocks IS 'The current run of each case clock (callback, update, resolution, survey, redispatch).';
COMMENT ON COLUMN hotline.clocks.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.clocks.kind IS 'callback, update, resolution, survey or redispatch.';
COMMENT ON COLUMN hotline.clocks.state IS 'pending, met, breached or stopped.';
COMMENT ON COLUMN hotline.clocks.seq IS 'Sequence number: the run of a clock, or the order of events.';
COMMENT ON COLUMN hotline.clocks.started_at IS 'When the clock started.';
COMMENT ON COLUMN hotline.clocks.due_at IS 'The deadline.';
COMMENT ON COLUMN hotline.clocks.warn_at IS 'When the due_soon warning fires; NULL = no warning.';
COMMENT ON COLUMN hotline.clocks.warned IS 'True once the due_soon warning was given.';
COMMENT ON COLUMN hotline.clocks.allowed_ms IS 'The time allowed, in milliseconds (working time for a calendar clock).';
COMMENT ON COLUMN hotline.clocks.paused_at IS 'When the clock was paused (case on hold); NULL while running.';
COMMENT ON COLUMN hotline.clocks.remaining_ms IS 'Time left when paused, in milliseconds.';
COMMENT ON COLUMN hotline.clocks.warn_remaining_ms IS 'Time left until the warning when paused, in milliseconds.';
COMMENT ON COLUMN hotline.clocks.met_at IS 'When the obligation was met; NULL if not (yet).';
COMMENT ON COLUMN hotline.clocks.breached_at IS 'When the deadline passed unmet; NULL if not (yet).';
COMMENT ON COLUMN hotline.clocks.calendar IS 'The business-hours calendar the clock counts in; NULL = wall-clock time.';

COMMENT ON TABLE hotline.hotspot_cases IS 'Cases counted in hotspot windows (many complaints about one thing).';
COMMENT ON COLUMN hotline.hotspot_cases.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.hotspot_cases.category IS 'Category of the complaint or request (as sent).';
COMMENT ON COLUMN hotline.hotspot_cases.area IS 'The area (district) of a work order.';
COMMENT ON COLUMN hotline.hotspot_cases.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.hotspot_cases.at IS 'When the case entered the hotspot window.';

COMMENT ON TABLE hotline.hotspots IS 'Hotspots alerted, by key.';
COMMENT ON COLUMN hotline.hotspots.key IS 'The hotspot key (category, area, department ... as configured in hotspot.key).';
COMMENT ON COLUMN hotline.hotspots.alerted_at IS 'When the hotspot was last alerted.';

COMMENT ON TABLE hotline.orders IS 'Work orders dispatched to departments, with their sign and reply clocks.';
COMMENT ON COLUMN hotline.orders.order_id IS 'The work order (hotline.orders.order_id); NULL for a case alert.';
COMMENT ON COLUMN hotline.orders.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.orders.order_no IS 'The work order number shown to people.';
COMMENT ON COLUMN hotline.orders.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.orders.status IS 'Current status (see the CHECK constraint for the values).';
COMMENT ON COLUMN hotline.orders.category IS 'Category of the complaint or request (as sent).';
COMMENT ON COLUMN hotline.orders.area IS 'The area (district) of a work order.';
COMMENT ON COLUMN hotline.orders.dispatched_at IS 'When the order was dispatched to the department.';
COMMENT ON COLUMN hotline.orders.signed_at IS 'When the department signed for (accepted) the order; NULL if not yet.';
COMMENT ON COLUMN hotline.orders.signed_by IS 'Who signed for the order.';
COMMENT ON COLUMN hotline.orders.returned_at IS 'When the department returned the order; NULL if not.';
COMMENT ON COLUMN hotline.orders.return_reason IS 'Why the order was returned.';
COMMENT ON COLUMN hotline.orders.replied_at IS 'When the department replied with a result; NULL if not yet.';
COMMENT ON COLUMN hotline.orders.result IS 'The department''s reply.';
COMMENT ON COLUMN hotline.orders.note IS 'A note on the order (masked for a confidential caller).';
COMMENT ON COLUMN hotline.orders.due_at IS 'The deadline.';
COMMENT ON COLUMN hotline.orders.sign_due_at IS 'Deadline for signing for the order.';
COMMENT ON COLUMN hotline.orders.extend_requested_at IS 'When an extension was requested.';
COMMENT ON COLUMN hotline.orders.extend_until IS 'The extended reply deadline; NULL if none.';
COMMENT ON COLUMN hotline.orders.extend_reason IS 'Why an extension was requested.';
COMMENT ON COLUMN hotline.orders.extensions IS 'Extensions granted.';
COMMENT ON COLUMN hotline.orders.extend_rejections IS 'Extensions refused.';
COMMENT ON COLUMN hotline.orders.sign_state IS 'State of the sign clock (pending, met, breached, stopped).';
COMMENT ON COLUMN hotline.orders.sign_seq IS 'Run of the sign clock.';
COMMENT ON COLUMN hotline.orders.sign_allowed_ms IS 'Time allowed for signing, in milliseconds.';
COMMENT ON COLUMN hotline.orders.sign_met_at IS 'When the order was signed in time.';
COMMENT ON COLUMN hotline.orders.sign_breached_at IS 'When the sign deadline passed unmet.';
COMMENT ON COLUMN hotline.orders.reply_state IS 'State of the reply clock (pending, met, breached, stopped).';
COMMENT ON COLUMN hotline.orders.reply_seq IS 'Run of the reply clock.';
COMMENT ON COLUMN hotline.orders.reply_allowed_ms IS 'Time allowed for the reply, in milliseconds.';
COMMENT ON COLUMN hotline.orders.reply_met_at IS 'When the reply came in time.';
COMMENT ON COLUMN hotline.orders.reply_breached_at IS 'When the reply deadline passed unmet.';
COMMENT ON COLUMN hotline.orders.calendar IS 'The business-hours calendar the clock counts in; NULL = wall-clock time.';
COMMENT ON COLUMN hotline.orders.updated_at IS 'When the row was last changed.';

COMMENT ON TABLE hotline.pseudonym_key IS 'The secret salt of caller_ref pseudonyms (one row; owner only).';
COMMENT ON COLUMN hotline.pseudonym_key.one IS 'Always true: makes the table hold one row.';
COMMENT ON COLUMN hotline.pseudonym_key.salt IS 'Secret salt of caller_ref pseudonyms (readable by the owner only).';

COMMENT ON VIEW hotline.agent_daily IS 'Per agent and local day: calls, call-backs, resolutions, surveys. Days in the report time zone (hotline.report_tz(), docs/admin.md).';
COMMENT ON COLUMN hotline.agent_daily.day IS 'The local day in the report time zone (hotline.report_tz(); docs/admin.md).';
COMMENT ON COLUMN hotline.agent_daily.agent IS 'The agent (operator) id.';
COMMENT ON COLUMN hotline.agent_daily.calls_answered IS 'Calls answered by an agent.';
COMMENT ON COLUMN hotline.agent_daily.answered_within_15s IS 'Calls answered within 15 seconds of being offered.';
COMMENT ON COLUMN hotline.agent_daily.callback_attempts IS 'Call-back attempts made.';
COMMENT ON COLUMN hotline.agent_daily.callbacks_reached IS 'Call-back attempts that reached the caller.';
COMMENT ON COLUMN hotline.agent_daily.cases_resolved IS 'Cases resolved.';
COMMENT ON COLUMN hotline.agent_daily.resolved_in_time IS 'Cases resolved within their resolution deadline.';
COMMENT ON COLUMN hotline.agent_daily.surveys IS 'Satisfaction surveys answered.';
COMMENT ON COLUMN hotline.agent_daily.mean_score IS 'Mean survey score.';
COMMENT ON COLUMN hotline.agent_daily.satisfied_share IS 'Share of surveys with a satisfied score (0..1).';
COMMENT ON COLUMN hotline.agent_daily.transfers IS 'Transfers made by the agent.';

COMMENT ON VIEW hotline.case_history IS 'A case''s events in order, for people (masked for confidential callers).';
COMMENT ON COLUMN hotline.case_history.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.case_history.at IS 'When it happened.';
COMMENT ON COLUMN hotline.case_history.type IS 'The event type, e.g. call.abandoned, case.resolved.';
COMMENT ON COLUMN hotline.case_history.event_id IS 'The sender''s unique event id (duplicates have no second effect).';
COMMENT ON COLUMN hotline.case_history.agent IS 'The agent (operator) id.';
COMMENT ON COLUMN hotline.case_history.description IS 'A short text for people (masked for a confidential caller).';
COMMENT ON COLUMN hotline.case_history.seq IS 'Sequence number: the run of a clock, or the order of events.';

COMMENT ON VIEW hotline.daily_figures IS 'The hotline''s figures per local day (report time zone: hotline.report_tz(), docs/admin.md).';
COMMENT ON COLUMN hotline.daily_figures.day IS 'The local day in the report time zone (hotline.report_tz(); docs/admin.md).';
COMMENT ON COLUMN hotline.daily_figures.calls_offered IS 'Calls offered to the hotline.';
COMMENT ON COLUMN hotline.daily_figures.calls_answered IS 'Calls answered by an agent.';
COMMENT ON COLUMN hotline.daily_figures.answered_within_15s IS 'Calls answered within 15 seconds of being offered.';
COMMENT ON COLUMN hotline.daily_figures.calls_abandoned IS 'Calls the caller hung up before an answer.';
COMMENT ON COLUMN hotline.daily_figures.voicemails IS 'Calls that ended in voicemail.';
COMMENT ON COLUMN hotline.daily_figures.answer_rate IS 'calls_answered / calls_offered (0..1).';
COMMENT ON COLUMN hotline.daily_figures.callbacks_owed IS 'Call-backs owed (abandoned calls and voicemails) whose deadline falls on the day.';
COMMENT ON COLUMN hotline.daily_figures.callbacks_in_time IS 'Call-backs made before their deadline.';
COMMENT ON COLUMN hotline.daily_figures.callbacks_late IS 'Call-backs made after their deadline.';
COMMENT ON COLUMN hotline.daily_figures.callbacks_still_owed IS 'Call-backs still owed and past due.';
COMMENT ON COLUMN hotline.daily_figures.callbacks_dropped IS 'Call-backs no longer owed (the caller called back or the case closed).';
COMMENT ON COLUMN hotline.daily_figures.callback_attempts IS 'Call-back attempts made.';
COMMENT ON COLUMN hotline.daily_figures.callbacks_reached IS 'Call-back attempts that reached the caller.';
COMMENT ON COLUMN hotline.daily_figures.cases_opened IS 'Cases opened.';
COMMENT ON COLUMN hotline.daily_figures.cases_resolved IS 'Cases resolved.';
COMMENT ON COLUMN hotline.daily_figures.resolved_in_time IS 'Cases resolved within their resolution deadline.';
COMMENT ON COLUMN hotline.daily_figures.repeat_calls IS 'Calls from callers who called repeatedly within the repeat window.';
COMMENT ON COLUMN hotline.daily_figures.repeat_call_rate IS 'repeat_calls / calls_offered (0..1).';
COMMENT ON COLUMN hotline.daily_figures.surveys IS 'Satisfaction surveys answered.';
COMMENT ON COLUMN hotline.daily_figures.mean_score IS 'Mean survey score.';
COMMENT ON COLUMN hotline.daily_figures.satisfied_share IS 'Share of surveys with a satisfied score (0..1).';
COMMENT ON COLUMN hotline.daily_figures.transfers IS 'Number of transfers between departments.';

COMMENT ON VIEW hotline.department_daily IS 'daily_figures per department and local day (report time zone).';
COMMENT ON COLUMN hotline.department_daily.day IS 'The local day in the report time zone (hotline.report_tz(); docs/admin.md).';
COMMENT ON COLUMN hotline.department_daily.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.department_daily.calls_offered IS 'Calls offered to the hotline.';
COMMENT ON COLUMN hotline.department_daily.calls_answered IS 'Calls answered by an agent.';
COMMENT ON COLUMN hotline.department_daily.answered_within_15s IS 'Calls answered within 15 seconds of being offered.';
COMMENT ON COLUMN hotline.department_daily.calls_abandoned IS 'Calls the caller hung up before an answer.';
COMMENT ON COLUMN hotline.department_daily.voicemails IS 'Calls that ended in voicemail.';
COMMENT ON COLUMN hotline.department_daily.answer_rate IS 'calls_answered / calls_offered (0..1).';
COMMENT ON COLUMN hotline.department_daily.callbacks_owed IS 'Call-backs owed (abandoned calls and voicemails) whose deadline falls on the day.';
COMMENT ON COLUMN hotline.department_daily.callbacks_in_time IS 'Call-backs made before their deadline.';
COMMENT ON COLUMN hotline.department_daily.callbacks_late IS 'Call-backs made after their deadline.';
COMMENT ON COLUMN hotline.department_daily.callbacks_still_owed IS 'Call-backs still owed and past due.';
COMMENT ON COLUMN hotline.department_daily.callbacks_dropped IS 'Call-backs no longer owed (the caller called back or the case closed).';
COMMENT ON COLUMN hotline.department_daily.callback_attempts IS 'Call-back attempts made.';
COMMENT ON COLUMN hotline.department_daily.callbacks_reached IS 'Call-back attempts that reached the caller.';
COMMENT ON COLUMN hotline.department_daily.cases_opened IS 'Cases opened.';
COMMENT ON COLUMN hotline.department_daily.cases_resolved IS 'Cases resolved.';
COMMENT ON COLUMN hotline.department_daily.resolved_in_time IS 'Cases resolved within their resolution deadline.';
COMMENT ON COLUMN hotline.department_daily.repeat_calls IS 'Calls from callers who called repeatedly within the repeat window.';
COMMENT ON COLUMN hotline.department_daily.repeat_call_rate IS 'repeat_calls / calls_offered (0..1).';
COMMENT ON COLUMN hotline.department_daily.surveys IS 'Satisfaction surveys answered.';
COMMENT ON COLUMN hotline.department_daily.mean_score IS 'Mean survey score.';
COMMENT ON COLUMN hotline.department_daily.satisfied_share IS 'Share of surveys with a satisfied score (0..1).';
COMMENT ON COLUMN hotline.department_daily.transfers IS 'Number of transfers between departments.';

COMMENT ON VIEW hotline.department_monthly IS 'Each department''s work-order scores per local month (report time zone).';
COMMENT ON COLUMN hotline.department_monthly.month IS 'The local month (first day) in the report time zone.';
COMMENT ON COLUMN hotline.department_monthly.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.department_monthly.received IS 'Orders received.';
COMMENT ON COLUMN hotline.department_monthly.signed_in_time IS 'Orders signed for in time.';
COMMENT ON COLUMN hotline.department_monthly.replied_in_time IS 'Orders replied to in time.';
COMMENT ON COLUMN hotline.department_monthly.returned IS 'Orders returned.';
COMMENT ON COLUMN hotline.department_monthly.extended IS 'Orders extended.';
COMMENT ON COLUMN hotline.department_monthly.resolved IS 'Orders resolved.';
COMMENT ON COLUMN hotline.department_monthly.surveys IS 'Satisfaction surveys answered.';
COMMENT ON COLUMN hotline.department_monthly.satisfied_share IS 'Share of surveys with a satisfied score (0..1).';
COMMENT ON COLUMN hotline.department_monthly.sign_rate IS 'signed_in_time / received (0..1).';
COMMENT ON COLUMN hotline.department_monthly.reply_rate IS 'replied_in_time / received (0..1).';

COMMENT ON VIEW hotline.figure_facts IS 'INTERNAL: the long-format facts daily_figures, agent_daily and department_daily are built from. Not for administrators (no SELECT); use those views.';
COMMENT ON COLUMN hotline.figure_facts.day IS 'The local day (report time zone).';
COMMENT ON COLUMN hotline.figure_facts.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.figure_facts.agent IS 'The agent, if the fact is an agent''s.';
COMMENT ON COLUMN hotline.figure_facts.department IS 'The department, if any.';
COMMENT ON COLUMN hotline.figure_facts.metric IS 'Which figure the fact counts (internal).';
COMMENT ON COLUMN hotline.figure_facts.n IS 'The count (internal).';

COMMENT ON VIEW hotline.open_alerts IS 'Alerts not yet acknowledged, oldest first, with their age (masked).';
COMMENT ON COLUMN hotline.open_alerts.id IS 'Alert number.';
COMMENT ON COLUMN hotline.open_alerts.kind IS 'callback_overdue, due_soon, repeat_caller, transfer_loop, ... (docs/protocol.md).';
COMMENT ON COLUMN hotline.open_alerts.level IS 'Escalation level: 1 when raised, +1 at each escalation.';
COMMENT ON COLUMN hotline.open_alerts.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.open_alerts.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.open_alerts.case_status IS 'The case''s status.';
COMMENT ON COLUMN hotline.open_alerts.raised_at IS 'When the alert was raised.';
COMMENT ON COLUMN hotline.open_alerts.age IS 'How long the alert has been open (interval).';
COMMENT ON COLUMN hotline.open_alerts.due_at IS 'The deadline.';
COMMENT ON COLUMN hotline.open_alerts.escalated_at IS 'When the alert was last escalated; NULL if never.';
COMMENT ON COLUMN hotline.open_alerts.escalate_at IS 'When the alert escalates next unless acknowledged; NULL once acknowledged or at the last level.';
COMMENT ON COLUMN hotline.open_alerts.detail IS 'What the alert is about, for people.';

COMMENT ON VIEW hotline.overdue_callbacks IS 'Call-backs owed and past their deadline right now (masked).';
COMMENT ON COLUMN hotline.overdue_callbacks.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.overdue_callbacks.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.overdue_callbacks.status IS 'Current status (see the CHECK constraint for the values).';
COMMENT ON COLUMN hotline.overdue_callbacks.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.overdue_callbacks.state IS 'Current state (see the CHECK constraint for the values).';
COMMENT ON COLUMN hotline.overdue_callbacks.owed_since IS 'Since when the call-back is owed.';
COMMENT ON COLUMN hotline.overdue_callbacks.due_at IS 'The deadline.';
COMMENT ON COLUMN hotline.overdue_callbacks.late_by IS 'How far past the deadline (interval).';
COMMENT ON COLUMN hotline.overdue_callbacks.attempts IS 'Call-back attempts so far.';
COMMENT ON COLUMN hotline.overdue_callbacks.last_attempt_at IS 'When the last call-back attempt was made.';
COMMENT ON COLUMN hotline.overdue_callbacks.last_result IS 'Outcome of the last call-back attempt.';
COMMENT ON COLUMN hotline.overdue_callbacks.alert_id IS 'The alert (hotline.alerts.id).';
COMMENT ON COLUMN hotline.overdue_callbacks.alert_level IS 'The alert''s escalation level.';

COMMENT ON VIEW hotline.overdue_orders IS 'Work orders past their sign or reply deadline right now.';
COMMENT ON COLUMN hotline.overdue_orders.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.overdue_orders.order_id IS 'The work order (hotline.orders.order_id); NULL for a case alert.';
COMMENT ON COLUMN hotline.overdue_orders.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.overdue_orders.status IS 'Current status (see the CHECK constraint for the values).';
COMMENT ON COLUMN hotline.overdue_orders.category IS 'Category of the complaint or request (as sent).';
COMMENT ON COLUMN hotline.overdue_orders.area IS 'The area (district) of a work order.';
COMMENT ON COLUMN hotline.overdue_orders.overdue IS 'Which deadline is overdue: sign or reply.';
COMMENT ON COLUMN hotline.overdue_orders.due_at IS 'The deadline.';
COMMENT ON COLUMN hotline.overdue_orders.late_by IS 'How far past the deadline (interval).';
COMMENT ON COLUMN hotline.overdue_orders.dispatched_at IS 'When the order was dispatched to the department.';
COMMENT ON COLUMN hotline.overdue_orders.signed_at IS 'When the department signed for (accepted) the order; NULL if not yet.';
COMMENT ON COLUMN hotline.overdue_orders.extensions IS 'Extensions granted.';
COMMENT ON COLUMN hotline.overdue_orders.urge_level IS 'How often the department has been urged.';

COMMENT ON VIEW hotline.repeat_callers IS 'Callers who called repeatedly in the last 7 days (masked; caller_ref to count them).';
COMMENT ON COLUMN hotline.repeat_callers.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.repeat_callers.caller_ref IS 'A stable pseudonym of the caller (hash with a secret salt): counts and joins callers without showing the number.';
COMMENT ON COLUMN hotline.repeat_callers.confidential IS 'True when the caller asked for confidentiality: their number and free texts are masked for readers outside hotline_privileged.';
COMMENT ON COLUMN hotline.repeat_callers.calls IS 'Calls from this caller in the window.';
COMMENT ON COLUMN hotline.repeat_callers.answered IS 'Of which answered.';
COMMENT ON COLUMN hotline.repeat_callers.unanswered IS 'Of which not answered.';
COMMENT ON COLUMN hotline.repeat_callers.first_call_at IS 'The first call in the window.';
COMMENT ON COLUMN hotline.repeat_callers.last_call_at IS 'The last call in the window.';
COMMENT ON COLUMN hotline.repeat_callers.case_ids IS 'The cases of these calls.';
COMMENT ON COLUMN hotline.repeat_callers.call_ids IS 'The calls.';
COMMENT ON COLUMN hotline.repeat_callers.call_results IS 'The outcomes of these calls.';

COMMENT ON VIEW hotline.v_alerts IS 'hotline.alerts for administrators: a confidential caller masked.';
COMMENT ON COLUMN hotline.v_alerts.id IS 'Alert number.';
COMMENT ON COLUMN hotline.v_alerts.kind IS 'callback_overdue, due_soon, repeat_caller, transfer_loop, ... (docs/protocol.md).';
COMMENT ON COLUMN hotline.v_alerts.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.v_alerts.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.v_alerts.level IS 'Escalation level: 1 when raised, +1 at each escalation.';
COMMENT ON COLUMN hotline.v_alerts.raised_at IS 'When the alert was raised.';
COMMENT ON COLUMN hotline.v_alerts.due_at IS 'The deadline.';
COMMENT ON COLUMN hotline.v_alerts.escalated_at IS 'When the alert was last escalated; NULL if never.';
COMMENT ON COLUMN hotline.v_alerts.escalate_at IS 'When the alert escalates next unless acknowledged; NULL once acknowledged or at the last level.';
COMMENT ON COLUMN hotline.v_alerts.acked_at IS 'When a supervisor acknowledged the alert; NULL while open.';
COMMENT ON COLUMN hotline.v_alerts.acked_by IS 'Who acknowledged the alert.';
COMMENT ON COLUMN hotline.v_alerts.detail IS 'What the alert is about, for people.';
COMMENT ON COLUMN hotline.v_alerts.dedupe_key IS 'Unique key of the breach: each breach is alerted exactly once.';
COMMENT ON COLUMN hotline.v_alerts.order_id IS 'The work order (hotline.orders.order_id); NULL for a case alert.';
COMMENT ON COLUMN hotline.v_alerts.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';

COMMENT ON VIEW hotline.v_callers IS 'hotline.callers for administrators: a confidential caller masked.';
COMMENT ON COLUMN hotline.v_callers.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.v_callers.caller_ref IS 'A stable pseudonym of the caller (hash with a secret salt): counts and joins callers without showing the number.';
COMMENT ON COLUMN hotline.v_callers.confidential IS 'True when the caller asked for confidentiality: their number and free texts are masked for readers outside hotline_privileged.';
COMMENT ON COLUMN hotline.v_callers.repeat_alerted_at IS 'When a repeat_caller alert was last raised for this caller.';
COMMENT ON COLUMN hotline.v_callers.first_seen_at IS 'When the caller first called.';

COMMENT ON VIEW hotline.v_calls IS 'hotline.calls for administrators: a confidential caller masked.';
COMMENT ON COLUMN hotline.v_calls.call_id IS 'The PBX''s call id.';
COMMENT ON COLUMN hotline.v_calls.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.v_calls.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.v_calls.caller_ref IS 'A stable pseudonym of the caller (hash with a secret salt): counts and joins callers without showing the number.';
COMMENT ON COLUMN hotline.v_calls.confidential IS 'True when the caller asked for confidentiality: their number and free texts are masked for readers outside hotline_privileged.';
COMMENT ON COLUMN hotline.v_calls.state IS 'offered, answered, ended.';
COMMENT ON COLUMN hotline.v_calls.inbound IS 'True for a call from the caller, false for a call-back.';
COMMENT ON COLUMN hotline.v_calls.offered_at IS 'When the call was offered to the queue.';
COMMENT ON COLUMN hotline.v_calls.answered_at IS 'When the call was answered; NULL if not.';
COMMENT ON COLUMN hotline.v_calls.ended_at IS 'When the call ended.';
COMMENT ON COLUMN hotline.v_calls.queue IS 'The call-centre queue.';
COMMENT ON COLUMN hotline.v_calls.agent IS 'The agent (operator) id.';
COMMENT ON COLUMN hotline.v_calls.outcome IS 'How the call ended (answered, abandoned, voicemail, no_answer, ...).';

COMMENT ON VIEW hotline.v_case_events IS 'hotline.case_events for administrators: a confidential caller''s number and texts masked.';
COMMENT ON COLUMN hotline.v_case_events.seq IS 'Sequence number: the run of a clock, or the order of events.';
COMMENT ON COLUMN hotline.v_case_events.event_id IS 'The sender''s unique event id (duplicates have no second effect).';
COMMENT ON COLUMN hotline.v_case_events.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.v_case_events.type IS 'The event type, e.g. call.abandoned, case.resolved.';
COMMENT ON COLUMN hotline.v_case_events.at IS 'When it happened (timestamptz; shown in the session''s TimeZone).';
COMMENT ON COLUMN hotline.v_case_events.received_at IS 'When hotlined received it.';
COMMENT ON COLUMN hotline.v_case_events.description IS 'A short text for people (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_case_events.body IS 'The event as received (JSON; the caller masked for a confidential caller in v_case_events).';

COMMENT ON VIEW hotline.v_cases IS 'hotline.cases for administrators: a confidential caller''s number and texts masked; held as an interval.';
COMMENT ON COLUMN hotline.v_cases.id IS 'Case number.';
COMMENT ON COLUMN hotline.v_cases.caller IS 'The caller''s number in E.164 (+86...); masked (+86139****0003) in the v_* views for a confidential caller unless the reader is in hotline_privileged.';
COMMENT ON COLUMN hotline.v_cases.confidential IS 'True when the caller asked for confidentiality: their number and free texts are masked for readers outside hotline_privileged.';
COMMENT ON COLUMN hotline.v_cases.status IS 'open, resolved, closed or merged.';
COMMENT ON COLUMN hotline.v_cases.opened_at IS 'When the case was opened.';
COMMENT ON COLUMN hotline.v_cases.resolved_at IS 'When the case was resolved; NULL if not resolved.';
COMMENT ON COLUMN hotline.v_cases.closed_at IS 'When the case was closed; NULL if open.';
COMMENT ON COLUMN hotline.v_cases.last_contact_at IS 'Last contact with the caller.';
COMMENT ON COLUMN hotline.v_cases.updated_at IS 'When the row was last changed.';
COMMENT ON COLUMN hotline.v_cases.category IS 'Category of the complaint or request (as sent).';
COMMENT ON COLUMN hotline.v_cases.priority IS 'Priority (as sent).';
COMMENT ON COLUMN hotline.v_cases.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.v_cases.queue IS 'The call-centre queue.';
COMMENT ON COLUMN hotline.v_cases.summary IS 'Summary of the case (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_cases.resolution IS 'How the case was resolved (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_cases.transfers IS 'Number of transfers between departments.';
COMMENT ON COLUMN hotline.v_cases.reopens IS 'Number of times the case was reopened.';
COMMENT ON COLUMN hotline.v_cases.on_hold IS 'True while the case is on hold (its clocks paused).';
COMMENT ON COLUMN hotline.v_cases.hold_since IS 'Since when the case is on hold; NULL when not on hold.';
COMMENT ON COLUMN hotline.v_cases.held_ms IS 'Total time on hold, in milliseconds.';
COMMENT ON COLUMN hotline.v_cases.policy IS 'The SLA policy that applies (sla.policies in hotlined.conf; "default" otherwise).';
COMMENT ON COLUMN hotline.v_cases.held IS 'Total time on hold (interval).';

COMMENT ON VIEW hotline.v_orders IS 'hotline.orders for administrators: texts of a confidential caller masked.';
COMMENT ON COLUMN hotline.v_orders.order_id IS 'The work order (hotline.orders.order_id); NULL for a case alert.';
COMMENT ON COLUMN hotline.v_orders.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.v_orders.order_no IS 'The work order number shown to people.';
COMMENT ON COLUMN hotline.v_orders.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.v_orders.status IS 'Current status (see the CHECK constraint for the values).';
COMMENT ON COLUMN hotline.v_orders.category IS 'Category of the complaint or request (as sent).';
COMMENT ON COLUMN hotline.v_orders.area IS 'The area (district) of a work order.';
COMMENT ON COLUMN hotline.v_orders.dispatched_at IS 'When the order was dispatched to the department.';
COMMENT ON COLUMN hotline.v_orders.sign_due_at IS 'Deadline for signing for the order.';
COMMENT ON COLUMN hotline.v_orders.signed_at IS 'When the department signed for (accepted) the order; NULL if not yet.';
COMMENT ON COLUMN hotline.v_orders.signed_by IS 'Who signed for the order.';
COMMENT ON COLUMN hotline.v_orders.due_at IS 'The deadline.';
COMMENT ON COLUMN hotline.v_orders.replied_at IS 'When the department replied with a result; NULL if not yet.';
COMMENT ON COLUMN hotline.v_orders.result IS 'The department''s reply.';
COMMENT ON COLUMN hotline.v_orders.returned_at IS 'When the department returned the order; NULL if not.';
COMMENT ON COLUMN hotline.v_orders.return_reason IS 'Why the order was returned.';
COMMENT ON COLUMN hotline.v_orders.extensions IS 'Extensions granted.';
COMMENT ON COLUMN hotline.v_orders.extend_until IS 'The extended reply deadline; NULL if none.';
COMMENT ON COLUMN hotline.v_orders.extend_reason IS 'Why an extension was requested.';
COMMENT ON COLUMN hotline.v_orders.sign_state IS 'State of the sign clock (pending, met, breached, stopped).';
COMMENT ON COLUMN hotline.v_orders.reply_state IS 'State of the reply clock (pending, met, breached, stopped).';
COMMENT ON COLUMN hotline.v_orders.note IS 'A note on the order (masked for a confidential caller).';

-- functions

COMMENT ON FUNCTION hotline.ms(timestamp with time zone) IS 'Milliseconds since the Unix epoch of a timestamptz (the daemon''s wire unit).';
COMMENT ON FUNCTION hotline.from_ms(bigint) IS 'timestamptz from milliseconds since the Unix epoch.';
COMMENT ON FUNCTION hotline.iso(timestamp with time zone) IS 'ISO 8601 text in UTC with milliseconds and Z, as on the wire.';
COMMENT ON FUNCTION hotline.alert_json(hotline.alerts) IS 'An alert as JSON, as pushed to subscribers, NOTIFY and webhooks (unmasked; the daemon masks).';
COMMENT ON FUNCTION hotline.case_json(bigint) IS 'A case as JSON, as the case.get request answers it.';
COMMENT ON FUNCTION hotline.mask_phone(text) IS 'A phone number masked for readers: +86139****0003.';
COMMENT ON FUNCTION hotline.sees_confidential() IS 'True when the current user is in hotline_privileged (sees confidential callers whole).';
COMMENT ON FUNCTION hotline.visible_caller(text,boolean) IS 'The number as the current user may see it: masked when confidential and not privileged.';
COMMENT ON FUNCTION hotline.visible_caller(hotline.callers) IS 'The caller''s number as the current user may see it.';
COMMENT ON FUNCTION hotline.visible_text(text,boolean) IS 'A free text as the current user may see it: masked when the caller is confidential and the user not privileged.';
COMMENT ON FUNCTION hotline.visible_body(jsonb,boolean) IS 'An event body as the current user may see it (numbers and texts masked for a confidential caller).';
COMMENT ON FUNCTION hotline.ack_alert(bigint,text) IS 'Acknowledge an alert from SQL: hotline.ack_alert(alert_id, who). Stops its escalation; the daemon is told (NOTIFY hotline_alert_ack).';
COMMENT ON FUNCTION hotline.report_tz() IS 'The report time zone of the figures: the setting hotline.timezone, else the session TimeZone (docs/admin.md).';
COMMENT ON FUNCTION hotline.local_day(timestamp with time zone) IS 'The local calendar day of a moment in the report time zone (hotline.report_tz()).';
COMMENT ON FUNCTION hotline.describe_event(text,jsonb) IS 'The short text for people that case_history shows for an event.';
COMMENT ON FUNCTION hotline.record_clock_run() IS 'Trigger function: copies each clock run into hotline.clock_runs.';
COMMENT ON FUNCTION hotline.repeat_callers_between(timestamp with time zone,timestamp with time zone,integer) IS 'Callers with at least N calls between two moments (masked), like repeat_callers for any window.';
COMMENT ON FUNCTION hotline.scrub_body(jsonb,text) IS 'An event body with the caller''s number and texts removed (anonymisation).';
COMMENT ON FUNCTION hotline.anonymize_closed(integer,integer) IS 'Retention: anonymise up to N cases closed more than D days ago; returns how many (docs/admin.md).';
COMMENT ON PROCEDURE hotline.anonymize_closed_all(integer,integer) IS 'Retention: anonymise every case closed more than D days ago, in chunks.';
COMMENT ON FUNCTION hotline.alert_notify_json(hotline.alerts) IS 'An alert as NOTIFY hotline_alert carries it (masked for a confidential caller).';
COMMENT ON FUNCTION hotline.notify_payload(text,text) IS 'The NOTIFY/webhook text of an alert: the caller masked when confidential.';
COMMENT ON FUNCTION hotline.mask_text(text) IS 'A free text with every phone number in it masked.';
COMMENT ON FUNCTION hotline.mask_json(jsonb,text) IS 'A JSON value with the given number and every phone number in its texts masked.';
COMMENT ON FUNCTION hotline.visible_key(text,text,boolean) IS 'A hotspot key as the current user may see it.';
COMMENT ON FUNCTION hotline.order_json(hotline.orders) IS 'A work order as JSON, as case.get lists it.';
