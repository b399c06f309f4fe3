# mk/dev.mk - developer targets (deps, private PostgreSQL, run, check); filled in by the set-up work.
