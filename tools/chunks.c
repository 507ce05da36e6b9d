/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool chunks: create a pool as demo does, print where its objects live
 * (the chunk map: as text, CSV or an SVG picture), free it.  The map comes
 * from xp_mempool_chunk_info(): each chunk's virtual and bus range, its
 * objects, and the bytes no object covers.  doc/cli.md.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenpool/xenpool.h>

#include "cli.h"

#define CHUNKS_POOL_NAME "xenpool-chunks"
/* Longer maps are summarised in text unless --all. */
#define CHUNKS_LISTED 32u
#define PAGE ((uint64_t)XP_PAGE_SIZE)

enum format { F_TEXT, F_CSV, F_SVG };

struct chunks_opts {
	const char *handler;
	const char *args;
	const char *output;
	unsigned int n;
	unsigned int elt_size;
	enum format format;
	int all;
};

struct map {
	struct xp_mempool *mp;
	struct xp_mempool_chunk *c; /* in address order */
	unsigned int *idx;          /* populate index of each */
	unsigned int nchunks;
	unsigned int segments;      /* runs of virtually adjacent chunks */
	uint64_t bytes, pages, objects;
	uint64_t waste, head, tail; /* before first objects, after last */
};

void usage_chunks(FILE *f)
{
	fprintf(f,
		"Usage: %s chunks [OPTIONS]\n"
		"\n"
		"Create a pool as demo does, print its chunk map (where\n"
		"its objects live: each chunk's virtual and bus range,\n"
		"pages, objects, and the bytes the placement rule leaves\n"
		"unused), and free it.\n"
		"\n"
		"  -H, --handler NAME  handler serving the pool (default: the\n"
		"                      process default)\n"
		"  -a, --args ARGS     handler argument string\n"
		"  -n, --count N       objects in the pool, 1-%u (8191)\n"
		"  -e, --elt-size S    bytes per object, 1-%u (64)\n"
		"  -f, --format F      text (the default), csv or svg\n"
		"  -o, --output FILE   write the map there (default: stdout)\n"
		"      --all           list every chunk (text; longer maps are\n"
		"                      summarised from %u chunks)\n"
		"  -h, --help          show this help\n",
		progname, DEMO_MAX_OBJS, DEMO_MAX_ELT_SIZE, CHUNKS_LISTED + 1);
}

/* ---- options ------------------------------------------------------------ */

static int chunks_parse(int argc, char **argv, struct chunks_opts *o)
{
	static const struct option longopts[] = {
		{"handler", required_argument, NULL, 'H'},
		{"args", required_argument, NULL, 'a'},
		{"count", required_argument, NULL, 'n'},
		{"elt-size", required_argument, NULL, 'e'},
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"all", no_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":H:a:n:e:f:o:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'H':
			o->handler = optarg;
			break;
		case 'a':
			o->args = optarg;
			break;
		case 'n':
			if (cmd_number("chunks", "-n", optarg, 1,
				       DEMO_MAX_OBJS, &o->n))
				return EXIT_USAGE;
			break;
		case 'e':
			if (cmd_number("chunks", "--elt-size", optarg, 1,
				       DEMO_MAX_ELT_SIZE, &o->elt_size))
				return EXIT_USAGE;
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				o->format = F_TEXT;
			else if (strcmp(optarg, "csv") == 0)
				o->format = F_CSV;
			else if (strcmp(optarg, "svg") == 0)
				o->format = F_SVG;
			else
				return usage_error("chunks",
						   "--format '%s': expected "
						   "text, csv or svg",
						   optarg);
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'A':
			o->all = 1;
			break;
		case 'h':
			usage_chunks(stdout);
			return 0;
		default:
			return getopt_error("chunks", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("chunks", "unexpected argument '%s'",
				   argv[optind]);
	return PARSE_GO;
}

/* ---- the map ------------------------------------------------------------ */

/* A chunk and its populate index, sorted by address. */
struct indexed {
	struct xp_mempool_chunk c;
	unsigned int idx;
};

static int by_va(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct indexed *)a)->c.va;
	uintptr_t y = (uintptr_t)((const struct indexed *)b)->c.va;

	return x < y ? -1 : x > y;
}

static uint64_t pages_of(const struct xp_mempool_chunk *c)
{
	uintptr_t lo = (uintptr_t)c->va & ~(uintptr_t)(PAGE - 1);
	uintptr_t hi = ((uintptr_t)c->va + c->len + PAGE - 1) &
		       ~(uintptr_t)(PAGE - 1);

	return (hi - lo) / PAGE;
}

static int map_build(struct map *m)
{
	struct indexed *s;
	unsigned int i;

	m->nchunks = xp_mempool_chunk_count(m->mp);
	s = calloc(m->nchunks ? m->nchunks : 1, sizeof(*s));
	m->c = calloc(m->nchunks ? m->nchunks : 1, sizeof(*m->c));
	m->idx = calloc(m->nchunks ? m->nchunks : 1, sizeof(*m->idx));
	if (s == NULL || m->c == NULL || m->idx == NULL) {
		free(s);
		return -ENOMEM;
	}
	for (i = 0; i < m->nchunks; i++) {
		s[i].idx = i;
		if (xp_mempool_chunk_info(m->mp, i, &s[i].c) != 0) {
			free(s);
			return -EPROTO;
		}
	}
	qsort(s, m->nchunks, sizeof(*s), by_va);
	for (i = 0; i < m->nchunks; i++) {
		m->c[i] = s[i].c;
		m->idx[i] = s[i].idx;
	}
	free(s);
	for (i = 0; i < m->nchunks; i++) {
		const struct xp_mempool_chunk *c = &m->c[i];
		uint64_t head = c->nobjs ? (uint64_t)((char *)c->first_obj -
						      (char *)c->va)
					 : 0;

		m->bytes += c->len;
		m->pages += pages_of(c);
		m->objects += c->nobjs;
		m->waste += c->waste;
		m->head += head;
		m->tail += c->waste - head;
		if (i == 0 || (char *)m->c[i - 1].va + m->c[i - 1].len !=
				      (char *)c->va)
			m->segments++;
	}
	return 0;
}

static void map_free(struct map *m)
{
	free(m->c);
	free(m->idx);
}

/* A chunk follows the previous one in bus addresses as well. */
static int bus_follows(const struct xp_mempool_chunk *prev,
		       const struct xp_mempool_chunk *c)
{
	return prev->phys != XP_BAD_PHYS && c->phys != XP_BAD_PHYS &&
	       prev->phys + prev->len == c->phys;
}

/* ---- text ----------------------------------------------------------------- */

static void text_summary(FILE *f, const struct map *m)
{
	const struct xp_mempool *mp = m->mp;

	fprintf(f, "pool      %s: %u objects of %zu bytes, stride %zu\n",
		mp->name, mp->size, mp->elt_size, mp->obj_stride);
	fprintf(f, "handler   %s\n", xp_mempool_handler_name(mp));
	fprintf(f,
		"memory    %llu bytes in %llu pages, %u virtual segments, "
		"%u chunks\n",
		(unsigned long long)m->bytes, (unsigned long long)m->pages,
		m->segments, m->nchunks);
	fprintf(f, "objects   %llu\n", (unsigned long long)m->objects);
	fprintf(f,
		"waste     %llu bytes (%.1f%%): %llu before first objects "
		"(alignment), %llu after last objects (tails too short for "
		"an object, or left once the pool was full)\n",
		(unsigned long long)m->waste,
		m->bytes ? 100.0 * (double)m->waste / (double)m->bytes : 0.0,
		(unsigned long long)m->head,
		(unsigned long long)m->tail);
}

static void text_chunk(FILE *f, const struct map *m, unsigned int i)
{
	const struct xp_mempool_chunk *c = &m->c[i];
	char bus[48];

	if (c->phys == XP_BAD_PHYS)
		snprintf(bus, sizeof(bus), "none");
	else
		snprintf(bus, sizeof(bus), "%#llx-%#llx",
			 (unsigned long long)c->phys,
			 (unsigned long long)(c->phys + c->len - 1));
	fprintf(f, "%6u  %#lx-%#lx  %-31s %6llu %7u %7zu\n", m->idx[i],
		(unsigned long)(uintptr_t)c->va,
		(unsigned long)((uintptr_t)c->va + c->len - 1), bus,
		(unsigned long long)pages_of(c), c->nobjs, c->waste);
}

/* Chunk lengths in pages, by powers of two. */
static void text_histogram(FILE *f, const struct map *m)
{
	unsigned long long count[64] = {0};
	unsigned int i, b, top = 0;

	for (i = 0; i < m->nchunks; i++) {
		uint64_t p = pages_of(&m->c[i]);

		for (b = 0; (2ull << b) <= p; b++)
			;
		count[b]++;
		if (b > top)
			top = b;
	}
	fprintf(f, "chunk lengths (pages: chunks):");
	for (b = 0; b <= top; b++)
		if (count[b] != 0) {
			if (b == 0)
				fprintf(f, " 1: %llu", count[b]);
			else
				fprintf(f, ", %llu-%llu: %llu", 1ull << b,
					(2ull << b) - 1, count[b]);
		}
	fprintf(f, "\n");
}

static void text_map(FILE *f, const struct map *m, int all)
{
	unsigned int i;

	text_summary(f, m);
	if (m->nchunks > CHUNKS_LISTED && !all) {
		text_histogram(f, m);
		fprintf(f, "(%u chunks: --all lists them)\n", m->nchunks);
		return;
	}
	fprintf(f, "%6s  %-29s  %-31s %6s %7s %7s\n", "chunk", "virtual",
		"bus", "pages", "objects", "waste");
	for (i = 0; i < m->nchunks; i++)
		text_chunk(f, m, i);
}

/* ---- CSV ------------------------------------------------------------------ */

static void csv_map(FILE *f, const struct map *m)
{
	unsigned int i;

	fprintf(f, "chunk,va,bytes,bus,pages,objects,first_object,stride,"
		   "elt_size,waste\n");
	for (i = 0; i < m->nchunks; i++) {
		const struct xp_mempool_chunk *c = &m->c[i];

		fprintf(f, "%u,%#lx,%zu,", m->idx[i],
			(unsigned long)(uintptr_t)c->va, c->len);
		if (c->phys == XP_BAD_PHYS)
			fprintf(f, ",");
		else
			fprintf(f, "%#llx,", (unsigned long long)c->phys);
		fprintf(f, "%llu,%u,", (unsigned long long)pages_of(c),
			c->nobjs);
		if (c->nobjs)
			fprintf(f, "%#lx,",
				(unsigned long)(uintptr_t)c->first_obj);
		else
			fprintf(f, ",");
		fprintf(f, "%zu,%zu,%zu\n", m->mp->obj_stride,
			m->mp->elt_size, c->waste);
	}
}

/* ---- SVG ------------------------------------------------------------------ */

/*
 * The pool's pages in address order, row by row, each a cell coloured by
 * its chunk; a boundary between chunks is a bar, red where the addresses
 * jump (another virtual segment), black where only the bus addresses do
 * (a frame discontinuity); each object a tick at its first byte; the bytes
 * no object covers shaded grey; the summary as a legend.  Element classes
 * (page, obj, waste, gap, disc) let a test count them.
 */
#define SVG_COLS 64u
#define SVG_TOP 150u
#define SVG_LEFT 10u

struct svg {
	FILE *f;
	const struct map *m;
	unsigned int cell;
	uint64_t *first_page; /* sequence number of each chunk's first page */
};

/* The x and y of byte @p off of chunk @p i, in the page sequence. */
static void svg_at(const struct svg *s, unsigned int i, uint64_t off,
		   double *x, unsigned int *y)
{
	const struct xp_mempool_chunk *c = &s->m->c[i];
	uint64_t b = ((uintptr_t)c->va & (PAGE - 1)) + off;
	uint64_t page = s->first_page[i] + b / PAGE;

	*x = SVG_LEFT + (double)(page % SVG_COLS) * s->cell +
	     (double)(b % PAGE) * s->cell / (double)PAGE;
	*y = SVG_TOP + (unsigned int)(page / SVG_COLS) * s->cell;
}

/* Shade bytes [lo, hi) of chunk @p i, row by row. */
static void svg_range(const struct svg *s, unsigned int i, uint64_t lo,
		      uint64_t hi)
{
	const struct xp_mempool_chunk *c = &s->m->c[i];
	uint64_t in = (uintptr_t)c->va & (PAGE - 1);

	while (lo < hi) {
		/* Up to the end of the row of the page holding lo. */
		uint64_t page = s->first_page[i] + (in + lo) / PAGE;
		uint64_t row_end = (page / SVG_COLS + 1) * SVG_COLS;
		uint64_t end = (row_end - s->first_page[i]) * PAGE - in;
		double x0, x1;
		unsigned int y0, y1;

		if (end > hi)
			end = hi;
		svg_at(s, i, lo, &x0, &y0);
		svg_at(s, i, end - 1, &x1, &y1);
		fprintf(s->f,
			"<rect class=\"waste\" x=\"%.2f\" y=\"%u\" "
			"width=\"%.2f\" height=\"%u\"/>\n",
			x0, y0, x1 - x0 + (double)s->cell / (double)PAGE,
			s->cell);
		lo = end;
	}
}

static void svg_legend(FILE *f, const struct map *m)
{
	fprintf(f,
		"<text x=\"%u\" y=\"20\" class=\"title\">%s on %s: %u objects "
		"of %zu bytes</text>\n",
		SVG_LEFT, m->mp->name, xp_mempool_handler_name(m->mp),
		m->mp->size, m->mp->elt_size);
	fprintf(f,
		"<text x=\"%u\" y=\"40\">%llu pages, %u virtual segments, %u "
		"chunks, stride %zu bytes</text>\n",
		SVG_LEFT, (unsigned long long)m->pages, m->segments,
		m->nchunks, m->mp->obj_stride);
	fprintf(f,
		"<text x=\"%u\" y=\"60\">waste %llu of %llu bytes (%.1f%%): "
		"%llu alignment, %llu after last objects</text>\n",
		SVG_LEFT, (unsigned long long)m->waste,
		(unsigned long long)m->bytes,
		m->bytes ? 100.0 * (double)m->waste / (double)m->bytes : 0.0,
		(unsigned long long)m->head,
		(unsigned long long)m->tail);
	fprintf(f,
		"<g class=\"key\">"
		"<rect x=\"%u\" y=\"75\" width=\"12\" height=\"12\" "
		"fill=\"hsl(200,60%%,75%%)\"/>"
		"<text x=\"%u\" y=\"86\">a page, coloured by chunk</text>"
		"<rect x=\"%u\" y=\"95\" width=\"2\" height=\"12\" "
		"fill=\"#222\"/>"
		"<text x=\"%u\" y=\"106\">an object's first byte</text>"
		"<rect x=\"%u\" y=\"115\" width=\"12\" height=\"12\" "
		"fill=\"#888\" fill-opacity=\"0.6\"/>"
		"<text x=\"%u\" y=\"126\">bytes no object covers</text>"
		"<rect x=\"%u\" y=\"75\" width=\"3\" height=\"12\" "
		"fill=\"#000\"/>"
		"<text x=\"%u\" y=\"86\">frame discontinuity</text>"
		"<rect x=\"%u\" y=\"95\" width=\"3\" height=\"12\" "
		"fill=\"#d00\"/>"
		"<text x=\"%u\" y=\"106\">virtual gap</text></g>\n",
		SVG_LEFT, SVG_LEFT + 18, SVG_LEFT + 5, SVG_LEFT + 18,
		SVG_LEFT, SVG_LEFT + 18, SVG_LEFT + 260, SVG_LEFT + 268,
		SVG_LEFT + 260, SVG_LEFT + 268);
}

static int svg_map(FILE *f, const struct map *m)
{
	struct svg s = {.f = f, .m = m};
	uint64_t seq = 0, p, rows;
	unsigned int i, k, width;

	s.cell = m->pages > 4096 ? 6 : m->pages > 1024 ? 10 : 14;
	s.first_page = calloc(m->nchunks ? m->nchunks : 1,
			      sizeof(*s.first_page));
	if (s.first_page == NULL)
		return -ENOMEM;
	for (i = 0; i < m->nchunks; i++) {
		s.first_page[i] = seq;
		seq += pages_of(&m->c[i]);
	}
	rows = (seq + SVG_COLS - 1) / SVG_COLS;
	width = SVG_LEFT * 2 + SVG_COLS * s.cell;
	if (width < 560)
		width = 560;
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
		"height=\"%llu\" font-family=\"sans-serif\" "
		"font-size=\"12\">\n"
		"<style>.title{font-weight:bold;font-size:14px}"
		".obj{fill:#222}.waste{fill:#888;fill-opacity:0.6}"
		".gap{fill:#d00}.disc{fill:#000}"
		".page{stroke:#fff;stroke-width:0.5}</style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		width, (unsigned long long)(SVG_TOP + rows * s.cell + 10));
	svg_legend(f, m);
	for (i = 0; i < m->nchunks; i++) {
		const struct xp_mempool_chunk *c = &m->c[i];
		unsigned int hue = (m->idx[i] * 137u) % 360u;

		fprintf(f, "<g class=\"chunk\" data-chunk=\"%u\">\n",
			m->idx[i]);
		for (p = 0; p < pages_of(c); p++) {
			uint64_t n = s.first_page[i] + p;

			fprintf(f,
				"<rect class=\"page\" x=\"%llu\" y=\"%llu\" "
				"width=\"%u\" height=\"%u\" "
				"fill=\"hsl(%u,60%%,75%%)\"/>\n",
				(unsigned long long)(SVG_LEFT +
						     n % SVG_COLS * s.cell),
				(unsigned long long)(SVG_TOP +
						     n / SVG_COLS * s.cell),
				s.cell, s.cell, hue);
		}
		/* The bytes no object covers: before the first object,
		 * after the last one's element (or the whole chunk). */
		if (c->nobjs == 0) {
			svg_range(&s, i, 0, c->len);
		} else {
			uint64_t head = (uint64_t)((char *)c->first_obj -
						   (char *)c->va);

			svg_range(&s, i, 0, head);
			svg_range(&s, i, head + c->len - c->waste, c->len);
		}
		for (k = 0; k < c->nobjs; k++) {
			double x;
			unsigned int y;

			svg_at(&s, i,
			       (uint64_t)((char *)c->first_obj -
					  (char *)c->va) +
				       (uint64_t)k * m->mp->obj_stride,
			       &x, &y);
			fprintf(f,
				"<rect class=\"obj\" x=\"%.2f\" y=\"%u\" "
				"width=\"1\" height=\"%u\"/>\n",
				x, y + s.cell / 4, s.cell / 2);
		}
		if (i > 0) {
			double x;
			unsigned int y;
			int gap = (char *)m->c[i - 1].va + m->c[i - 1].len !=
				  (char *)c->va;

			if (gap || !bus_follows(&m->c[i - 1], c)) {
				svg_at(&s, i, 0, &x, &y);
				fprintf(f,
					"<rect class=\"%s\" x=\"%.2f\" "
					"y=\"%u\" width=\"2\" height=\"%u\"/>\n",
					gap ? "gap" : "disc", x - 1, y,
					s.cell);
			}
		}
		fprintf(f, "</g>\n");
	}
	fprintf(f, "</svg>\n");
	free(s.first_page);
	return 0;
}

/* ---- the command ---------------------------------------------------------- */

int cmd_chunks(int argc, char **argv)
{
	struct chunks_opts o = {.n = 8191, .elt_size = 64};
	struct map m = {0};
	FILE *f = stdout;
	char what[64];
	int ret;

	ret = chunks_parse(argc, argv, &o);
	if (ret != PARSE_GO)
		return ret;
	m.mp = xp_mempool_create_ex(CHUNKS_POOL_NAME, o.n, o.elt_size, 0, 0,
				    NULL, NULL, 0, o.handler, o.args);
	if (m.mp == NULL) {
		ret = errno;
		snprintf(what, sizeof(what), "%u objects of %u bytes", o.n,
			 o.elt_size);
		create_failed("chunks", what, o.handler, o.args, ret);
		return EXIT_FAILURE;
	}
	ret = map_build(&m);
	if (ret == 0 && o.output != NULL) {
		f = fopen(o.output, "w");
		if (f == NULL)
			ret = -errno;
	}
	if (ret == 0) {
		if (o.format == F_TEXT)
			text_map(f, &m, o.all);
		else if (o.format == F_CSV)
			csv_map(f, &m);
		else
			ret = svg_map(f, &m);
	}
	if (f != NULL && ferror(f) && ret == 0)
		ret = -EIO;
	if (f == stdout) {
		if (fflush(stdout) != 0 && ret == 0)
			ret = -errno;
	} else if (f != NULL && fclose(f) != 0 && ret == 0) {
		ret = -errno;
	}
	if (ret != 0)
		fprintf(stderr, "%s chunks: %s%s%s\n", progname,
			o.output ? o.output : "", o.output ? ": " : "",
			strerror(-ret));
	map_free(&m);
	xp_mempool_free(m.mp);
	return ret == 0 ? 0 : EXIT_FAILURE;
}
