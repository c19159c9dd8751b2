/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A crash leaves its stack in the log (ar-crash.c), with the thread's name
 * and the address it touched: a NULL write, a stack overflow in the main
 * thread, an abort, and a NULL write in another (named) thread,
 * each in a child process (no core file: RLIMIT_CORE 0), which still dies of
 * its signal after the stack is written. */
#include <glib.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "ar-crash.h"

static void
prepare(void)
{
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  ar_crash_install();
}

static int
null_write(void)
{
  volatile int *volatile p = NULL;
  *p = 1;
  return *p;
}

static volatile int forever = 1;

static int
deep(int n)
{
  volatile char pad[4096];
  pad[0] = (char)n;
  pad[sizeof pad - 1] = pad[0];
  return forever ? deep(n + 1) + pad[sizeof pad - 1] : 0;
}

static gpointer
thread_null_write(gpointer data)
{
  (void)data;
  null_write();
  return NULL;
}

static void
test_segv(void)
{
  if (g_test_subprocess()) {
    prepare();
    null_write();
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  /* The program's own frames as offsets (addr2line names them), libraries'
   * by their exported symbols. */
  g_test_trap_assert_stderr("anyroomd: fatal signal 11 (SIGSEGV) in thread * (test-crash), address "
                            "0x0; its stack:\n"
                            "*test-crash(+0x*)[0x*]\n*libc.so.6(__libc_start_main+0x*"
                            "anyroomd: end of the stack\n");
}

static void
test_overflow(void)
{
  if (g_test_subprocess()) {
    prepare();
    deep(0);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr(
      "anyroomd: fatal signal 11 (SIGSEGV)*test-crash(+0x*anyroomd: end of the stack\n");
}

static void
test_abort(void)
{
  if (g_test_subprocess()) {
    prepare();
    abort();
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr(
      "anyroomd: fatal signal 6 (SIGABRT) in thread * (test-crash); its stack:\n"
      "*libc.so.6(abort+0x*test-crash(+0x*end of the stack\n");
}

static void
test_thread(void)
{
  if (g_test_subprocess()) {
    prepare();
    g_thread_join(g_thread_new("crasher", thread_null_write, NULL));
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr(
      "anyroomd: fatal signal 11 (SIGSEGV) in thread * (crasher), address 0x0; its stack:\n"
      "*test-crash(+0x*libglib-2.0.so*end of the stack\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/crash/segv", test_segv);
  g_test_add_func("/crash/overflow", test_overflow);
  g_test_add_func("/crash/abort", test_abort);
  g_test_add_func("/crash/thread", test_thread);
  return g_test_run();
}
