/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-peer-network.c: liveness and network changes on a real call, over the
 * call harness of peer-harness.c (part of test-media-peer): a dead remote
 * peer, a short UDP blackout, the room's addresses going away, and mDNS
 * (".local") host candidates. The nftables and address tests need the
 * private namespace of tests/lab/in-netns.sh.
 */
#include <gio/gio.h>
#include <string.h>

#include "peer-harness.h"

/* ---- mDNS host candidates (what browsers send: "<uuid>.local") ---- */

/* The system's resolver stands in for nss-mdns/avahi, which cannot run in the
 * test's private namespace (no system bus, no multicast daemon): a GResolver
 * that knows the names this test made up (or none), installed as the default
 * one, which webrtcbin asks for ".local" candidates. */
typedef struct {
  GResolver parent;
} TestResolver;
typedef struct {
  GResolverClass parent_class;
} TestResolverClass;
G_DEFINE_TYPE(TestResolver, test_resolver, G_TYPE_RESOLVER)

static GHashTable *mdns_names; /* "<uuid>.local" -> address; NULL: nothing resolves */
static guint mdns_lookups;

static GList *
test_resolver_lookup(GResolver *r, const char *name, GCancellable *c, GError **error)
{
  const char *address = mdns_names != NULL ? g_hash_table_lookup(mdns_names, name) : NULL;

  mdns_lookups++;
  if (address == NULL) {
    g_set_error(error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "no mDNS answer for %s", name);
    return NULL;
  }
  return g_list_append(NULL, g_inet_address_new_from_string(address));
}

static void
test_resolver_lookup_async(GResolver *r, const char *name, GCancellable *c, GAsyncReadyCallback cb,
                           gpointer data)
{
  g_autoptr(GTask) task = g_task_new(r, c, cb, data);
  GError *error = NULL;
  GList *list = test_resolver_lookup(r, name, c, &error);

  if (list != NULL)
    g_task_return_pointer(task, list, (GDestroyNotify)g_resolver_free_addresses);
  else
    g_task_return_error(task, error);
}

static GList *
test_resolver_lookup_finish(GResolver *r, GAsyncResult *res, GError **error)
{
  return g_task_propagate_pointer(G_TASK(res), error);
}

static void
test_resolver_class_init(TestResolverClass *klass)
{
  GResolverClass *rc = G_RESOLVER_CLASS(klass);

  rc->lookup_by_name = test_resolver_lookup;
  rc->lookup_by_name_async = test_resolver_lookup_async;
  rc->lookup_by_name_finish = test_resolver_lookup_finish;
}

static void
test_resolver_init(TestResolver *r)
{
}

/* "candidate:F 1 udp P 10.97.0.2 5000 typ host ..." -> "... <uuid>.local 5000 typ host ...". */
static char *
mdns_rewrite(Call *call, const char *candidate)
{
  g_auto(GStrv) f = g_strsplit(candidate, " ", -1);
  g_autofree char *uuid = NULL;

  if (g_strv_length(f) < 8 || !g_str_equal(f[7], "host"))
    return g_strdup(candidate);
  uuid = g_uuid_string_random();
  g_autofree char *name = g_strdup_printf("%s.local", uuid);
  if (mdns_names != NULL)
    g_hash_table_insert(mdns_names, g_strdup(name), g_strdup(f[4]));
  g_free(f[4]);
  f[4] = g_steal_pointer(&name);
  call->n_mdns++;
  return g_strjoinv(" ", f);
}

/* ---- dead-peer detection ---- */

/* Drops (or stops dropping) every UDP packet of the private namespace the
 * test runs in (tests/lab/in-netns.sh sets AR_NETNS): a total blackout. */
static gboolean
netns_block_udp(gboolean block)
{
  const char *add[] = {"nft",
                       "add table inet ar_test_liveness; "
                       "add chain inet ar_test_liveness out "
                       "{ type filter hook output priority 0; policy accept; }; "
                       "add rule inet ar_test_liveness out meta l4proto udp drop",
                       NULL};
  const char *del[] = {"nft", "delete table inet ar_test_liveness", NULL};
  g_autoptr(GError) error = NULL;
  gint status = 0;

  if (!g_spawn_sync(NULL, (char **)(block ? add : del), NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                    NULL, &status, &error) ||
      !g_spawn_check_wait_status(status, &error)) {
    g_test_fail_printf("nft (%s UDP): %s", block ? "blocking" : "unblocking", error->message);
    return FALSE;
  }
  return TRUE;
}

static gboolean
in_private_netns(void)
{
  if (g_getenv("AR_NETNS") == NULL) {
    g_test_skip("needs the private network namespace of tests/lab/in-netns.sh (nftables rules)");
    return FALSE;
  }
  return TRUE;
}

static gboolean
recv_failed(Call *call)
{
  return call->recv.state == AR_PEER_STATE_FAILED;
}

static gboolean
send_failed(Call *call)
{
  return call->send.state == AR_PEER_STATE_FAILED;
}

static guint64
recv_frames(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->recv.peer);
  const ArTrackStats *v = find_track(stats, "video");

  return v != NULL ? v->frames : 0;
}

/* Starts @call (initialized): connected with media flowing, or FALSE (test failed). */
static gboolean
start_call_with_media(Call *call)
{
  call_start(call);
  if (!wait_for(call, both_connected, CALL_TIMEOUT_MS, "both peers CONNECTED") ||
      !wait_for(call, recv_has_media, CALL_TIMEOUT_MS, "media on the receiving side"))
    return FALSE;
  g_assert_no_error(call->send.error);
  g_assert_no_error(call->recv.error);
  return TRUE;
}

/* One side vanishes (its pipeline goes to NULL: no BYE, no DTLS close, like
 * a crash or a pulled cable); the survivor must fail with DEAD_PEER
 * AR_PEER_DEAD_TIMEOUT_S after the last packet it heard, and not before. */
static void
run_dead_remote(gboolean send_dies)
{
  Call call;
  Side *dying, *survivor;
  gint64 t0;
  double elapsed;

  if (!require_network())
    return;
  call_init(&call, NULL);
  if (!start_call_with_media(&call))
    goto out;
  dying = send_dies ? &call.send : &call.recv;
  survivor = send_dies ? &call.recv : &call.send;
  /* Long enough for the RTCP of a steady call. */
  spin(3000);
  g_assert_cmpint(survivor->state, ==, AR_PEER_STATE_CONNECTED);
  t0 = g_get_monotonic_time();
  side_close(dying);
  if (!wait_for(&call, send_dies ? recv_failed : send_failed, (AR_PEER_DEAD_TIMEOUT_S + 2) * 1000,
                "the survivor to detect the dead peer"))
    goto out;
  elapsed = (g_get_monotonic_time() - t0) / 1e6;
  g_test_message("%s detected the dead %s peer after %.1f s: %s", survivor->name, dying->name,
                 elapsed, survivor->error->message);
  g_assert_error(survivor->error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_DEAD_PEER);
  g_assert_nonnull(strstr(survivor->error->message, "No media or RTCP from the remote peer"));
  /* Counted from the last packet heard: a SEND peer hears an RTCP report
   * about every second, so up to ~1.5 s before the close (with the 0.5 s tick). */
  g_assert_cmpfloat(elapsed, >=, AR_PEER_DEAD_TIMEOUT_S - 1.5);
  g_assert_cmpfloat(elapsed, <=, AR_PEER_DEAD_TIMEOUT_S + 2);
out:
  call_clear(&call);
}

static void
test_dead_sender(void)
{
  run_dead_remote(TRUE);
}

static void
test_dead_receiver(void)
{
  run_dead_remote(FALSE);
}

static gboolean
recv_frames_moving(Call *call)
{
  static guint64 last;
  guint64 now = recv_frames(call);
  gboolean moving = now > last;

  last = now;
  return moving || someone_failed(call);
}

/* A 2 s blackout of all UDP: both sides stay CONNECTED, media resumes. */
static void
test_short_outage(void)
{
  Call call;
  guint64 frames_before;
  gint64 t_unblock;

  if (!in_private_netns() || !require_network())
    return;
  call_init(&call, NULL);
  if (!start_call_with_media(&call))
    goto out;
  if (!netns_block_udp(TRUE))
    goto out;
  spin(500);
  frames_before = recv_frames(&call);
  spin(1500);
  if (!netns_block_udp(FALSE))
    goto out;
  t_unblock = g_get_monotonic_time();
  g_assert_cmpuint(recv_frames(&call), <=, frames_before + 2);
  recv_frames_moving(&call);
  if (wait_for(&call, recv_frames_moving, 10000, "new frames after the blackout"))
    g_test_message("first new frame %.2f s after the blackout ended",
                   (g_get_monotonic_time() - t_unblock) / 1e6);
  /* Past the dead-peer timeout, counted from the start of the blackout. */
  spin((AR_PEER_DEAD_TIMEOUT_S + 1) * 1000);
  g_assert_no_error(call.send.error);
  g_assert_no_error(call.recv.error);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpuint(recv_frames(&call), >, frames_before + 60);
out:
  if (g_getenv("AR_NETNS") != NULL)
    g_spawn_command_line_sync("nft delete table inet ar_test_liveness", NULL, NULL, NULL, NULL);
  call_clear(&call);
}

/* ---- the room's address goes away ---- */

static gboolean
run_ip(const char *args)
{
  g_autofree char *cmd = g_strdup_printf("ip %s", args);
  g_autoptr(GError) error = NULL;
  gint status = 0;

  if (!g_spawn_command_line_sync(cmd, NULL, NULL, &status, &error) ||
      !g_spawn_check_wait_status(status, &error)) {
    g_test_fail_printf("%s: %s", cmd, error->message);
    return FALSE;
  }
  return TRUE;
}

static gboolean
both_failed(Call *call)
{
  return call->send.state == AR_PEER_STATE_FAILED && call->recv.state == AR_PEER_STATE_FAILED;
}

/* An address the call does not use comes and goes: nothing happens. Then the
 * namespace loses every address: both peers fail at once with
 * AR_MEDIA_ERROR_NETWORK (rtnetlink), not after the dead-peer timeout. */
static void
test_address_gone(void)
{
  const char *a1 = g_getenv("AR_NETNS_ADDR1");
  const char *a2 = g_getenv("AR_NETNS_ADDR2");
  Call call;
  gint64 t0;
  double elapsed;
  gboolean removed = FALSE;

  if (!in_private_netns() || !require_network())
    return;
  g_assert_nonnull(a1);
  g_assert_nonnull(a2);
  call_init(&call, NULL);
  if (!start_call_with_media(&call))
    goto out;
  /* The stats (selected pair, its local address) refresh every second. */
  spin(2500);
  if (!run_ip("addr add 10.97.0.77/24 dev ar0") || !run_ip("addr del 10.97.0.77/24 dev ar0"))
    goto out;
  spin(1000);
  g_assert_no_error(call.send.error);
  g_assert_no_error(call.recv.error);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_CONNECTED);

  /* Every address of both ends (IPv4 and the IPv6 link-local ones: the pair
   * may use either). */
  t0 = g_get_monotonic_time();
  removed = TRUE;
  if (!run_ip("addr flush dev ar0") || !run_ip("addr flush dev ar1"))
    goto out;
  if (!wait_for(&call, both_failed, 3000, "both peers to fail after their addresses went away"))
    goto out;
  elapsed = (g_get_monotonic_time() - t0) / 1e6;
  g_test_message("both peers failed %.3f s after the addresses went away: %s", elapsed,
                 call.send.error->message);
  g_assert_error(call.send.error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NETWORK);
  g_assert_error(call.recv.error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NETWORK);
  g_assert_nonnull(strstr(call.send.error->message, "went away"));
  g_assert_cmpfloat(elapsed, <, 1.0);
out:
  if (removed) {
    g_autofree char *r1 = g_strdup_printf("ip addr replace %s/24 dev ar0", a1);
    g_autofree char *r2 = g_strdup_printf("ip addr replace %s/24 dev ar1", a2);

    /* Down and up gives the links their IPv6 link-local addresses back. */
    g_spawn_command_line_sync("ip link set ar0 down", NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync("ip link set ar1 down", NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync("ip link set ar0 up", NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync("ip link set ar1 up", NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync(r1, NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync(r2, NULL, NULL, NULL, NULL);
  }
  call_clear(&call);
}

static gboolean
send_path_known(Call *call)
{
  g_autofree char *path = ar_peer_get_ice_path(call->send.peer);

  return path != NULL || someone_failed(call);
}

/* The send side learns the receiver's host candidates only as "<uuid>.local"
 * names. @resolvable: the system resolves them (as nss-mdns would) or not. The
 * call must connect and carry media either way: resolved names give host
 * candidates; unresolved ones are dropped, and the receiver's own checks still
 * reach the sender (a peer-reflexive candidate). */
static void
run_mdns(gboolean resolvable)
{
  g_autoptr(GResolver) saved = g_resolver_get_default();
  g_autoptr(GResolver) fake = g_object_new(test_resolver_get_type(), NULL);
  g_autofree char *path = NULL;
  Call call;

  if (!require_network())
    return;
  mdns_lookups = 0;
  mdns_names = resolvable ? g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free) : NULL;
  g_resolver_set_default(fake);
  call_init(&call, NULL);
  call.rewrite_recv_candidate = mdns_rewrite;
  if (!start_call_with_media(&call))
    goto out;
  wait_for(&call, send_path_known, 5000, "the sender's selected pair");
  path = ar_peer_get_ice_path(call.send.peer);
  g_test_message("%u .local candidates given, %u lookups; sender's path %s", call.n_mdns,
                 mdns_lookups, path);
  g_assert_cmpuint(call.n_mdns, >, 0);
  g_assert_cmpuint(mdns_lookups, >, 0);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_CONNECTED);
  /* Resolved: the sender pairs with the receiver's host candidates. Not
   * resolved: only with what the receiver's checks revealed. */
  g_assert_nonnull(path);
  g_assert_true(g_str_has_suffix(path, resolvable ? "-> host" : "-> prflx"));
out:
  call_clear(&call);
  g_resolver_set_default(saved);
  g_clear_pointer(&mdns_names, g_hash_table_unref);
}

static void
test_mdns_resolved(void)
{
  run_mdns(TRUE);
}

static void
test_mdns_unresolved(void)
{
  run_mdns(FALSE);
}

void
test_peer_add_network_tests(void)
{
  g_test_add_func("/media/peer/dead-sender-detected", test_dead_sender);
  g_test_add_func("/media/peer/dead-receiver-detected", test_dead_receiver);
  g_test_add_func("/media/peer/short-outage-survives", test_short_outage);
  g_test_add_func("/media/peer/mdns-candidate-resolved", test_mdns_resolved);
  g_test_add_func("/media/peer/mdns-candidate-unresolved", test_mdns_unresolved);
  g_test_add_func("/media/peer/address-gone-fails-fast", test_address_gone);
}
