/* host/cli: the option parser and help generator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "tg_test.h"

static int32_t flag, count, choice;
static double ratio;
static const char *name;
static uint64_t seed;
static const char *const colours[] = {"red", "green", NULL};

static const struct tg_opt opts[] = {
	{"flag", TG_OPT_FLAG, &flag, NULL, "a flag", 0, 0, NULL},
	{"count", TG_OPT_INT, &count, "N", "a count", 1, 10, NULL},
	{"ratio", TG_OPT_DOUBLE, &ratio, "X", "a ratio", 0, 0, NULL},
	{"name", TG_OPT_STRING, &name, "S", "a name", 0, 0, NULL},
	{"seed", TG_OPT_U64, &seed, "S", "a seed", 0, 0, NULL},
	{"colour", TG_OPT_CHOICE, &choice, NULL, "a colour", 0, 0, colours},
};
static const struct tg_opt_group groups[] = {{"Options", opts, 6}};
static const struct tg_cli_spec spec = {"demo", "demo [options] [ARG]",
					"A demo command for the parser tests.", groups, 1,
					"Example:\n  demo --count 3\n"};

static int parse(int argc, char **argv, const char **pos, int *n_pos, struct tg_error *err)
{
	flag = count = choice = 0;
	ratio = 0;
	name = NULL;
	seed = 0;
	tg_error_clear(err);
	return tg_cli_parse(&spec, argc, argv, pos, 2, n_pos, err);
}

static void test_parse_values(void **state)
{
	(void)state;
	char *argv[] = {"demo", "--flag", "--count", "7", "--ratio=0.5", "--name", "x y",
			"--seed", "18446744073709551615", "--colour", "green", "pos1", "--", "--pos2"};
	const char *pos[2];
	int n_pos;
	struct tg_error err;
	assert_int_equal(parse(14, argv, pos, &n_pos, &err), 0);
	assert_int_equal(flag, 1);
	assert_int_equal(count, 7);
	assert_true(ratio == 0.5);
	assert_string_equal(name, "x y");
	assert_true(seed == 18446744073709551615ULL);
	assert_int_equal(choice, 1);
	assert_int_equal(n_pos, 2);
	assert_string_equal(pos[0], "pos1");
	assert_string_equal(pos[1], "--pos2");
}

static void expect_error(int argc, char **argv, const char *needle)
{
	const char *pos[2];
	int n_pos;
	struct tg_error err;
	int rc = parse(argc, argv, pos, &n_pos, &err);
	assert_int_equal(rc, TG_E_INVAL);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_error(2, (char *[]){"demo", "--cont"}, "unknown option '--cont'; did you mean --count?");
	expect_error(2, (char *[]){"demo", "--zzzzzz"}, "unknown option '--zzzzzz'");
	expect_error(2, (char *[]){"demo", "-c"}, "unknown option '-c'");
	expect_error(2, (char *[]){"demo", "--count"}, "option --count needs a value (N)");
	expect_error(3, (char *[]){"demo", "--count", "abc"}, "option --count: 'abc' is not an integer");
	expect_error(3, (char *[]){"demo", "--count", "11"}, "option --count: 11 is out of range; expected 1..10");
	expect_error(3, (char *[]){"demo", "--count", "3x"}, "'3x' is not an integer");
	expect_error(3, (char *[]){"demo", "--ratio", "nan"}, "'nan' is not a finite number");
	expect_error(3, (char *[]){"demo", "--seed", "-1"}, "'-1' is not a non-negative integer");
	expect_error(3, (char *[]){"demo", "--colour", "blue"}, "'blue' is not one of: red, green");
	expect_error(2, (char *[]){"demo", "--flag=1"}, "option --flag takes no value");
	expect_error(3, (char *[]){"demo", "--name", ""}, "expected S, got an empty value");
	expect_error(4, (char *[]){"demo", "a", "b", "c"}, "unexpected argument 'c'");
	const char *pos[2];
	int n_pos;
	struct tg_error err;
	assert_int_equal(parse(2, (char *[]){"demo", "--help"}, pos, &n_pos, &err), TG_CLI_HELP);
}

static void test_help_lists_every_option(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	tg_cli_help(&spec, f);
	fclose(f);
	const char *needles[] = {"usage: trendgpu-bench demo [options] [ARG]", "--flag", "--count N",
				 "--ratio X", "--colour red|green", "--help", "Example:"};
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		if (!strstr(buf, needles[i]))
			fail_msg("help lacks '%s':\n%s", needles[i], buf);
	free(buf);
}

static void test_param_options_cover_spec(void **state)
{
	(void)state;
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	struct tg_opt o[32];
	int n = tg_cli_param_options(&p, o, 32);
	const char *names[] = {"ema-len", "hma-len", "wma-len", "dema-len", "lsma-len", "kama-len",
			       "ema-w", "hma-w", "wma-w", "dema-w", "lsma-w", "kama-w", "lambda",
			       "decay", "cutout", "robustness", "long-threshold", "short-threshold"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int found = 0;
		for (int k = 0; k < n; k++)
			found |= strcmp(o[k].name, names[i]) == 0;
		if (!found)
			fail_msg("no option --%s", names[i]);
	}
	struct tg_opt_group g = {"p", o, n};
	struct tg_cli_spec s = {"x", "x", "x", &g, 1, NULL};
	char *argv[] = {"x", "--robustness", "wide", "--lambda", "0.05", "--hma-len", "30",
			"--lsma-point", "penultimate", "--strategy-mode"};
	const char *pos[1];
	int n_pos;
	assert_int_equal(tg_cli_parse(&s, 10, argv, pos, 0, &n_pos, NULL), 0);
	assert_int_equal(p.robustness, TG_ROBUST_WIDE);
	assert_true(p.lambda == 0.05);
	assert_int_equal(p.length[TG_FAM_HMA], 30);
	assert_int_equal(p.lsma_point, TG_LSMA_PENULTIMATE);
	assert_int_equal(p.strategy_mode, 1);
}

static void test_command_line(void **state)
{
	(void)state;
	char *argv[] = {"run", "--data", "my prices/", "--ma=exact"};
	char line[256];
	tg_cli_command_line(4, argv, line, sizeof(line));
	assert_string_equal(line, "trendgpu-bench run --data 'my prices/' --ma=exact");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_help_lists_every_option),
		cmocka_unit_test(test_param_options_cover_spec),
		cmocka_unit_test(test_command_line),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
