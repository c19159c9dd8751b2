/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-crash.c: the stack of a crash, in the log. A room system crashes where
 * nobody watches: the journal is what an administrator sends us, and a core
 * file needs a debugger and the exact build. The handler uses only what is
 * safe in a signal handler once loaded (write, backtrace, backtrace_symbols_fd:
 * no malloc); backtrace() loads libgcc's unwinder on its first call, so it is
 * called once at install time. Frames of anyroomd itself show as
 * "anyroomd(+0xOFFSET)": `addr2line -f -e anyroomd 0xOFFSET` names them with
 * the build's debug information.
 */
#include "ar-crash.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AR_CRASH_FRAMES 64
#define AR_CRASH_STACK_SIZE (64 * 1024)

static const int ar_crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

static void
ar_crash_write(const char *s)
{
  size_t n = strlen(s);

  while (n > 0) {
    ssize_t w = write(STDERR_FILENO, s, n);
    if (w <= 0)
      return;
    s += w;
    n -= (size_t)w;
  }
}

/* @v in decimal into @buf (at least 21 bytes): no printf in a handler. */
static const char *
ar_crash_decimal(char *buf, size_t size, unsigned long v)
{
  char *p = buf + size - 1;

  *p = '\0';
  do {
    *--p = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0 && p > buf);
  return p;
}

/* @v in hexadecimal, "0x..." into @buf (at least 19 bytes). */
static const char *
ar_crash_hex(char *buf, size_t size, unsigned long v)
{
  char *p = buf + size - 1;

  *p = '\0';
  do {
    *--p = "0123456789abcdef"[v % 16];
    v /= 16;
  } while (v != 0 && p > buf + 2);
  *--p = 'x';
  *--p = '0';
  return p;
}

/* The thread's name says whose it is where the stack does not (a library's
 * own thread: PipeWire's "pipewire-main-loop" or "data-loop.0", GStreamer's
 * streaming threads), and the address a fault touched tells a NULL from a
 * freed object's. */
static void
ar_crash_handler(int sig, siginfo_t *info, void *context)
{
  void *frames[AR_CRASH_FRAMES];
  char num[24];
  char thread[17] = {0};
  const char *name = sigabbrev_np(sig);
  int n;

  (void)context;
  ar_crash_write("anyroomd: fatal signal ");
  ar_crash_write(ar_crash_decimal(num, sizeof num, (unsigned long)sig));
  ar_crash_write(" (SIG");
  ar_crash_write(name != NULL ? name : "?");
  ar_crash_write(") in thread ");
  ar_crash_write(ar_crash_decimal(num, sizeof num, (unsigned long)syscall(SYS_gettid)));
  if (prctl(PR_GET_NAME, thread, 0, 0, 0) == 0 && thread[0] != '\0') {
    ar_crash_write(" (");
    ar_crash_write(thread);
    ar_crash_write(")");
  }
  if (info != NULL && sig != SIGABRT) {
    ar_crash_write(", address ");
    ar_crash_write(ar_crash_hex(num, sizeof num, (unsigned long)info->si_addr));
  }
  ar_crash_write("; its stack:\n");
  n = backtrace(frames, AR_CRASH_FRAMES);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  ar_crash_write("anyroomd: end of the stack\n");
  /* SA_RESETHAND gave the signal its default action back: raised again, it
   * ends the process as it would have (with a core where cores are kept). */
  raise(sig);
}

void
ar_crash_install(void)
{
  static gsize done = 0;
  void *warm[2];
  stack_t alt = {0};
  struct sigaction sa = {0};

  if (!g_once_init_enter(&done))
    return;
  (void)backtrace(warm, G_N_ELEMENTS(warm));
  /* A stack overflow leaves no stack to run the handler on: its own (this
   * thread's; sigaltstack is per thread). */
  alt.ss_sp = g_malloc(AR_CRASH_STACK_SIZE);
  alt.ss_size = AR_CRASH_STACK_SIZE;
  if (sigaltstack(&alt, NULL) != 0)
    g_free(alt.ss_sp);
  sa.sa_sigaction = ar_crash_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  for (guint i = 0; i < G_N_ELEMENTS(ar_crash_signals); i++)
    sigaction(ar_crash_signals[i], &sa, NULL);
  g_once_init_leave(&done, 1);
}
