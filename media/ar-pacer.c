/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-pacer.c: the sender's video pacer (issue 14, part 2): a packet queue and
 * a leaky bucket. See ar-pacer.h for the rules.
 */
#include "ar-pacer.h"

typedef struct {
  gpointer item;
  gsize size;
  guint32 frame;
  gint64 in_us;
} ArPacerEntry;

struct _ArPacer {
  GDestroyNotify free_item;
  GQueue queue; /* of ArPacerEntry */
  guint target_kbps;
  double debt;    /* bytes */
  gint64 debt_us; /* when the debt was last brought up to date; 0: never */
  guint media_packets;
  ArPacerStats stats;
};

ArPacer *
ar_pacer_new(GDestroyNotify free_item)
{
  ArPacer *pacer = g_new0(ArPacer, 1);

  pacer->free_item = free_item;
  g_queue_init(&pacer->queue);
  return pacer;
}

static void
ar_pacer_entry_free(ArPacer *pacer, ArPacerEntry *e)
{
  if (pacer->free_item != NULL && e->item != NULL)
    pacer->free_item(e->item);
  g_free(e);
}

void
ar_pacer_clear(ArPacer *pacer)
{
  ArPacerEntry *e;

  while ((e = g_queue_pop_head(&pacer->queue)) != NULL)
    ar_pacer_entry_free(pacer, e);
  pacer->stats.queued_bytes = 0;
  pacer->media_packets = 0;
}

void
ar_pacer_free(ArPacer *pacer)
{
  if (pacer == NULL)
    return;
  ar_pacer_clear(pacer);
  g_free(pacer);
}

void
ar_pacer_set_target(ArPacer *pacer, gint64 now_us, guint target_kbps)
{
  (void)now_us;
  pacer->target_kbps = target_kbps;
}

/* Bytes per second at the pacing factor, without the drain. */
static double
ar_pacer_base_rate(const ArPacer *pacer)
{
  return pacer->target_kbps * 1000.0 / 8.0 * AR_PACER_FACTOR;
}

static const ArPacerEntry *
ar_pacer_oldest_media(const ArPacer *pacer)
{
  for (const GList *l = pacer->queue.head; l != NULL; l = l->next) {
    const ArPacerEntry *e = l->data;

    if (e->size > 0)
      return e;
  }
  return NULL;
}

/* Bytes per second now: the base rate, or what empties the queue before its
 * oldest packet waited AR_PACER_QUEUE_LIMIT_US, whichever is higher. */
static double
ar_pacer_rate(const ArPacer *pacer, gint64 now_us)
{
  double rate = ar_pacer_base_rate(pacer);
  const ArPacerEntry *oldest = ar_pacer_oldest_media(pacer);

  if (rate > 0 && oldest != NULL) {
    gint64 left = MAX(AR_PACER_QUEUE_LIMIT_US - (now_us - oldest->in_us), G_TIME_SPAN_MILLISECOND);
    double needed = (double)pacer->stats.queued_bytes / ((double)left / G_USEC_PER_SEC);

    rate = MAX(rate, needed);
  }
  return rate;
}

double
ar_pacer_get_rate_kbps(const ArPacer *pacer, gint64 now_us)
{
  return ar_pacer_rate(pacer, now_us) * 8.0 / 1000.0;
}

/* The debt drains at the rate since it was last brought up to date. */
static void
ar_pacer_drain(ArPacer *pacer, gint64 now_us, double rate)
{
  if (pacer->debt_us != 0 && now_us > pacer->debt_us)
    pacer->debt = MAX(0.0, pacer->debt - rate * (double)(now_us - pacer->debt_us) / G_USEC_PER_SEC);
  if (now_us > pacer->debt_us || pacer->debt_us == 0)
    pacer->debt_us = now_us;
}

static void
ar_pacer_add_debt(ArPacer *pacer, double rate, gsize bytes)
{
  if (rate <= 0) /* no pacing: no debt either */
    return;
  pacer->debt += (double)bytes;
  pacer->debt = MIN(pacer->debt, rate * (double)AR_PACER_MAX_DEBT_US / G_USEC_PER_SEC);
}

void
ar_pacer_charge(ArPacer *pacer, gint64 now_us, gsize bytes)
{
  double rate = ar_pacer_rate(pacer, now_us);

  ar_pacer_drain(pacer, now_us, rate);
  ar_pacer_add_debt(pacer, rate, bytes);
}

/* Drops the queued media packets (events stay) of frames other than @keep
 * (all when @all); returns how many. */
static guint
ar_pacer_drop_media(ArPacer *pacer, guint32 keep, gboolean all)
{
  guint dropped = 0;
  GList *l = pacer->queue.head;

  while (l != NULL) {
    GList *next = l->next;
    ArPacerEntry *e = l->data;

    if (e->size > 0 && (all || e->frame != keep)) {
      pacer->stats.queued_bytes -= e->size;
      pacer->media_packets--;
      g_queue_delete_link(&pacer->queue, l);
      ar_pacer_entry_free(pacer, e);
      dropped++;
    }
    l = next;
  }
  pacer->stats.packets_dropped += dropped;
  return dropped;
}

ArPacerPush
ar_pacer_push(ArPacer *pacer, gint64 now_us, gpointer item, gsize size, guint32 frame,
              gboolean key_start)
{
  ArPacerPush result = AR_PACER_PUSH_QUEUED;
  ArPacerEntry *e;

  if (size > 0 && key_start && ar_pacer_drop_media(pacer, frame, FALSE) > 0)
    result |= AR_PACER_PUSH_FLUSHED;
  if (size > 0 && pacer->media_packets >= AR_PACER_MAX_PACKETS) {
    ar_pacer_drop_media(pacer, 0, TRUE);
    pacer->stats.overflows++;
    result |= AR_PACER_PUSH_OVERFLOW;
    if (!key_start) { /* a frame whose start is gone: worth nothing either */
      pacer->stats.packets_dropped++;
      if (pacer->free_item != NULL && item != NULL)
        pacer->free_item(item);
      return result;
    }
  }
  e = g_new0(ArPacerEntry, 1);
  e->item = item;
  e->size = size;
  e->frame = frame;
  e->in_us = now_us;
  g_queue_push_tail(&pacer->queue, e);
  if (size > 0) {
    pacer->stats.queued_bytes += size;
    pacer->media_packets++;
  }
  return result;
}

gpointer
ar_pacer_pop(ArPacer *pacer, gint64 now_us, gint64 *next_us)
{
  ArPacerEntry *e = g_queue_peek_head(&pacer->queue);
  double rate = ar_pacer_rate(pacer, now_us);
  gpointer item;

  ar_pacer_drain(pacer, now_us, rate);
  if (e == NULL) {
    *next_us = G_MAXINT64;
    return NULL;
  }
  if (e->size > 0 && rate > 0) {
    double burst = rate * (double)AR_PACER_BURST_US / G_USEC_PER_SEC;

    if (pacer->debt > burst) {
      gint64 wait = (gint64)((pacer->debt - burst) / rate * G_USEC_PER_SEC) + 1;

      *next_us = now_us + MAX(wait, 100);
      return NULL;
    }
  }
  g_queue_pop_head(&pacer->queue);
  if (e->size > 0) {
    pacer->stats.queued_bytes -= e->size;
    pacer->media_packets--;
    pacer->stats.packets_sent++;
    pacer->stats.bytes_sent += e->size;
    pacer->stats.max_delay_us = MAX(pacer->stats.max_delay_us, now_us - e->in_us);
    ar_pacer_add_debt(pacer, rate, e->size);
  }
  item = e->item;
  g_free(e);
  *next_us = g_queue_is_empty(&pacer->queue) ? G_MAXINT64 : now_us;
  return item;
}

void
ar_pacer_get_stats(const ArPacer *pacer, ArPacerStats *stats)
{
  *stats = pacer->stats;
  stats->queued_packets = pacer->media_packets;
}
