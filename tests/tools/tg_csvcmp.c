/* tg_csvcmp OURS.csv GOLD.csv [--lsma last|penultimate] [--approx]:
 * compares every column of OURS that GOLD also has (after the mapping
 * below) with the tolerances of spec §17 — signals identical,
 * Average_Signal within 1e-12 absolute, everything else 1e-12 relative,
 * NaN positions identical. --lsma last maps MA_LSMA, LSMA_Signal, LSMA_S
 * and Average_Signal to the *_lastpoint columns; --approx maps MA_* to
 * AMA_*. Prints one line per column that differs; exit 1 on any. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_data.h"

static double *column(struct tg_csv *c, int col, const char *path)
{
	double *v = malloc((size_t)tg_csv_rows(c) * sizeof(double) + 1);
	struct tg_error err;
	if (!v || tg_csv_column(c, col, TG_CSV_ANY, v, &err) < 0) {
		fprintf(stderr, "tg_csvcmp: %s: %s\n", path, v ? err.msg : "out of memory");
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: tg_csvcmp OURS.csv GOLD.csv [--lsma last|penultimate] [--approx]\n");
		return 2;
	}
	int lastpoint = 0, approx = 0;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--lsma") == 0 && i + 1 < argc)
			lastpoint = strcmp(argv[++i], "last") == 0;
		else if (strcmp(argv[i], "--approx") == 0)
			approx = 1;
	}
	struct tg_csv *ours, *gold;
	struct tg_error err;
	if (tg_csv_open(argv[1], &ours, &err) < 0 || tg_csv_open(argv[2], &gold, &err) < 0) {
		fprintf(stderr, "tg_csvcmp: %s\n", err.msg);
		return 2;
	}
	if (tg_csv_rows(ours) != tg_csv_rows(gold)) {
		printf("row count: %d vs %d\n", tg_csv_rows(ours), tg_csv_rows(gold));
		return 1;
	}
	int n = tg_csv_rows(ours), bad_cols = 0, compared = 0;
	for (int c = 0; c < tg_csv_columns(ours); c++) {
		const char *name = tg_csv_column_name(ours, c);
		char gname[128];
		snprintf(gname, sizeof(gname), "%s", name);
		if (lastpoint && (!strcmp(name, "MA_LSMA") || !strcmp(name, "LSMA_Signal") ||
				  !strcmp(name, "LSMA_S") || !strcmp(name, "Average_Signal")))
			snprintf(gname, sizeof(gname), "%s_lastpoint", name);
		if (approx && !strncmp(name, "MA_", 3))
			snprintf(gname, sizeof(gname), "A%s", name);
		int gc = tg_csv_find(gold, gname);
		if (gc < 0 || strcmp(tg_csv_column_name(gold, gc), gname) != 0)
			continue;
		double *a = column(ours, c, argv[1]), *b = column(gold, gc, argv[2]);
		size_t len = strlen(name);
		int is_signal = len > 7 && !strcmp(name + len - 7, "_Signal") && strcmp(name, "Average_Signal");
		int is_avg = !strcmp(name, "Average_Signal");
		int bad = 0, first = -1;
		for (int i = 0; i < n; i++) {
			int ok;
			if (a[i] != a[i] || b[i] != b[i])
				ok = a[i] != a[i] && b[i] != b[i];
			else if (is_signal || !strcmp(name, "bar"))
				ok = a[i] == b[i];
			else if (is_avg)
				ok = fabs(a[i] - b[i]) <= 1e-12;
			else
				ok = fabs(a[i] - b[i]) <= 1e-12 * fmax(fabs(a[i]), fabs(b[i]));
			if (!ok) {
				if (first < 0)
					first = i;
				bad++;
			}
		}
		if (bad) {
			printf("%s vs %s: %d of %d rows differ, first at bar %d (%.17g vs %.17g)\n", name,
			       gname, bad, n, first, a[first], b[first]);
			bad_cols++;
		}
		compared++;
		free(a);
		free(b);
	}
	printf("tg_csvcmp: %d columns compared, %d differ\n", compared, bad_cols);
	tg_csv_free(ours);
	tg_csv_free(gold);
	return bad_cols || compared == 0 ? 1 : 0;
}
