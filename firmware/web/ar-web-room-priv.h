/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The room screen's and the touch panels' shared state (ar-web-room.c, ar-web-panels.c). */
#pragma once

#include "ar-web-priv.h"
#include "ar-web-video.h"

#define ROOM_COOKIE "__Host-ar_room"
#define PANEL_COOKIE "__Host-ar_panel"
#define AR_ROOM_MAX_SESSIONS 4
#define AR_PANEL_MAX 16
#define AR_PANEL_NAME_MAX 48
#define AR_PAIRING_TTL_US (120 * G_USEC_PER_SEC)
#define AR_PAIRING_MAX_TRIES 5
/* Wrong codes across all pairings per hour: a LAN attacker who restarts
 * pairings gets at most this many guesses of 10^6 an hour (and every start
 * shows a code on the room screen, where people see it). */
#define AR_PAIRING_WRONG_PER_HOUR 10
#define AR_PAIRING_WINDOW_US (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)
/* Remote first-run setup (docs/decisions.md "Guessing budgets"): a code of
 * 10 digits, a new one after every wrong try, and 10 wrong codes at once then
 * 20 an hour across every address: 1 chance in 57,000 a year. */
#define AR_SETUP_CODE_DIGITS 10
#define AR_SETUP_WRONG_BURST 10
#define AR_SETUP_WRONG_PER_HOUR 20

struct _ArWebPanel {
  char *id; /* public: 16 hex characters, for the admin's list */
  char *name;
  char *hash; /* SHA-256 of the credential */
  char *csrf;
  gint64 created;
  gint64 expires; /* unix seconds: refused from then on */
  char *parent;   /* "token:HASH" when paired on a token's authority, else NULL */
};

typedef struct {
  char *id_hash;
  char *csrf;
} RoomSession;

typedef struct {
  char *id;
  char *code;
  gint64 expires_us;
  guint tries;
} Pairing;

struct _ArWebRoom {
  char *kiosk_secret;
  GPtrArray *sessions; /* RoomSession*, oldest first */
  GPtrArray *panels;   /* ArWebPanel* */
  Pairing *pairing;
  char *setup_code;      /* while no admin password is set */
  ArBudget setup_budget; /* wrong setup codes, across addresses */
  gboolean setup_paused_said;
  ArVideoRelay *video;
  gint64 wrong_window_start_us;
  guint wrong_in_window;
};

/* ar-web-room.c */
/* A Secure, HttpOnly, SameSite=Strict cookie; @max_age_s 0: gone with the browser. */
char *ar_web_make_cookie(const char *name, const char *value, gint64 max_age_s);
gint64 ar_web_now_s(void);
/* @n decimal digits, uniformly; NULL without random numbers. */
char *ar_web_random_digits(guint n);
/* {"event": @event, @key: @value} to every event stream. */
void ar_web_room_broadcast(ArWebServer *s, const char *event, const char *key, gboolean value);
/* {"ok": true, "csrf_token": @csrf[, @extra_name: @extra_value]} */
void ar_web_respond_csrf(SoupServerMessage *msg, const char *csrf, const char *extra_name,
                         const char *extra_value);

/* ar-web-panels.c */
void ar_web_panel_free(ArWebPanel *p);
void ar_web_pairing_free(Pairing *p);
gboolean ar_web_panels_load(ArWebServer *s, GError **error);
gboolean ar_web_panels_save(ArWebServer *s, GError **error);
/* "panel:ID", the owner of its event streams. */
char *ar_web_panel_owner(ArWebPanel *p);
/* The panel whose credential @secret is (expired ones too), or NULL. */
ArWebPanel *ar_web_panel_of_secret(ArWebServer *s, const char *secret);
gboolean ar_web_panel_expired(ArWebPanel *p);
void ar_web_panel_renew_if_due(ArWebServer *s, SoupServerMessage *msg, ArWebPanel *p,
                               const char *secret);
/* Ends the pairing once its code expired (the room screen hides it). */
void ar_web_pairing_expire(ArWebServer *s);
void ar_web_panels_add_routes(ArWebServer *s);
