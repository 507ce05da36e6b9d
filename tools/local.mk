# SPDX-License-Identifier: BSD-3-Clause
bin_PROGRAMS += tools/xenpool
tools_xenpool_SOURCES = tools/xenpool.c tools/cli.h tools/chunks.c
tools_xenpool_LDADD = src/libxenpool.la
