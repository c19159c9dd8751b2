/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-api-meetings.c: the room's meetings as JSON (ar-api-meetings.h). */
#include "ar-api-meetings.h"

#include "ar-api-call.h"

static void
add_time(JsonBuilder *b, const char *name, gint64 t)
{
  json_builder_set_member_name(b, name);
  g_autoptr(GDateTime) dt = t > 0 ? g_date_time_new_from_unix_local(t) : NULL;
  g_autofree char *iso = dt ? g_date_time_format(dt, "%FT%T%:z") : NULL;
  if (iso)
    json_builder_add_string_value(b, iso);
  else
    json_builder_add_null_value(b);
}

/* The title the room may show: none for a private meeting unless the admin allows it. */
static const char *
shown_title(ArCalDesk *desk, const ArMeeting *m)
{
  return m->is_private && !ar_cal_desk_get_config(desk)->calendar_show_private_titles ? NULL
                                                                                      : m->title;
}

static void
add_link(JsonBuilder *b, const ArMeeting *m)
{
  json_builder_set_member_name(b, "link");
  g_autofree char *json = m->link ? ar_link_to_json(m->link) : NULL;
  g_autoptr(JsonNode) node = json ? json_from_string(json, NULL) : NULL;
  if (node)
    json_builder_add_value(b, g_steal_pointer(&node));
  else
    json_builder_add_null_value(b);
}

JsonNode *
ar_api_meetings_auto_join_to_json(ArCalDesk *desk)
{
  ArCalAutoJoin aj;
  if (!desk || !ar_cal_desk_get_auto_join(desk, &aj))
    return json_node_init_null(json_node_alloc());
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "id", aj.meeting->id);
  ar_json_add_string_or_null(b, "title", shown_title(desk, aj.meeting));
  json_builder_set_member_name(b, "private");
  json_builder_add_boolean_value(b, aj.meeting->is_private);
  add_time(b, "start", aj.meeting->start);
  json_builder_set_member_name(b, "in_s");
  json_builder_add_int_value(b, MAX(0, aj.join_at - ar_cal_desk_now(desk)));
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static const char *
kind_name(ArCalSourceKind kind)
{
  return kind == AR_CAL_SOURCE_FEED ? "feed" : "caldav";
}

/* [{"kind", "server", "ok", "error", "updated", "checked", "meetings"}] */
static void
add_sources(JsonBuilder *b, ArCalDesk *desk)
{
  json_builder_begin_array(b);
  for (guint i = 0; i < ar_cal_desk_n_sources(desk); i++) {
    ArCalSourceState st;
    ar_cal_desk_get_source(desk, i, &st);
    json_builder_begin_object(b);
    ar_json_add_string_or_null(b, "kind", kind_name(st.kind));
    ar_json_add_string_or_null(b, "server", st.server);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, st.ok);
    ar_json_add_string_or_null(b, "error", st.error);
    add_time(b, "updated", st.updated);
    add_time(b, "checked", st.checked);
    json_builder_set_member_name(b, "meetings");
    json_builder_add_int_value(b, st.meetings);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

JsonNode *
ar_api_meetings_health_to_json(ArCalDesk *desk)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "sources");
  add_sources(b, desk);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *
ar_api_meetings_to_json(ArCalDesk *desk)
{
  const ArConfig *c = ar_cal_desk_get_config(desk);
  gint64 now = ar_cal_desk_now(desk);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_time(b, "now", now);
  json_builder_set_member_name(b, "join_before_min");
  json_builder_add_int_value(b, c->calendar_join_before_min);
  json_builder_set_member_name(b, "auto_join_enabled");
  json_builder_add_boolean_value(b, c->calendar_auto_join);
  json_builder_set_member_name(b, "auto_join");
  json_builder_add_value(b, ar_api_meetings_auto_join_to_json(desk));
  json_builder_set_member_name(b, "sources");
  add_sources(b, desk);
  json_builder_set_member_name(b, "meetings");
  json_builder_begin_array(b);
  GPtrArray *list = ar_cal_desk_get_meetings(desk);
  for (guint i = 0; i < list->len; i++) {
    const ArMeeting *m = list->pdata[i];
    gboolean hide = m->is_private && !c->calendar_show_private_titles;
    json_builder_begin_object(b);
    ar_json_add_string_or_null(b, "id", m->id);
    add_time(b, "start", m->start);
    add_time(b, "end", m->end);
    json_builder_set_member_name(b, "all_day");
    json_builder_add_boolean_value(b, m->all_day);
    ar_json_add_string_or_null(b, "title", shown_title(desk, m));
    ar_json_add_string_or_null(b, "organizer", hide ? NULL : m->organizer);
    json_builder_set_member_name(b, "private");
    json_builder_add_boolean_value(b, m->is_private);
    add_link(b, m);
    json_builder_set_member_name(b, "in_progress");
    json_builder_add_boolean_value(b, now >= m->start && now < m->end);
    json_builder_set_member_name(b, "joinable");
    json_builder_add_boolean_value(b, ar_cal_desk_joinable(desk, m));
    json_builder_set_member_name(b, "starts_in_s");
    json_builder_add_int_value(b, m->start - now);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
