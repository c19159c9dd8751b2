/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-ical.c: libical opened on first use (ar-ical.h). */
#define AR_ICAL_NO_REDIRECT
#include "ar-ical.h"

#include <dlfcn.h>

#include "ar-cal-build-config.h"
#include "ar-cal.h"

const ArIcal *ar_ical_fns;

typedef struct {
  ArIcal fns;
  char *error; /* why it could not be loaded, or NULL */
} ArIcalLoad;

static gpointer
ar_ical_open(gpointer unused)
{
  (void)unused;
  ArIcalLoad *l = g_new0(ArIcalLoad, 1);
  /* Kept open for the process's life: libical keeps state (zones, its error setting). */
  void *lib = dlopen(AR_LIBICAL_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    l->error =
        g_strdup_printf("calendar support (%s) cannot be loaded: %s", AR_LIBICAL_SONAME, dlerror());
    return l;
  }
#define AR_ICAL_SYM(name)                                                                          \
  if (l->error == NULL && (l->fns.name = (__typeof__(name) *)dlsym(lib, #name)) == NULL)           \
    l->error = g_strdup_printf("calendar support (%s) cannot be loaded: no %s", AR_LIBICAL_SONAME, \
                               #name);
  AR_ICAL_FUNCS(AR_ICAL_SYM)
#undef AR_ICAL_SYM
  if (l->error != NULL)
    return l; /* the library stays open: harmless, and dlclose() of ICU is not */
  /* errors are returned, never abort()ed on */
  l->fns.icalerror_set_errors_are_fatal(0);
  g_atomic_pointer_set(&ar_ical_fns, &l->fns);
  return l;
}

const ArIcal *
ar_ical_load(GError **error)
{
  static GOnce once = G_ONCE_INIT;
  const ArIcalLoad *l = g_once(&once, ar_ical_open, NULL);
  if (l->error != NULL) {
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_UNAVAILABLE, l->error);
    return NULL;
  }
  return &l->fns;
}
