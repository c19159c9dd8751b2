/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ar-build-config.h"
#include "ar-config.h"
#include "ar-devices.h"

static ArConfig *
load(const char *text, GError **error)
{
  return ar_config_load_data(text, strlen(text), "test.conf", error);
}

/* The room display's socket for the meeting browser: none by default (the
 * image sets the kiosk's). */
static void
test_web_wayland_display(void)
{
  g_autoptr(ArConfig) d = ar_config_new_default();
  g_assert_null(d->web_wayland_display);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c = load("[web]\nwayland-display=/run/anyroom-kiosk/wayland-0\n", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(c->web_wayland_display, ==, "/run/anyroom-kiosk/wayland-0");
}

static void
test_defaults(void)
{
  g_autoptr(ArConfig) c = ar_config_new_default();
  g_assert_cmpstr(c->room_name, ==, "Anyroom");
  g_assert_cmpuint(c->join_timeout_s, ==, 20);
  g_assert_null(c->board);
}

static void
test_full(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c = load("[room]\nname=Board Room 4\n"
                               "[device]\nboard=host\ncamera=test\n"
                               "[media]\nvideo-codec=vp8\nwidth=640\nheight=360\nframerate=15\n"
                               "encoders=vp8enc;x264enc\njitter-latency-ms=40\n"
                               "decoders=avdec_vp8;vp8dec\n"
                               "[call]\njoin-timeout=9\n"
                               "[links]\njitsi-domains=meet.example.org;jitsi.example.com\n"
                               "allow-idn=false\n",
                               &error);
  g_assert_no_error(error);
  g_assert_cmpstr(c->room_name, ==, "Board Room 4");
  g_assert_cmpstr(c->camera, ==, "test");
  g_assert_cmpint(c->video_codec, ==, AR_VIDEO_CODEC_VP8);
  g_assert_cmpuint(c->width, ==, 640);
  g_assert_cmpuint(c->framerate, ==, 15);
  g_assert_cmpuint(c->jitter_latency_ms, ==, 40);
  g_assert_cmpuint(c->join_timeout_s, ==, 9);
  g_assert_cmpuint(g_strv_length(c->encoders), ==, 2);
  g_assert_cmpuint(g_strv_length(c->decoders), ==, 2);
  g_assert_cmpstr(c->decoders[0], ==, "avdec_vp8");
  const ArLinkPolicy *policy = ar_link_config_get_policy(c->links);
  g_assert_cmpstr(policy->jitsi_domains[1], ==, "jitsi.example.com");
  g_assert_false(policy->allow_idn);
}

static void
test_unknown_key(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c = load("[room]\nnmae=typo\n", &error);
  g_assert_null(c);
  g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_UNKNOWN_KEY);
  g_assert_nonnull(strstr(error->message, "room.nmae: unknown key"));
}

static void
test_unknown_group(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c = load("[rooom]\nname=x\n", &error);
  g_assert_null(c);
  g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_UNKNOWN_KEY);
  g_assert_nonnull(strstr(error->message, "[rooom]"));
}

static void
test_bad_values(void)
{
  const char *bad[] = {
      "[media]\nwidth=abc\n",
      "[media]\nwidth=99999\n",
      "[media]\nframerate=0\n",
      "[media]\nvideo-codec=h265\n",
      "[links]\nallow-idn=maybe\n",
      "[room]\nname=\n",
      "[links]\njitsi-domains=not a domain\n",
      "[links]\nunknown=1\n",
      "[call]\njoin-timeout=-1\n",
      "[calendar]\nfeed-url=http://example.org/feed.ics\n",
      "[calendar]\ncaldav-url=webcal://example.org/cal/\n",
      "[calendar]\ncaldav-password=secret\n",
      "[calendar]\nrefresh-minutes=0\n",
      "[calendar]\njoin-before-minutes=61\n",
      "[calendar]\nroom-address=not an address\n",
      "[calendar]\nauto-join=sometimes\n",
      "not a key file",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArConfig) c = load(bad[i], &error);
    g_assert_null(c);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "test.conf"));
  }
}

/* [calendar]: defaults, values, and no message that quotes the feed's secret address. */
static void
test_calendar(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) d = load("", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(d->calendar_refresh_min, ==, 5);
  g_assert_cmpuint(d->calendar_join_before_min, ==, 5);
  g_assert_cmpuint(d->calendar_days_ahead, ==, 14);
  g_assert_false(d->calendar_auto_join);
  g_assert_false(d->calendar_show_private_titles);
  g_assert_null(d->calendar_feed_url);
  g_autoptr(ArConfig) c = load("[calendar]\nfeed-url=https://cal.example.org/s3cr3t/basic.ics\n"
                               "caldav-url=https://dav.example.org/room-1/\ncaldav-user=room-1\n"
                               "caldav-password=pw\nauto-join=true\njoin-before-minutes=10\n"
                               "room-address=room-1@example.org\n",
                               &error);
  g_assert_no_error(error);
  g_assert_cmpstr(c->calendar_caldav_user, ==, "room-1");
  g_assert_true(c->calendar_auto_join);
  g_assert_cmpuint(c->calendar_join_before_min, ==, 10);
  g_autoptr(GError) e = NULL;
  g_autoptr(ArConfig) bad =
      load("[calendar]\nfeed-url=http://cal.example.org/s3cr3t/basic.ics\n", &e);
  g_assert_null(bad);
  g_assert_null(strstr(e->message, "s3cr3t"));
}

/* [update] channel keys (docs/config.md): no polling by default; the URL is
 * checked (https, a host, no user info) and never quoted in a message. */
static void
test_update_channel(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) d = load("", &error);
  g_assert_no_error(error);
  g_assert_null(d->update_channel_url);
  g_assert_cmpstr(d->update_channel, ==, "stable");
  g_assert_null(d->update_channel_ca);
  g_assert_cmpuint(d->update_poll_min, ==, 360);
  g_assert_cmpstr(d->update_keyring, ==, "/etc/rauc/keyring.pem");
  g_assert_true(d->update_auto_install);
  g_assert_cmpstr(d->update_window, ==, "02:00-05:00");
  g_autoptr(ArConfig) w = load("[update]\nauto-install=false\nwindow=22:30-04:00\n", &error);
  g_assert_no_error(error);
  g_assert_false(w->update_auto_install);
  g_assert_cmpstr(w->update_window, ==, "22:30-04:00");
  g_autoptr(ArConfig) c =
      load("[update]\nchannel-url=https://updates.example.org/preview.manifest\n"
           "channel=preview\nchannel-ca=/etc/anyroom/updates-ca.pem\npoll-minutes=60\n"
           "keyring=/etc/anyroom/keyring.pem\n",
           &error);
  g_assert_no_error(error);
  g_assert_cmpstr(c->update_channel_url, ==, "https://updates.example.org/preview.manifest");
  g_assert_cmpstr(c->update_channel, ==, "preview");
  g_assert_cmpstr(c->update_channel_ca, ==, "/etc/anyroom/updates-ca.pem");
  g_assert_cmpuint(c->update_poll_min, ==, 60);
  g_assert_cmpstr(c->update_keyring, ==, "/etc/anyroom/keyring.pem");
  g_autoptr(ArConfig) empty = load("[update]\nchannel-url=\n", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(empty->update_channel_url, ==, "");

  const struct {
    const char *text, *expect;
  } cases[] = {
      {"[update]\nchannel-url=http://u.example.org/s3cr3t\n", "update.channel-url"},
      {"[update]\nchannel-url=ftp://u.example.org/s3cr3t\n", "update.channel-url"},
      {"[update]\nchannel-url=https://me:s3cr3t@u.example.org/c\n", "user:password"},
      {"[update]\nchannel-url=https:///s3cr3t\n", "update.channel-url"},
      {"[update]\nchannel-url=s3cr3t\n", "update.channel-url"},
      {"[update]\nchannel-url=https://u.example.org/s3cr3t\nenabled=false\n",
       "needs update.enabled"},
      {"[update]\nchannel=\n", "update.channel"},
      {"[update]\nchannel=st able\n", "update.channel"},
      {"[update]\nchannel=stable/../x\n", "update.channel"},
      {"[update]\nchannel=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
       "update.channel"},
      {"[update]\nchannel-ca=ca.pem\n", "update.channel-ca: must be an absolute path"},
      {"[update]\nkeyring=keyring.pem\n", "update.keyring: must be an absolute path"},
      {"[update]\nkeyring=\n", "update.keyring"},
      {"[update]\npoll-minutes=14\n", "from 15 to 1440"},
      {"[update]\npoll-minutes=1441\n", "from 15 to 1440"},
      {"[update]\npoll-minute=60\n", "unknown key"},
      {"[update]\nwindow=2-5\n", "update.window"},
      {"[update]\nwindow=02:00-02:00\n", "update.window"},
      {"[update]\nwindow=25:00-03:00\n", "update.window"},
      {"[update]\nwindow=\n", "update.window"},
      {"[update]\nauto-install=sometimes\n", "auto-install"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) e = NULL;
    g_autoptr(ArConfig) bad = load(cases[i].text, &e);
    g_test_message("case %zu: %s", i, e ? e->message : "(accepted)");
    g_assert_null(bad);
    g_assert_nonnull(e);
    g_assert_nonnull(strstr(e->message, cases[i].expect));
    g_assert_null(strstr(e->message, "s3cr3t"));
  }
}

static void
test_hostile(void)
{
  /* NUL bytes, control characters, invalid UTF-8, huge input: refused, no crash. */
  const char nul[] = "[room]\nname=a\0b\n";
  g_autoptr(GError) e1 = NULL;
  g_assert_null(ar_config_load_data(nul, sizeof nul - 1, "nul", &e1));
  g_assert_nonnull(e1);
  g_autoptr(GError) e2 = NULL;
  g_assert_null(load("[room]\nname=\x01\x02\n", &e2));
  g_assert_nonnull(e2);
  g_autoptr(GError) e3 = NULL;
  g_assert_null(load("[room]\nname=\xff\xfe\n", &e3));
  g_assert_nonnull(e3);
  gsize big = AR_CONFIG_MAX_SIZE + 1;
  g_autofree char *huge = g_malloc(big);
  memset(huge, '#', big);
  g_autoptr(GError) e4 = NULL;
  g_assert_null(ar_config_load_data(huge, big, "huge", &e4));
  g_assert_nonnull(e4);
}

static void
test_board_host(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBoard) b = ar_board_load("host", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(b->name, ==, "host");
  g_assert_cmpstr(b->camera, ==, "auto");
  g_assert_cmpuint(b->width, ==, 1280);
  g_assert_cmpuint(b->framerate, ==, 30);
  /* hardware encoders come before software ones */
  g_assert_cmpstr(b->encoders[0], ==, "v4l2h264enc");
  guint n = g_strv_length(b->encoders);
  g_assert_cmpstr(b->encoders[n - 1], ==, "vp8enc");
}

static void
test_board_bad_name(void)
{
  const char *names[] = {"../etc", "Host", "", "a/b", "host;rm"};
  for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArBoard) b = ar_board_load(names[i], &error);
    g_assert_null(b);
    g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBoard) b = ar_board_load("no-such-board", &error);
  g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_NOT_FOUND);
}

/* Every device board under board/ loads and says what its image needs. */
static void
test_board_profiles(void)
{
  const struct {
    const char *name, *encoder, *arch, *boot, *compatible;
  } boards[] = {
      {"qemu-x86_64", "x264enc", "amd64", "grub-efi", "anyroom-qemu-x86_64"},
      {"generic-x86_64", "vah264enc", "amd64", "grub-efi", "anyroom-generic-x86_64"},
      {"rpi4", "v4l2h264enc", "arm64", "u-boot", "anyroom-rpi4"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(boards); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArBoard) b = ar_board_load(boards[i].name, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(b->name, ==, boards[i].name);
    g_assert_cmpstr(b->encoders[0], ==, boards[i].encoder); /* hardware first where there is one */
    g_assert_nonnull(b->decoders);
    g_assert_cmpuint(g_strv_length(b->decoders), >, 0);
    g_assert_cmpstr(b->arch, ==, boards[i].arch);
    g_assert_cmpstr(b->boot, ==, boards[i].boot);
    g_assert_cmpstr(b->compatible, ==, boards[i].compatible);
    g_assert_true(g_str_has_prefix(b->disk, "/dev/"));
    g_assert_cmpuint(b->slot_size_mib, >=, 1024);
    g_assert_cmpuint(b->data_size_mib, >=, 64);
    g_assert_nonnull(b->camera);
    g_assert_nonnull(b->microphone);
    g_assert_nonnull(b->speaker);
    g_assert_nonnull(b->display);
  }
  /* The reference board names the devices vivid and snd-aloop give inside qemu. */
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBoard) q = ar_board_load("qemu-x86_64", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(q->camera, ==, "/dev/video0");
  g_assert_true(g_str_has_prefix(q->microphone, "hw:Loopback"));
  g_assert_true(g_strv_contains((const char *const *)q->modules, "vivid"));
  g_assert_true(g_strv_contains((const char *const *)q->modules, "snd-aloop"));
}

static ArBoard *
board_from_text(const char *text, GError **error)
{
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp("ar-board-XXXXXX.conf", &path, NULL);
  g_assert_cmpint(fd, >=, 0);
  close(fd);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  ArBoard *b = ar_board_load_file(path, error);
  g_unlink(path);
  return b;
}

static void
test_board_image_refused(void)
{
  const char *good = "[board]\nname=x\n[image]\narch=amd64\nkernel=linux-image-amd64\n"
                     "boot=grub-efi\ndisk=/dev/sda\nconsole=tty1\n[rauc]\ncompatible=x\n"
                     "bootloader=grub\nefi-size-mib=32\nslot-size-mib=1024\ndata-size-mib=64\n";
  g_autoptr(GError) e0 = NULL;
  g_autoptr(ArBoard) ok = board_from_text(good, &e0);
  g_assert_no_error(e0);
  g_assert_cmpstr(ok->bootloader, ==, "grub");
  const struct {
    const char *from, *to, *message;
  } bad[] = {
      {"[rauc]\n", "[rauc]\nslots=3\n", "rauc.slots: unknown key"},
      {"[image]\n", "[imag]\n", "[imag]: unknown group"},
      {"arch=amd64", "arch=mips", "image.arch"},
      {"boot=grub-efi", "boot=lilo", "image.boot"},
      {"bootloader=grub", "bootloader=uboot", "does not go with"},
      {"disk=/dev/sda", "disk=sda", "image.disk"},
      {"compatible=x", "compatible=a b", "rauc.compatible"},
      {"slot-size-mib=1024", "slot-size-mib=12", "rauc.slot-size-mib"},
      {"data-size-mib=64\n", "", "rauc.data-size-mib"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GString) t = g_string_new(good);
    g_assert_cmpint(g_string_replace(t, bad[i].from, bad[i].to, 1), ==, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(ArBoard) b = board_from_text(t->str, &error);
    g_assert_null(b);
    g_assert_nonnull(error);
    if (!strstr(error->message, bad[i].message))
      g_error("case %zu: '%s' does not mention '%s'", i, error->message, bad[i].message);
  }
}

/* Every board under board/ (listed at test time, so a new board is covered
 * without editing this test), through the real loaders and the merge anyroomd
 * does, passes the media engine's own check: a board anyroomd would refuse at
 * start (generic-x86_64 and rpi4 once said [display] output=kiosk, which the
 * engine did not know) fails here. */
static void
test_board_every_media_check(void)
{
  /* The folder ar_board_load() looks in first: the source tree's board/
   * (meson's AR_SOURCE_BOARD_DIR) unless $ANYROOM_BOARD_DIR says otherwise. */
  const char *env = g_getenv("ANYROOM_BOARD_DIR");
  const char *top = env != NULL && *env != '\0' ? env : AR_SOURCE_BOARD_DIR;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open(top, 0, &error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *entry;

  g_assert_no_error(error);
  while ((entry = g_dir_read_name(dir)) != NULL) {
    g_autofree char *conf = g_build_filename(top, entry, "board.conf", NULL);
    if (g_file_test(conf, G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add(names, g_strdup(entry));
  }
  /* Not vacuous: the boards this test was written for are among them. */
  for (gsize i = 0; i < 4; i++) {
    const char *must[] = {"host", "qemu-x86_64", "generic-x86_64", "rpi4"};
    g_assert_true(g_ptr_array_find_with_equal_func(names, must[i], g_str_equal, NULL));
  }
  /* Every board is tried; the failures are listed together. */
  g_autoptr(GString) failed = g_string_new(NULL);
  for (guint i = 0; i < names->len; i++) {
    const char *name = names->pdata[i];
    g_autofree char *text = g_strdup_printf("[device]\nboard=%s\n", name);
    g_autoptr(GError) local = NULL;
    g_autoptr(ArConfig) c = load(text, &local);
    g_assert_no_error(local);
    g_autoptr(ArBoard) b = ar_board_load(c->board, &local);
    ArMediaConfig m;
    if (b != NULL) {
      ar_config_to_media(c, b, &m);
      if (ar_media_config_check(&m, &local))
        g_test_message("board %s: display %s, camera %s, %ux%u@%u", name, m.video_sink,
                       m.video_source, m.width, m.height, m.framerate);
    }
    if (local != NULL) {
      g_test_message("board %s: refused: %s", name, local->message);
      g_string_append_printf(failed, "%s%s", failed->len ? ", " : "", name);
    }
  }
  if (failed->len > 0)
    g_error("boards the media engine refuses: %s", failed->str);
}

/* [device] display and a board's [display] output take what the engine
 * takes (auto, none, kiosk, window); anything else is refused at load with
 * the file and the key. */
static void
test_display_values(void)
{
  const char *good[] = {"auto", "none", "kiosk", "window"};
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *text = g_strdup_printf("[device]\ndisplay=%s\n", good[i]);
    g_autoptr(ArConfig) c = load(text, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(c->display, ==, good[i]);
    g_autofree char *board = g_strdup_printf("[board]\nname=x\n[display]\noutput=%s\n", good[i]);
    g_autoptr(ArBoard) b = board_from_text(board, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(b->display, ==, good[i]);
  }
  const struct {
    const char *text, *message;
  } bad[] = {
      {"[device]\ndisplay=kiosky\n", "test.conf: device.display: Invalid video sink 'kiosky' "
                                     "(expected auto, none, kiosk or window)"},
      {"[device]\ndisplay=\n", "test.conf: device.display:"},
      {"[device]\ncamera=/tmp/video0\n", "test.conf: device.camera: Invalid video source"},
      {"[device]\nmicrophone=none\n", "test.conf: device.microphone:"},
      {"[device]\nspeaker=test\n", "test.conf: device.speaker:"},
      {"[media]\nwidth=641\n", "test.conf: [media]: Invalid video size 641x720"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArConfig) c = load(bad[i].text, &error);
    g_assert_null(c);
    g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE);
    if (!strstr(error->message, bad[i].message))
      g_error("case %zu: '%s' does not say '%s'", i, error->message, bad[i].message);
  }
  const struct {
    const char *text, *message;
  } bad_board[] = {
      {"[display]\noutput=kiosky\n", "display.output: Invalid video sink 'kiosky' "
                                     "(expected auto, none, kiosk or window)"},
      {"[video]\ncamera=video0\n", "video.camera:"},
      {"[audio]\nspeaker=hw:0 0\n", "audio.speaker:"},
      {"[video]\nwidth=641\n", "[video]: Invalid video size 641x720"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad_board); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *text = g_strdup_printf("[board]\nname=x\n%s", bad_board[i].text);
    g_autoptr(ArBoard) b = board_from_text(text, &error);
    g_assert_null(b);
    g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE);
    /* The file that said it, then the key. */
    g_assert_nonnull(strstr(error->message, ".conf: "));
    if (!strstr(error->message, bad_board[i].message))
      g_error("board case %zu: '%s' does not say '%s'", i, error->message, bad_board[i].message);
  }
}

/* status "devices": ALSA cards are looked up in /proc/asound by id or index. */
static void
test_devices_present(void)
{
  g_autofree char *dir = g_dir_make_tmp("ar-asound-XXXXXX", NULL);
  g_assert_nonnull(dir);
  g_autofree char *loop = g_build_filename(dir, "Loopback", NULL);
  g_autofree char *card1 = g_build_filename(dir, "card1", NULL);
  g_assert_cmpint(g_mkdir(loop, 0700), ==, 0);
  g_assert_cmpint(g_mkdir(card1, 0700), ==, 0);
  g_assert_cmpint(ar_devices_alsa_present("hw:Loopback,1,0", dir), ==, 1);
  g_assert_cmpint(ar_devices_alsa_present("plughw:CARD=Loopback,DEV=0", dir), ==, 1);
  g_assert_cmpint(ar_devices_alsa_present("hw:1", dir), ==, 1);
  g_assert_cmpint(ar_devices_alsa_present("hw:2,0", dir), ==, 0);
  g_assert_cmpint(ar_devices_alsa_present("hw:Other", dir), ==, 0);
  g_assert_cmpint(ar_devices_alsa_present("hw:../../etc", dir), ==, 0);
  g_assert_cmpint(ar_devices_alsa_present("auto", dir), ==, -1);
  g_assert_cmpint(ar_devices_alsa_present("default", dir), ==, -1);
  g_assert_cmpint(ar_devices_video_present("/dev/null"), ==, 1);
  g_assert_cmpint(ar_devices_video_present("/dev/no-such-video"), ==, 0);
  g_assert_cmpint(ar_devices_video_present("test"), ==, -1);
  g_rmdir(loop);
  g_rmdir(card1);
  g_rmdir(dir);
}

static void
test_merge(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBoard) b = ar_board_load("host", &error);
  g_assert_no_error(error);
  g_autoptr(ArConfig) c = load("[device]\ncamera=/dev/video7\n[media]\nwidth=640\n", &error);
  g_assert_no_error(error);
  ArMediaConfig m;
  ar_config_to_media(c, b, &m);
  g_assert_cmpstr(m.video_source, ==, "/dev/video7"); /* config wins */
  g_assert_cmpstr(m.audio_source, ==, "auto");        /* board default */
  g_assert_cmpuint(m.width, ==, 640);
  g_assert_cmpuint(m.height, ==, 720);
  g_assert_cmpstr(m.encoders[0], ==, "v4l2h264enc");
  g_assert_cmpuint(m.jitter_latency_ms, <, 200); /* interactive, not webrtcbin's 200 ms */
  g_assert_false(m.decode_received_video);       /* the room screen decodes */
  g_autoptr(ArConfig) diag = load("[media]\ndecode-received-video=true\n", &error);
  g_assert_no_error(error);
  ar_config_to_media(diag, b, &m);
  g_assert_true(m.decode_received_video);
}

/* [audio]: the microphone's processing is on unless the board or the config
 * says otherwise; the config's word wins over the board's. */
static void
test_audio_processing(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBoard) host = ar_board_load("host", &error);
  g_assert_no_error(error);
  ArMediaConfig m;
  {
    g_autoptr(ArConfig) c = load("", &error);
    g_assert_no_error(error);
    g_assert_cmpint(c->echo_cancellation, ==, AR_CONFIG_UNSET);
    ar_config_to_media(c, host, &m);
    g_assert_true(m.echo_cancellation && m.noise_suppression && m.gain_control);
  }
  g_autofree char *dir = g_dir_make_tmp("ar-board-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *path = g_build_filename(dir, "board.conf", NULL);
  g_assert_true(g_file_set_contents(
      path, "[board]\nname=quiet\n[audio]\necho-cancellation=false\ngain-control=no\n", -1, NULL));
  g_autoptr(ArBoard) quiet = ar_board_load_file(path, &error);
  g_assert_no_error(error);
  g_unlink(path);
  g_rmdir(dir);
  {
    g_autoptr(ArConfig) c = load("", &error);
    ar_config_to_media(c, quiet, &m);
    g_assert_false(m.echo_cancellation);
    g_assert_true(m.noise_suppression);
    g_assert_false(m.gain_control);
  }
  {
    g_autoptr(ArConfig) c =
        load("[audio]\necho-cancellation=true\nnoise-suppression=false\n", &error);
    g_assert_no_error(error);
    ar_config_to_media(c, quiet, &m);
    g_assert_true(m.echo_cancellation);
    g_assert_false(m.noise_suppression);
    g_assert_false(m.gain_control);
  }
  g_assert_null(load("[audio]\necho-cancellation=maybe\n", &error));
  g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE);
  g_assert_nonnull(strstr(error->message, "audio.echo-cancellation"));
}

/* media.decoders overrides the board's [video] decoders; empty means
 * GStreamer's ranks; neither: the board's list. */
static void
test_merge_decoders(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBoard) host = ar_board_load("host", &error);
  g_assert_no_error(error);
  g_autoptr(ArBoard) rpi = ar_board_load("rpi4", &error);
  g_assert_no_error(error);
  g_autoptr(ArConfig) none = load("[room]\nname=R\n", &error);
  g_assert_no_error(error);
  g_autoptr(ArConfig) own = load("[media]\ndecoders=avdec_h264 ; vp8dec\n", &error);
  g_assert_no_error(error);
  g_autoptr(ArConfig) empty = load("[media]\ndecoders=\n", &error);
  g_assert_no_error(error);
  ArMediaConfig m;

  ar_config_to_media(none, host, &m);
  g_assert_null(m.decoders); /* the host board names none */
  ar_config_to_media(none, rpi, &m);
  g_assert_nonnull(m.decoders);
  g_assert_cmpstr(m.decoders[0], ==, "v4l2h264dec"); /* hardware first */
  ar_config_to_media(own, rpi, &m);
  g_assert_cmpuint(g_strv_length((char **)m.decoders), ==, 2);
  g_assert_cmpstr(m.decoders[0], ==, "avdec_h264");
  g_assert_cmpstr(m.decoders[1], ==, "vp8dec");
  ar_config_to_media(empty, rpi, &m);
  g_assert_nonnull(m.decoders);
  g_assert_null(m.decoders[0]);
  ar_config_to_media(own, NULL, &m);
  g_assert_cmpstr(m.decoders[0], ==, "avdec_h264");
}

static void
test_network(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c =
      load("[network]\nstun=stun:stun.example.org:3478\n"
           "turn=turn:turn.example.org:3478?transport=udp;turn:turn.example.org:3478?transport=tcp;"
           "turns:turn.example.org:443\n"
           "turn-username=room4\nturn-password=s3cr;et\nrelay-only=true\n"
           "turn-tls-ca=/etc/anyroom/turn-ca.pem\n",
           &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_strv_length(c->stun), ==, 1);
  g_assert_cmpuint(g_strv_length(c->turn), ==, 3);
  g_assert_cmpstr(c->turn[2], ==, "turns:turn.example.org:443");
  g_assert_cmpstr(c->turn_username, ==, "room4");
  g_assert_true(c->relay_only);

  ArIceConfig ice = {0};
  g_assert_true(ar_config_ice(c, NULL, NULL, NULL, &ice, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(ice.stun, ==, "stun://stun.example.org:3478");
  g_assert_cmpstr(ice.turn[1], ==, "turn://room4:s3cr%3Bet@turn.example.org:3478?transport=tcp");
  g_assert_cmpstr(ice.turn[2], ==, "turns://room4:s3cr%3Bet@turn.example.org:443");
  g_assert_true(ice.relay_only);
  g_assert_cmpstr(ice.tls_ca_file, ==, "/etc/anyroom/turn-ca.pem");
  /* Credentials and servers from a credentials URL replace the configured ones. */
  const char *uris[] = {"turn:10.0.0.9:3478", NULL};
  g_assert_true(ar_config_ice(c, "1700000000:room", "abc=", uris, &ice, &error));
  g_assert_cmpuint(g_strv_length(ice.turn), ==, 1);
  g_assert_cmpstr(ice.turn[0], ==, "turn://1700000000%3Aroom:abc%3D@10.0.0.9:3478");
  ar_ice_config_clear(&ice);

  g_autoptr(ArConfig) d = load("[network]\nturn=turn:10.0.0.1\n"
                               "turn-credentials-url=https://creds.example.org/turn?room=4\n",
                               &error);
  g_assert_no_error(error);
  g_assert_cmpstr(d->turn_credentials_url, ==, "https://creds.example.org/turn?room=4");
  g_assert_false(d->relay_only);

  /* Nothing configured: no servers, no relay-only. */
  g_autoptr(ArConfig) e = ar_config_new_default();
  g_assert_true(ar_config_ice(e, NULL, NULL, NULL, &ice, &error));
  g_assert_null(ice.stun);
  g_assert_cmpuint(g_strv_length(ice.turn), ==, 0);
  ar_ice_config_clear(&ice);
}

static void
test_network_bad(void)
{
  const struct {
    const char *text, *expect;
  } cases[] = {
      {"[network]\nstun=turn:x:1\n", "network.stun"},
      {"[network]\nstun=stun://x:1\n", "network.stun"},
      {"[network]\nturn=stun:x:1\nturn-username=u\nturn-password=p\n", "network.turn"},
      {"[network]\nturn=turn:x:99999\nturn-username=u\nturn-password=p\n", "network.turn"},
      {"[network]\nturn=turn:u:p@x:1\nturn-username=u\nturn-password=p\n", "network.turn"},
      {"[network]\nturn=turn:x:1?transport=sctp\nturn-username=u\nturn-password=p\n", "transport"},
      {"[network]\nturn=turn:x:1\n", "needs turn-credentials-url"},
      {"[network]\nturn=turn:x:1\nturn-username=u\n", "go together"},
      {"[network]\nturn=turn:x:1\nturn-password=hunter2\n", "go together"},
      {"[network]\nrelay-only=true\n", "relay-only"},
      {"[network]\nrelay-only=maybe\n", "relay-only"},
      {"[network]\nturn-credentials-url=http://creds.example.org/\n", "https"},
      {"[network]\nturn-credentials-url=ftp://creds.example.org/\n", "https"},
      {"[network]\nturn-credentials-url=https://u:p@creds.example.org/\n", "user:password"},
      {"[network]\nturn-credentials-url=not a url\n", "turn-credentials-url"},
      {"[network]\nturn-credentials-url=https://c.example.org/\nturn-username=u\n"
       "turn-password=hunter2\n",
       "exclude"},
      {"[network]\nturn-usrname=u\n", "unknown key"},
      {"[network]\nturn-tls-ca=ca.pem\n", "absolute path"},
      {"[web]\nwayland-display=wayland-0\n", "web.wayland-display: must be the absolute path"},
      {"[whip]\nendpoint=ftp://whip.example.org/ep\n", "whip.endpoint"},
      {"[whip]\ntoken=hunter2\n", "whip.token needs whip.endpoint"},
      {"[whip]\nendpoint=https://whip.example.org/ep\ntoken=hunter2 x\n", "whip.token"},
      {"[network]\nturn=turn:1;turn:2;turn:3;turn:4;turn:5;turn:6;turn:7;turn:8;turn:9\n"
       "turn-username=u\nturn-password=p\n",
       "more than"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArConfig) c = load(cases[i].text, &error);
    g_test_message("case %zu: %s", i, error ? error->message : "(accepted)");
    g_assert_null(c);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, cases[i].expect));
    /* The password never shows in a message. */
    g_assert_null(strstr(error->message, "hunter2"));
  }
  /* Loopback helpers may use plain http. */
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) ok =
      load("[network]\nturn-credentials-url=http://127.0.0.1:8099/turn\nrelay-only=true\n", &error);
  g_assert_no_error(error);
  g_assert_true(ok->relay_only);
}

static void
test_turn_credentials(void)
{
  g_autoptr(GError) error = NULL;
  const char *ok = "{\"username\":\"1700086400:room4\",\"password\":\"q8H/Zx+1=\",\"ttl\":86400,"
                   "\"uris\":[\"turn:10.0.0.1:3478?transport=udp\",\"stun:10.0.0.1\","
                   "\"turns:turn.example.org:443?transport=tcp\"]}";
  g_autoptr(ArTurnCredentials) c = ar_turn_credentials_parse(ok, strlen(ok), &error);
  g_assert_no_error(error);
  g_assert_cmpstr(c->username, ==, "1700086400:room4");
  g_assert_cmpstr(c->password, ==, "q8H/Zx+1=");
  g_assert_cmpuint(c->ttl_s, ==, 86400);
  g_assert_cmpuint(g_strv_length(c->uris), ==, 2); /* stun: skipped */
  const char *no_uris = "{\"username\":\"u\",\"password\":\"p\",\"ttl\":600}";
  g_autoptr(ArTurnCredentials) d = ar_turn_credentials_parse(no_uris, strlen(no_uris), &error);
  g_assert_no_error(error);
  g_assert_null(d->uris);

  const char *bad[] = {
      "",
      "[]",
      "null",
      "{\"username\":\"u\",\"password\":\"p\"}",
      "{\"username\":\"u\",\"password\":\"p\",\"ttl\":5}",
      "{\"username\":\"u\",\"password\":\"p\",\"ttl\":\"600\"}",
      "{\"username\":\"u\",\"password\":\"p\",\"ttl\":99999999}",
      "{\"username\":\"\",\"password\":\"p\",\"ttl\":600}",
      "{\"username\":\"u\",\"password\":7,\"ttl\":600}",
      "{\"username\":\"u\\n\",\"password\":\"p\",\"ttl\":600}",
      "{\"username\":\"u\",\"password\":\"p\",\"ttl\":600,\"uris\":\"turn:x\"}",
      "{\"username\":\"u\",\"password\":\"p\",\"ttl\":600,\"uris\":[\"http://x\"]}",
      "{\"username\":\"u\",\"password\":\"p\",\"ttl\":600,\"uris\":[1]}",
      "{\"username\":\"u\",\"password\":\"p\",\"ttl\":600,\"x\":[[[[[1]]]]]}",
      "{\"username\":\"u\",\"password\":\"p\",\"ttl\":600",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    g_test_message("refused: %s", bad[i]);
    g_assert_null(ar_turn_credentials_parse(bad[i], strlen(bad[i]), &e));
    g_assert_error(e, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE);
  }
  /* Size bound, and a password never shows in an error. */
  g_autofree char *pad = g_strnfill(AR_TURN_CREDENTIALS_MAX_SIZE, ' ');
  g_autofree char *big = g_strconcat(no_uris, pad, NULL);
  g_autoptr(GError) e1 = NULL;
  g_assert_null(ar_turn_credentials_parse(big, strlen(big), &e1));
  g_assert_nonnull(strstr(e1->message, "larger"));
  const char *leak = "{\"username\":\"u\",\"password\":\"hunter2\",\"ttl\":1}";
  g_autoptr(GError) e2 = NULL;
  g_assert_null(ar_turn_credentials_parse(leak, strlen(leak), &e2));
  g_assert_null(strstr(e2->message, "hunter2"));
}

/* [logs]: off by default; a syslog-tls:// address, an absolute CA, a level name. */
static void
test_logs(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) d = load("", &error);
  g_assert_no_error(error);
  g_assert_null(d->logs_remote);
  g_autoptr(ArConfig) c = load("[logs]\nremote=syslog-tls://logs.example.org:6514\n"
                               "remote-ca=/etc/anyroom/logs-ca.pem\nremote-level=warning\n",
                               &error);
  g_assert_no_error(error);
  g_assert_cmpstr(c->logs_remote, ==, "syslog-tls://logs.example.org:6514");
  g_assert_cmpstr(c->logs_remote_level, ==, "warning");
  const struct {
    const char *text, *key;
  } bad[] = {
      {"[logs]\nremote=syslog://logs.example.org:514\n", "logs.remote"},
      {"[logs]\nremote=syslog-tls://u:pw@logs.example.org\n", "logs.remote"},
      {"[logs]\nremote-ca=logs-ca.pem\n", "logs.remote-ca"},
      {"[logs]\nremote-level=loud\n", "logs.remote-level"},
      {"[logs]\nforward=yes\n", "logs.forward"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    g_autoptr(ArConfig) b = load(bad[i].text, &e);
    g_assert_null(b);
    g_test_message("%s", e->message);
    g_assert_nonnull(strstr(e->message, bad[i].key));
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/config/defaults", test_defaults);
  g_test_add_func("/config/web/wayland-display", test_web_wayland_display);
  g_test_add_func("/config/full", test_full);
  g_test_add_func("/config/unknown-key", test_unknown_key);
  g_test_add_func("/config/unknown-group", test_unknown_group);
  g_test_add_func("/config/bad-values", test_bad_values);
  g_test_add_func("/config/hostile", test_hostile);
  g_test_add_func("/config/calendar", test_calendar);
  g_test_add_func("/config/update/channel", test_update_channel);
  g_test_add_func("/config/board/host", test_board_host);
  g_test_add_func("/config/board/bad-name", test_board_bad_name);
  g_test_add_func("/config/board/merge", test_merge);
  g_test_add_func("/config/board/merge-decoders", test_merge_decoders);
  g_test_add_func("/config/board/profiles", test_board_profiles);
  g_test_add_func("/config/board/devices-present", test_devices_present);
  g_test_add_func("/config/board/image-refused", test_board_image_refused);
  g_test_add_func("/config/board/every-board-media-check", test_board_every_media_check);
  g_test_add_func("/config/display-values", test_display_values);
  g_test_add_func("/config/audio-processing", test_audio_processing);
  g_test_add_func("/config/network", test_network);
  g_test_add_func("/config/logs", test_logs);
  g_test_add_func("/config/network/bad", test_network_bad);
  g_test_add_func("/config/network/turn-credentials", test_turn_credentials);
  return g_test_run();
}
