/* scepd.h -- the daemon's subcommands. */
#ifndef SCEPD_H
#define SCEPD_H

int	cmd_init(int argc, char **argv);
int	cmd_serve(int argc, char **argv);
int	cmd_migrate(int argc, char **argv);	/* migrate.c */

#endif /* !SCEPD_H */
