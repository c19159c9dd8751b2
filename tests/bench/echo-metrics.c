/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * echo-metrics.c: the echo lab's measurement (issue 14; tests/lab/echo, docs/audio.md).
 *
 *   echo-metrics DIR
 *
 * Reads DIR/far.wav and DIR/near.wav (the clean far-end and near-end speech), DIR/timeline.json
 * (their segments), DIR/mic.wav (the room's raw microphone), DIR/out.wav (the device under
 * test's processed microphone) and, if present, DIR/speaker.wav (what the speaker played,
 * recorded in the same pipeline as mic.wav, so sample 0 of both is the same instant). All are
 * 48 kHz mono S16 WAV, at most 10 minutes. Prints one JSON object (see docs/audio.md).
 *
 * Every pair is aligned by itself, so no start needs to be synchronized: cross-correlation of
 * 10 ms log-energy envelopes (lags up to +-8 s), then of samples within +-60 ms of that. far->mic
 * and near->mic place each talker's timeline in microphone time; out->mic places the processed
 * signal. A 10 ms frame of the microphone is far-only, near-only, double talk or silence from
 * both timelines, and only if nothing changes within 300 ms of it.
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define RATE 48000
#define FRAME 480                /* 10 ms */
#define MAX_SAMPLES (RATE * 600) /* 10 minutes */
#define MAX_ENV_LAG 800          /* frames: 8 s */
#define REFINE 2880              /* samples: 60 ms */
#define MARGIN (RATE * 3 / 10)   /* 300 ms around every change */
#define CONVERGENCE (RATE * 2)   /* the first 2 s of the first far-only segment */
#define MAX_SEGMENTS 64
#define FLOOR 1e-2 /* energy floor per sample (S16 units): no log of 0 */

typedef struct {
  double *x;
  gsize n;
} Signal;

typedef enum { K_SILENCE, K_FAR, K_NEAR, K_DOUBLE } Kind;

typedef struct {
  Kind kind;
  gsize start, end; /* samples */
} Segment;

static void
signal_clear(Signal *s)
{
  g_clear_pointer(&s->x, g_free);
  s->n = 0;
}

static guint32
le32(const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32)p[3] << 24);
}

static guint16
le16(const guint8 *p)
{
  return p[0] | (p[1] << 8);
}

/* A 48 kHz mono S16 PCM WAV. A data chunk longer than the file (a recorder stopped before it
 * wrote the size) is read up to the end of the file. */
static gboolean
read_wav(const char *path, Signal *out, GError **error)
{
  g_autofree guint8 *buf = NULL;
  gsize len = 0;
  gboolean fmt_ok = FALSE;

  if (!g_file_get_contents(path, (char **)&buf, &len, error))
    return FALSE;
  if (len > 44 + (gsize)MAX_SAMPLES * 2 + 4096) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: larger than 10 minutes", path);
    return FALSE;
  }
  if (len < 12 || memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a RIFF/WAVE file", path);
    return FALSE;
  }
  for (gsize p = 12; p + 8 <= len;) {
    guint32 size = le32(buf + p + 4);
    const guint8 *body = buf + p + 8;
    gsize avail = len - p - 8;
    if (memcmp(buf + p, "fmt ", 4) == 0) {
      if (size < 16 || avail < 16) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: short fmt chunk", path);
        return FALSE;
      }
      guint16 format = le16(body), channels = le16(body + 2), bits = le16(body + 14);
      guint32 rate = le32(body + 4);
      if ((format != 1 && format != 0xfffe) || channels != 1 || bits != 16 || rate != RATE) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: format %u, %u channels, %u bits, %u Hz; want PCM mono S16 48000 Hz", path,
                    format, channels, bits, rate);
        return FALSE;
      }
      fmt_ok = TRUE;
    } else if (memcmp(buf + p, "data", 4) == 0) {
      if (!fmt_ok) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: data before fmt", path);
        return FALSE;
      }
      gsize bytes = MIN((gsize)size, avail);
      out->n = bytes / 2;
      out->x = g_new(double, MAX(out->n, 1));
      for (gsize i = 0; i < out->n; i++)
        out->x[i] = (gint16)le16(body + 2 * i);
      return TRUE;
    }
    if (size > avail)
      break;
    p += 8 + (gsize)size + (size & 1);
  }
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no data chunk", path);
  return FALSE;
}

static gboolean
read_timeline(const char *path, Segment *segs, guint *n_segs, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_file(parser, path, error))
    return FALSE;
  JsonNode *root = json_parser_get_root(parser);
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  JsonNode *a = o ? json_object_get_member(o, "segments") : NULL;
  if (a == NULL || !JSON_NODE_HOLDS_ARRAY(a)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no segments array", path);
    return FALSE;
  }
  JsonArray *arr = json_node_get_array(a);
  guint n = json_array_get_length(arr);
  if (n == 0 || n > MAX_SEGMENTS) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: %u segments (1 to %d)", path, n,
                MAX_SEGMENTS);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(arr, i);
    JsonObject *s = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
    const char *kind = s ? json_object_get_string_member_with_default(s, "kind", "") : "";
    double start = s ? json_object_get_double_member_with_default(s, "start", -1) : -1;
    double end = s ? json_object_get_double_member_with_default(s, "end", -1) : -1;
    const char *kinds[] = {"silence", "far", "near", "double"};
    segs[i].kind = K_SILENCE;
    gboolean known = FALSE;
    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++)
      if (g_strcmp0(kind, kinds[k]) == 0) {
        segs[i].kind = (Kind)k;
        known = TRUE;
      }
    if (!known || !(start >= 0 && end > start && end <= 600)) {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: bad segment %u", path, i);
      return FALSE;
    }
    segs[i].start = (gsize)(start * RATE);
    segs[i].end = (gsize)(end * RATE);
  }
  *n_segs = n;
  return TRUE;
}

static double *
envelope(const Signal *s, gsize *n_frames)
{
  gsize n = s->n / FRAME;
  double *e = g_new0(double, MAX(n, 1));
  double mean = 0;
  for (gsize f = 0; f < n; f++) {
    double acc = 0;
    for (gsize i = 0; i < FRAME; i++)
      acc += s->x[f * FRAME + i] * s->x[f * FRAME + i];
    e[f] = log10(acc / FRAME + 1.0); /* log: a quiet echo counts as much as a loud talker */
    mean += e[f];
  }
  mean /= MAX(n, 1);
  for (gsize f = 0; f < n; f++)
    e[f] -= mean;
  *n_frames = n;
  return e;
}

/* The lag L (samples) such that ref[t] best matches sig[t + L]. */
static gssize
align(const Signal *ref, const Signal *sig)
{
  gsize na, nb;
  g_autofree double *a = envelope(ref, &na);
  g_autofree double *b = envelope(sig, &nb);
  double best = -G_MAXDOUBLE;
  gssize lag = 0;
  for (gssize l = -MAX_ENV_LAG; l <= MAX_ENV_LAG; l++) {
    double sab = 0, saa = 0, sbb = 0;
    gssize from = MAX(0, -l), to = MIN((gssize)na, (gssize)nb - l);
    if (2 * (to - from) < (gssize)MIN(na, nb))
      continue; /* less than half of the shorter one overlaps */
    for (gssize i = from; i < to; i++) {
      sab += a[i] * b[i + l];
      saa += a[i] * a[i];
      sbb += b[i + l] * b[i + l];
    }
    double c = saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
    if (c > best) {
      best = c;
      lag = l;
    }
  }
  /* Then samples: by 4 (sums of 4, 12 kHz) within +-REFINE, then 48 kHz within +-8. */
  gsize nd = ref->n / 4, md = sig->n / 4;
  g_autofree double *rd = g_new0(double, MAX(nd, 1));
  g_autofree double *sd = g_new0(double, MAX(md, 1));
  for (gsize i = 0; i < nd * 4; i++)
    rd[i / 4] += ref->x[i];
  for (gsize i = 0; i < md * 4; i++)
    sd[i / 4] += sig->x[i];
  gssize centre = lag * FRAME / 4;
  Signal r4 = {rd, nd}, s4 = {sd, md}, *pr[] = {&r4, (Signal *)ref}, *ps[] = {&s4, (Signal *)sig};
  gssize range[] = {REFINE / 4, 8};
  for (guint stage = 0; stage < 2; stage++) {
    gssize fine = centre;
    best = -G_MAXDOUBLE;
    for (gssize l = centre - range[stage]; l <= centre + range[stage]; l++) {
      double c = 0;
      gssize from = MAX(0, -l), to = MIN((gssize)pr[stage]->n, (gssize)ps[stage]->n - l);
      for (gssize t = from; t < to; t++)
        c += pr[stage]->x[t] * ps[stage]->x[t + l];
      if (c > best) {
        best = c;
        fine = l;
      }
    }
    centre = stage == 0 ? fine * 4 : fine;
  }
  r4.x = s4.x = NULL; /* owned by rd, sd */
  return centre;
}

/* Is (timeline time) t inside a segment where the far (or near) talker speaks? -1: outside. */
static int
active(const Segment *segs, guint n, gssize t, gboolean far, guint *index)
{
  for (guint i = 0; i < n; i++)
    if (t >= (gssize)segs[i].start && t < (gssize)segs[i].end) {
      *index = i;
      Kind k = segs[i].kind;
      return far ? (k == K_FAR || k == K_DOUBLE) : (k == K_NEAR || k == K_DOUBLE);
    }
  return -1;
}

typedef struct {
  double mic, out, near, out_near, near_mic, n; /* sums over the frames of one class */
  double out_sum, near_sum;
} Acc;

static double
db(double num, double den)
{
  return 10 * log10((num + FLOOR) / (den + FLOOR));
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  Signal far = {0}, near = {0}, mic = {0}, out = {0}, speaker = {0};
  Segment segs[MAX_SEGMENTS];
  guint n_segs = 0;
  gboolean have_speaker = FALSE;

  if (argc != 2) {
    g_printerr("usage: echo-metrics DIR (far.wav near.wav timeline.json mic.wav out.wav "
               "[speaker.wav])\n");
    return 2;
  }
  const char *dir = argv[1];
  g_autofree char *sp = g_build_filename(dir, "speaker.wav", NULL);
  g_autofree char *tl = g_build_filename(dir, "timeline.json", NULL);
  struct {
    const char *name;
    Signal *s;
  } files[] = {{"far.wav", &far}, {"near.wav", &near}, {"mic.wav", &mic}, {"out.wav", &out}};
  for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *p = g_build_filename(dir, files[i].name, NULL);
    if (!read_wav(p, files[i].s, &error))
      goto fail;
  }
  if (g_file_test(sp, G_FILE_TEST_EXISTS)) {
    if (!read_wav(sp, &speaker, &error))
      goto fail;
    have_speaker = TRUE;
  }
  if (!read_timeline(tl, segs, &n_segs, &error))
    goto fail;
  if (mic.n < RATE || out.n < RATE) {
    g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "mic.wav or out.wav shorter than 1 s");
    goto fail;
  }

  gssize lag_far = align(&far, &mic), lag_near = align(&near, &mic), lag_out = align(&mic, &out);
  gssize delay = have_speaker ? align(&speaker, &mic) : 0;
  guint first_far = G_MAXUINT, last_far = G_MAXUINT;
  for (guint i = 0; i < n_segs; i++)
    if (segs[i].kind == K_FAR) {
      if (first_far == G_MAXUINT)
        first_far = i;
      last_far = i;
    }

  /* Classes: 0 far-only after convergence in the last far segment, 1 first far segment after
   * its first 2 s, 2 near-only, 3 double talk, 4 every far-only frame. */
  Acc acc[5] = {0};
  for (gssize f = 0; f + 1 < (gssize)(mic.n / FRAME); f++) {
    gssize t0 = f * FRAME;
    gssize u = t0 + lag_out;
    if (u < 0 || u + FRAME > (gssize)out.n)
      continue;
    int fa = -2, na = -2;
    guint fi = 0, ni = 0, tmp;
    gboolean steady = TRUE;
    for (gssize t = t0 - MARGIN; t <= t0 + FRAME + MARGIN && steady; t += FRAME / 4) {
      int a = active(segs, n_segs, t - lag_far, TRUE, &tmp);
      int b = active(segs, n_segs, t - lag_near, FALSE, &tmp);
      if (a < 0 || b < 0 || (fa != -2 && (a != fa || b != na)))
        steady = FALSE;
      fa = a;
      na = b;
    }
    if (!steady)
      continue;
    active(segs, n_segs, t0 - lag_far, TRUE, &fi);
    active(segs, n_segs, t0 - lag_near, FALSE, &ni);
    int cls[2] = {-1, -1};
    if (fa && !na) {
      cls[1] = 4;
      if (fi == last_far && fi != first_far)
        cls[0] = 0;
      else if (fi == first_far && t0 - lag_far >= (gssize)(segs[fi].start + CONVERGENCE))
        cls[0] = 1;
    } else if (!fa && na) {
      cls[0] = 2;
    } else if (fa && na) {
      cls[0] = 3;
    }
    for (guint c = 0; c < 2; c++) {
      if (cls[c] < 0)
        continue;
      Acc *a = &acc[cls[c]];
      for (gssize i = 0; i < FRAME; i++) {
        double m = mic.x[t0 + i], o = out.x[u + i];
        gssize k = t0 + i - lag_near;
        double v = k >= 0 && k < (gssize)near.n ? near.x[k] : 0;
        a->mic += m * m;
        a->out += o * o;
        a->near += v * v;
        a->out_near += o * v;
        a->near_mic += m * v;
        a->out_sum += o;
        a->near_sum += v;
        a->n++;
      }
    }
  }

  double g = acc[2].near > 0 ? acc[2].near_mic / acc[2].near : 0; /* near-end gain in the mic */
  Acc *dt = &acc[3];
  double corr = 0;
  if (dt->n > 0) {
    double mo = dt->out_sum / dt->n, mn = dt->near_sum / dt->n;
    double cov = dt->out_near - dt->n * mo * mn;
    double vo = dt->out - dt->n * mo * mo, vn = dt->near - dt->n * mn * mn;
    corr = vo > 0 && vn > 0 ? cov / sqrt(vo * vn) : 0;
  }
  double a_dt = dt->near > 0 ? dt->out_near / dt->near : 0;
  double fs2 = 32768.0 * 32768.0;

  g_print("{\n");
  if (have_speaker)
    g_print("  \"delay_ms\": %.2f,\n", delay * 1000.0 / RATE);
  else
    g_print("  \"delay_ms\": null,\n");
  g_print("  \"far_lag_ms\": %.2f,\n  \"near_lag_ms\": %.2f,\n  \"out_lag_ms\": %.2f,\n",
          lag_far * 1000.0 / RATE, lag_near * 1000.0 / RATE, lag_out * 1000.0 / RATE);
  g_print("  \"erle_db\": %.2f,\n", db(acc[0].mic, acc[0].out));
  g_print("  \"erle_first_db\": %.2f,\n", db(acc[1].mic, acc[1].out));
  g_print("  \"residual_dbfs\": %.2f,\n", db(acc[0].out / MAX(acc[0].n, 1), fs2));
  g_print("  \"echo_in_mic_db\": %.2f,\n",
          db(acc[4].mic / MAX(acc[4].n, 1), acc[2].mic / MAX(acc[2].n, 1)));
  g_print("  \"near_kept_db\": %.2f,\n", db(acc[2].out, acc[2].mic));
  g_print("  \"double_talk_corr\": %.3f,\n", corr);
  g_print("  \"double_talk_energy_db\": %.2f,\n", db(dt->out, g * g * dt->near));
  g_print("  \"double_talk_near_kept_db\": %.2f,\n",
          g > 0 && a_dt > 0 ? 20 * log10(a_dt / g) : -200.0);
  g_print("  \"seconds\": {\"far_last\": %.2f, \"far_first\": %.2f, \"near\": %.2f, "
          "\"double\": %.2f}\n}\n",
          acc[0].n / RATE, acc[1].n / RATE, acc[2].n / RATE, acc[3].n / RATE);
  for (guint i = 0; i < G_N_ELEMENTS(files); i++)
    signal_clear(files[i].s);
  signal_clear(&speaker);
  return 0;

fail:
  g_printerr("echo-metrics: %s\n", error->message);
  for (guint i = 0; i < G_N_ELEMENTS(files); i++)
    signal_clear(files[i].s);
  signal_clear(&speaker);
  return 1;
}
