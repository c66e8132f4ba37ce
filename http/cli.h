/*
** cli.h: the operations subcommands of the ugstore command line (cli.c):
** each takes the arguments after its name and returns the exit status.
*/
#ifndef UG_CLI_H
#define UG_CLI_H

#include <stddef.h>

int cli_upgrade(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_import(int argc, char **argv);

/* One setting of a config file: `name = value` on line `line`. */
typedef struct {
	const char *name, *value;     /* in the file's text */
	unsigned    line;
} cli_option;

/* Reads the config file path: one setting a line, `name = value` (blanks
** around either are dropped; `#` starts a comment line; a blank line is
** skipped).  *text (new) holds the strings *opts (new) points into.
** Returns 0, or -1 after a message naming the file and line. */
int cli_config_read(const char *path, char **text, cli_option **opts, size_t *n);

#endif
