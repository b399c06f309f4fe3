/*
 * figures_helpers.h - the check every figures test ends with: the rollup
 * the daemon keeps batch by batch (hotline.figure_rollup) equals the
 * recount from the base rows (hotline.figure_facts), cell by cell.
 *
 * One query, shared by test_admin.c, test_withheld.c and clocks_helpers.h,
 * so that a change of what a cell is (a new metric, a new key) is made once.
 * Run it as hl_sql_text(d, "%s", HL_ROLLUP_DIFF): "same", or every cell
 * where the two differ ("recount-only DAY/DEPT/AGENT METRIC=N; ...").
 */
#ifndef HL_E2E_FIGURES_HELPERS_H
#define HL_E2E_FIGURES_HELPERS_H

#define HL_ROLLUP_DIFF \
	"WITH recount AS (SELECT day, coalesce(department, '') AS department, coalesce(agent, '') AS agent, metric," \
	"  sum(n) AS n FROM hotline.figure_facts GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0)," \
	" rolled AS (SELECT f.day, f.department, f.agent, m.key AS metric, m.value::text::bigint AS n" \
	"  FROM hotline.figure_rollup f, jsonb_each(to_jsonb(f) - 'day' - 'department' - 'agent') m" \
	"  WHERE m.value::text::bigint <> 0)" \
	" SELECT coalesce(string_agg(format('%s %s/%s/%s %s=%s', side, day, department, agent, metric, n), '; '), 'same')" \
	" FROM ((SELECT 'recount-only' AS side, * FROM recount EXCEPT SELECT 'recount-only', * FROM rolled)" \
	"  UNION ALL (SELECT 'rollup-only', * FROM rolled EXCEPT SELECT 'rollup-only', * FROM recount)) x"

#endif
