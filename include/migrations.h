/* migrations.h - the schema migrations embedded in the binary (generated from sql/). */
#ifndef HL_MIGRATIONS_H
#define HL_MIGRATIONS_H
#include <stddef.h>

struct hl_migration {
	int version;      /* NNN of sql/NNN_name.sql */
	const char *name; /* "NNN_name" */
	const char *sql;
};

extern const struct hl_migration hl_migrations[];
extern const size_t hl_n_migrations;

#endif
