/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stream slots per credential (firmware/api/ar-api-slots.h): the limit per
 * credential, the room screen's reserve, the local socket. */
#include "ar-api-slots.h"

static const ArSlotPolicy events = {.max_total = 32, .per_owner = 4, .reserved = 8};

/* Admits @owner into @open (a GPtrArray of owners, oldest first) as the hub
 * does; returns FALSE if refused. */
static gboolean
admit(GPtrArray *open, const char *owner, gint *evicted)
{
  gint evict = -2;
  gboolean ok = ar_slot_admit(&events, (const char *const *)open->pdata, open->len, owner, &evict);
  g_assert_cmpint(evict, >=, -1);
  g_assert_cmpint(evict, <, (gint)open->len);
  if (evicted)
    *evicted = evict;
  if (!ok) {
    g_assert_cmpint(evict, ==, -1);
    return FALSE;
  }
  if (evict >= 0)
    g_ptr_array_remove_index(open, (guint)evict);
  g_ptr_array_add(open, (gpointer)owner);
  return TRUE;
}

static guint
count(GPtrArray *open, const char *owner)
{
  guint n = 0;
  for (guint i = 0; i < open->len; i++)
    n += g_strcmp0(open->pdata[i], owner) == 0;
  return n;
}

/* The attack of issue 10: one paired panel opens 31 streams. It keeps 4
 * (its newest), and the room screen still gets in. */
static void
test_one_panel_many_streams(void)
{
  g_autoptr(GPtrArray) open = g_ptr_array_new();
  for (guint i = 0; i < 31; i++) {
    gint evicted;
    g_assert_true(admit(open, "panel:0123456789abcdef", &evicted));
    /* From the fifth on, its own oldest goes. */
    g_assert_cmpint(evicted, ==, i < 4 ? -1 : 0);
  }
  g_assert_cmpuint(open->len, ==, 4);
  g_assert_true(admit(open, "room:aa", NULL));
  g_assert_cmpuint(count(open, "room:aa"), ==, 1);
}

/* Many credentials: the unreserved 24 fill, then others are refused, but
 * the room screen and the local socket are not (and take the reserve). */
static void
test_reserve(void)
{
  g_autoptr(GPtrArray) open = g_ptr_array_new();
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < 6; i++)
    for (guint j = 0; j < 4; j++) {
      char *name = g_strdup_printf("token:%u", i);
      g_ptr_array_add(names, name);
      g_assert_true(admit(open, name, NULL));
    }
  g_assert_cmpuint(open->len, ==, 24);
  g_assert_false(admit(open, "token:other", NULL));
  g_assert_false(admit(open, "session:x", NULL));
  /* A credential at its limit still replaces its own oldest. */
  gint evicted;
  g_assert_true(admit(open, "token:3", &evicted));
  g_assert_cmpint(evicted, >=, 0);
  g_assert_cmpuint(open->len, ==, 24);
  /* The reserve: 4 room sessions and 4 local clients. */
  for (guint i = 0; i < 4; i++)
    g_assert_true(admit(open, i % 2 ? "room:r1" : "room:r2", NULL));
  for (guint i = 0; i < 4; i++)
    g_assert_true(admit(open, NULL, NULL));
  g_assert_cmpuint(open->len, ==, 32);
  /* Full: the room screen still gets in; the oldest LAN stream goes. */
  const char *oldest = open->pdata[0];
  g_assert_true(admit(open, "room:r3", &evicted));
  g_assert_cmpint(evicted, ==, 0);
  g_assert_cmpuint(count(open, oldest), ==, 3);
  g_assert_cmpuint(open->len, ==, 32);
  g_assert_false(admit(open, "panel:p", NULL));
}

/* The room screen has a per-session limit too (a page reloading in a loop
 * does not crowd out the other room sessions); the local socket none. */
static void
test_privileged_limits(void)
{
  g_autoptr(GPtrArray) open = g_ptr_array_new();
  for (guint i = 0; i < 10; i++)
    g_assert_true(admit(open, "room:r1", NULL));
  g_assert_cmpuint(count(open, "room:r1"), ==, 4);
  for (guint i = 0; i < 10; i++)
    g_assert_true(admit(open, NULL, NULL));
  g_assert_cmpuint(count(open, NULL), ==, 10);
  g_assert_true(ar_slot_owner_privileged(NULL));
  g_assert_true(ar_slot_owner_privileged("room:x"));
  g_assert_false(ar_slot_owner_privileged("panel:room:x"));
  g_assert_false(ar_slot_owner_privileged("token:room"));
  g_assert_false(ar_slot_owner_privileged(""));
}

/* The video relay's policy: 4 in all, 2 per credential, 2 for the room. Six
 * streams from one token leave two; the room screen reconnects. */
static void
test_video_policy(void)
{
  const ArSlotPolicy video = {.max_total = 4, .per_owner = 2, .reserved = 2};
  const char *open[4];
  guint n = 0;
  gint evict;
  for (guint i = 0; i < 6; i++) {
    g_assert_true(ar_slot_admit(&video, open, n, "token:t", &evict));
    if (evict >= 0) {
      g_assert_cmpint(evict, ==, 0);
      open[0] = open[1];
      n--;
    }
    open[n++] = "token:t";
  }
  g_assert_cmpuint(n, ==, 2);
  g_assert_false(ar_slot_admit(&video, open, n, "token:u", &evict));
  g_assert_true(ar_slot_admit(&video, open, n, "room:r", &evict));
  g_assert_cmpint(evict, ==, -1);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/api/slots/one-panel-many-streams", test_one_panel_many_streams);
  g_test_add_func("/api/slots/reserve", test_reserve);
  g_test_add_func("/api/slots/privileged-limits", test_privileged_limits);
  g_test_add_func("/api/slots/video-policy", test_video_policy);
  return g_test_run();
}
