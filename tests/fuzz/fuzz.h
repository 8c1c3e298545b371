/* The fuzz targets (libFuzzer's entry point): each reads one kind of file
 * a user hands the tool, and when the reader accepts it, writes it back and
 * reads that again, which must succeed. Built with libFuzzer under
 * TG_FUZZ=ON (scripts/fuzz.sh), and with replay.c as a plain program that
 * runs the seed corpus and every crash ever found (ctest, label unit). */
#ifndef TG_FUZZ_H
#define TG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: the input is a finding. */
#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                      \
		}                                                                     \
	} while (0)

#endif
