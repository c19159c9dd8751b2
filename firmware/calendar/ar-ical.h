/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-ical.h: libical, loaded when the first calendar text is read (ar-cal.c).
 *
 * libical links ICU; mapped at start, the two cost every room ~1.5 MB of RSS (file pages and
 * relocated data), calendar or not (docs/decisions.md, "Media efficiency, part 3"). So
 * anyroomd does not link libical: ar_ical_load() opens it by its soname (the linker's own
 * search path, as a NEEDED entry would) the first time a calendar is parsed, and ar-cal.c's
 * calls go through the table it fills (each name below is redirected to ar_ical_fns).
 */
#pragma once
#include <glib.h>
#include <libical/ical.h>

G_BEGIN_DECLS

/* Every libical function ar-cal.c calls (one missing here is a link error: nothing links libical).
 */
#define AR_ICAL_FUNCS(X)                                                                           \
  X(icalcomponent_free)                                                                            \
  X(icalcomponent_get_first_component)                                                             \
  X(icalcomponent_get_first_property)                                                              \
  X(icalcomponent_get_next_component)                                                              \
  X(icalcomponent_get_next_property)                                                               \
  X(icalcomponent_get_status)                                                                      \
  X(icalcomponent_get_summary)                                                                     \
  X(icalcomponent_get_timezone)                                                                    \
  X(icalcomponent_get_uid)                                                                         \
  X(icalcomponent_isa)                                                                             \
  X(icalcomponent_remove_component)                                                                \
  X(icaldurationtype_as_int)                                                                       \
  X(icalerror_set_errors_are_fatal)                                                                \
  X(icalparameter_get_cn)                                                                          \
  X(icalparameter_get_partstat)                                                                    \
  X(icalparameter_get_tzid)                                                                        \
  X(icalparser_parse_string)                                                                       \
  X(icalproperty_get_attendee)                                                                     \
  X(icalproperty_get_class)                                                                        \
  X(icalproperty_get_duration)                                                                     \
  X(icalproperty_get_first_parameter)                                                              \
  X(icalproperty_get_method)                                                                       \
  X(icalproperty_get_organizer)                                                                    \
  X(icalproperty_get_property_name)                                                                \
  X(icalproperty_get_rrule)                                                                        \
  X(icalproperty_get_value)                                                                        \
  X(icalproperty_get_value_as_string)                                                              \
  X(icalrecur_iterator_free)                                                                       \
  X(icalrecur_iterator_new)                                                                        \
  X(icalrecur_iterator_next)                                                                       \
  X(icalrecur_iterator_set_start)                                                                  \
  X(icaltime_adjust)                                                                               \
  X(icaltime_as_timet)                                                                             \
  X(icaltime_as_timet_with_zone)                                                                   \
  X(icaltime_from_timet_with_zone)                                                                 \
  X(icaltime_is_null_time)                                                                         \
  X(icaltime_is_utc)                                                                               \
  X(icaltime_null_time)                                                                            \
  X(icaltimezone_get_builtin_timezone)                                                             \
  X(icaltimezone_get_utc_timezone)                                                                 \
  X(icalvalue_get_datetime)                                                                        \
  X(icalvalue_get_datetimeperiod)                                                                  \
  X(icalvalue_get_period)                                                                          \
  X(icalvalue_get_text)                                                                            \
  X(icalvalue_get_uri)                                                                             \
  X(icalvalue_get_x)                                                                               \
  X(icalvalue_isa)

typedef struct {
#define AR_ICAL_FIELD(name) __typeof__(name) *name;
  AR_ICAL_FUNCS(AR_ICAL_FIELD)
#undef AR_ICAL_FIELD
} ArIcal;

/* Set by ar_ical_load(); NULL before. */
extern const ArIcal *ar_ical_fns;

/* libical's functions, opened once (thread-safe); NULL and @error (one line) if it cannot
 * be loaded. Errors are returned by libical from then on, never abort()ed on. */
const ArIcal *ar_ical_load(GError **error);

G_END_DECLS

#ifndef AR_ICAL_NO_REDIRECT
#define icalcomponent_free (ar_ical_fns->icalcomponent_free)
#define icalcomponent_get_first_component (ar_ical_fns->icalcomponent_get_first_component)
#define icalcomponent_get_first_property (ar_ical_fns->icalcomponent_get_first_property)
#define icalcomponent_get_next_component (ar_ical_fns->icalcomponent_get_next_component)
#define icalcomponent_get_next_property (ar_ical_fns->icalcomponent_get_next_property)
#define icalcomponent_get_status (ar_ical_fns->icalcomponent_get_status)
#define icalcomponent_get_summary (ar_ical_fns->icalcomponent_get_summary)
#define icalcomponent_get_timezone (ar_ical_fns->icalcomponent_get_timezone)
#define icalcomponent_get_uid (ar_ical_fns->icalcomponent_get_uid)
#define icalcomponent_isa (ar_ical_fns->icalcomponent_isa)
#define icalcomponent_remove_component (ar_ical_fns->icalcomponent_remove_component)
#define icaldurationtype_as_int (ar_ical_fns->icaldurationtype_as_int)
#define icalerror_set_errors_are_fatal (ar_ical_fns->icalerror_set_errors_are_fatal)
#define icalparameter_get_cn (ar_ical_fns->icalparameter_get_cn)
#define icalparameter_get_partstat (ar_ical_fns->icalparameter_get_partstat)
#define icalparameter_get_tzid (ar_ical_fns->icalparameter_get_tzid)
#define icalparser_parse_string (ar_ical_fns->icalparser_parse_string)
#define icalproperty_get_attendee (ar_ical_fns->icalproperty_get_attendee)
#define icalproperty_get_class (ar_ical_fns->icalproperty_get_class)
#define icalproperty_get_duration (ar_ical_fns->icalproperty_get_duration)
#define icalproperty_get_first_parameter (ar_ical_fns->icalproperty_get_first_parameter)
#define icalproperty_get_method (ar_ical_fns->icalproperty_get_method)
#define icalproperty_get_organizer (ar_ical_fns->icalproperty_get_organizer)
#define icalproperty_get_property_name (ar_ical_fns->icalproperty_get_property_name)
#define icalproperty_get_rrule (ar_ical_fns->icalproperty_get_rrule)
#define icalproperty_get_value (ar_ical_fns->icalproperty_get_value)
#define icalproperty_get_value_as_string (ar_ical_fns->icalproperty_get_value_as_string)
#define icalrecur_iterator_free (ar_ical_fns->icalrecur_iterator_free)
#define icalrecur_iterator_new (ar_ical_fns->icalrecur_iterator_new)
#define icalrecur_iterator_next (ar_ical_fns->icalrecur_iterator_next)
#define icalrecur_iterator_set_start (ar_ical_fns->icalrecur_iterator_set_start)
#define icaltime_adjust (ar_ical_fns->icaltime_adjust)
#define icaltime_as_timet (ar_ical_fns->icaltime_as_timet)
#define icaltime_as_timet_with_zone (ar_ical_fns->icaltime_as_timet_with_zone)
#define icaltime_from_timet_with_zone (ar_ical_fns->icaltime_from_timet_with_zone)
#define icaltime_is_null_time (ar_ical_fns->icaltime_is_null_time)
#define icaltime_is_utc (ar_ical_fns->icaltime_is_utc)
#define icaltime_null_time (ar_ical_fns->icaltime_null_time)
#define icaltimezone_get_builtin_timezone (ar_ical_fns->icaltimezone_get_builtin_timezone)
#define icaltimezone_get_utc_timezone (ar_ical_fns->icaltimezone_get_utc_timezone)
#define icalvalue_get_datetime (ar_ical_fns->icalvalue_get_datetime)
#define icalvalue_get_datetimeperiod (ar_ical_fns->icalvalue_get_datetimeperiod)
#define icalvalue_get_period (ar_ical_fns->icalvalue_get_period)
#define icalvalue_get_text (ar_ical_fns->icalvalue_get_text)
#define icalvalue_get_uri (ar_ical_fns->icalvalue_get_uri)
#define icalvalue_get_x (ar_ical_fns->icalvalue_get_x)
#define icalvalue_isa (ar_ical_fns->icalvalue_isa)
#endif
