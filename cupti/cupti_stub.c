/* The collector when the build has no CUPTI headers: every entry says so. */
#include "tg_cupti.h"

bool tg_cupti_built(void)
{
	return false;
}

int tg_cupti_new(const struct tg_cupti_opts *o, struct tg_cupti **out, struct tg_error *err)
{
	(void)o;
	*out = NULL;
	return TG_ERR(err, TG_E_UNSUPPORTED,
		      "CUPTI: not built in (configure with the CUDA toolkit, TG_WITH_CUPTI=ON)");
}

int tg_cupti_start(struct tg_cupti *c, struct tg_error *err)
{
	(void)c;
	return TG_ERR(err, TG_E_UNSUPPORTED, "CUPTI: not built in");
}

int tg_cupti_stop(struct tg_cupti *c, struct tg_error *err)
{
	(void)c;
	(void)err;
	return 0;
}

int tg_cupti_export(struct tg_cupti *c, struct tg_capture *cap, struct tg_error *err)
{
	(void)c;
	(void)cap;
	(void)err;
	return 0;
}

void tg_cupti_get_stats(const struct tg_cupti *c, struct tg_cupti_stats *st)
{
	(void)c;
	*st = (struct tg_cupti_stats){0};
}

void tg_cupti_free(struct tg_cupti *c)
{
	(void)c;
}
