/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* anyroomctl's pieces shared by its command files (anyroomctl.c, anyroomctl-update.c). */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

typedef struct {
  char *socket_path;
  SoupSession *session;
} Ctl;

/* A session to anyroomd's Unix socket; @timeout_s 0: none (event streams). */
SoupSession *ctl_session(Ctl *c, guint timeout_s);
/* One request; the answer's JSON or NULL with *@rc set (the message printed). */
JsonNode *ctl_request(Ctl *c, const char *method, const char *path, const char *body,
                      guint timeout_s, guint *status, int *rc);
JsonNode *ctl_request_len(Ctl *c, const char *method, const char *path, const char *body,
                          gsize body_len, guint timeout_s, guint *status, int *rc);
/* A string member of @o, or NULL (or @fallback) when absent or not a string. */
const char *obj_string(JsonObject *o, const char *name);
const char *obj_string_or(JsonObject *o, const char *name, const char *fallback);

int cmd_update_install(Ctl *c, const char *source, gboolean force);
int cmd_update_status(Ctl *c, gboolean json);
