/* SPDX-License-Identifier: BSD-3-Clause */
/* What the commands of the xenpool tool share (tools/xenpool.c). */
#ifndef XENPOOL_TOOLS_CLI_H
#define XENPOOL_TOOLS_CLI_H

#include <stdio.h>

#include <xenpool/common.h>

#define EXIT_USAGE 2
/* Not an exit status: option parsing says "go on". */
#define PARSE_GO (-1)

/* Limits of the pool-making commands' knobs: what makes sense for a
 * demonstration. */
#define DEMO_MAX_OBJS	  (1u << 24)
#define DEMO_MAX_ELT_SIZE (1u << 20)

extern const char *progname;

/* Print "xenpool [cmd]: message" and a hint; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) XP_PRINTF(2, 3);

/* A decimal option value in [min, max], or the usage error. */
int cmd_number(const char *cmd, const char *opt, const char *s,
	       unsigned int min, unsigned int max, unsigned int *out);

/* getopt_long() returned '?' (unknown option) or ':' (missing argument). */
int getopt_error(const char *cmd, int c, char **argv);

/* A pool the library would not create: what was asked, and why. */
void create_failed(const char *cmd, const char *what, const char *handler,
		   const char *args, int err);

/* xenpool chunks (tools/chunks.c). */
void usage_chunks(FILE *f);
int cmd_chunks(int argc, char **argv);

#endif /* XENPOOL_TOOLS_CLI_H */
