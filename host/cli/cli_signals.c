/* The signals that ask a command to stop: SIGINT (Ctrl-C), SIGTERM (timeout,
 * CI runners, systemd, container runtimes) and SIGHUP (a closed terminal). */
#include <signal.h>
#include <string.h>

#include "cli_internal.h"

const int tg_cli_stop_signals[TG_CLI_STOP_SIGNALS] = {SIGINT, SIGTERM, SIGHUP};

void tg_cli_catch_stop_signals(void (*handler)(int, siginfo_t *, void *),
			       struct sigaction old[TG_CLI_STOP_SIGNALS])
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < TG_CLI_STOP_SIGNALS; i++)
		sigaddset(&sa.sa_mask, tg_cli_stop_signals[i]);
	for (int i = 0; i < TG_CLI_STOP_SIGNALS; i++)
		sigaction(tg_cli_stop_signals[i], &sa, &old[i]);
}

void tg_cli_restore_stop_signals(const struct sigaction old[TG_CLI_STOP_SIGNALS])
{
	for (int i = 0; i < TG_CLI_STOP_SIGNALS; i++)
		sigaction(tg_cli_stop_signals[i], &old[i], NULL);
}

void tg_cli_default_stop_signals(void)
{
	/* sigaction is async-signal-safe: handlers call this */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int i = 0; i < TG_CLI_STOP_SIGNALS; i++)
		sigaction(tg_cli_stop_signals[i], &dfl, NULL);
}

const char *tg_cli_signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP"
									      : "a signal";
}
