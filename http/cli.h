/*
** cli.h: the operations subcommands of the ugstore command line (cli.c):
** each takes the arguments after its name and returns the exit status.
*/
#ifndef UG_CLI_H
#define UG_CLI_H

int cli_upgrade(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_import(int argc, char **argv);

#endif
