/* Ranks as threads of one process, for tests: a tg_comm table whose
 * collectives meet at a barrier (no timeouts: a test that leaves a rank
 * out hangs, so every test gives every rank the same calls). */
#ifndef TG_TEST_COMM_H
#define TG_TEST_COMM_H

#include "tg_comm.h"

struct tg_test_world;

struct tg_test_world *tg_test_world_new(int size);
void tg_test_world_free(struct tg_test_world *w);
/* rank's comm (host "test-host", one host: local rank = rank) */
void tg_test_world_comm(struct tg_test_world *w, int rank, struct tg_comm *out);
/* the code an abort was asked with, 0 when none */
int tg_test_world_aborted(const struct tg_test_world *w);

#endif
