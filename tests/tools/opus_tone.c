/*
 * opus_tone: test tool that makes and checks Opus audio for the node tests.
 *
 *   opus_tone encode FREQ_HZ NFRAMES OUTFILE
 *       Writes NFRAMES 20 ms Opus frames (48 kHz, stereo, 64 kbit/s) of a
 *       sine tone at -6 dBFS, each as a u16 big-endian length + the packet.
 *   opus_tone analyze INFILE
 *       Reads that format, decodes every packet and prints one JSON line
 *       {"packets":N,"decoded_samples":S,"dominant_hz":F,"rms":R}.
 *       S counts samples per channel; R is the RMS of the mono mix, full
 *       scale = 1.0; F is the strongest frequency in 50..4000 Hz.
 *
 * Frequency search: a Welch-averaged Goertzel scan (Hann windows of 4096
 * samples, 2 Hz steps) finds the peak's neighbourhood; a second Goertzel
 * scan over one long Hann window (up to 2 s from the middle of the signal)
 * refines it in 0.05 Hz steps. The coarse window's main lobe (+-23 Hz) is
 * far wider than the 2 Hz step, so the coarse scan cannot step over a tone.
 *
 * Single-threaded; all memory is owned by main's callees and freed before
 * they return. Exit status: 0 ok, 1 runtime error, 2 usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus.h>

#define OT_RATE 48000
#define OT_CHANNELS 2
#define OT_FRAME 960 /* 20 ms at 48 kHz */
#define OT_BITRATE 64000
#define OT_MAX_PACKET 4000
#define OT_MIN_HZ 50.0
#define OT_MAX_HZ 4000.0
#define OT_COARSE_WIN 4096
#define OT_COARSE_STEP 2.0
#define OT_COARSE_MAX_SEGS 16
#define OT_FINE_MAX_WIN (2 * OT_RATE)
#define OT_FINE_SPAN 8.0
#define OT_FINE_STEP 0.05

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Decoded mono audio; owned by the caller of decode_file. */
typedef struct {
  float *s;
  size_t n;
  size_t cap;
  size_t packets;
} ot_pcm_t;

static int write_packet(FILE *f, const unsigned char *pkt, int len) {
  unsigned char hdr[2] = {(unsigned char)(len >> 8), (unsigned char)len};
  if (fwrite(hdr, 1, 2, f) != 2 || fwrite(pkt, 1, (size_t)len, f) != (size_t)len) return -EIO;
  return 0;
}

static OpusEncoder *make_encoder(void) {
  int err = 0;
  OpusEncoder *enc = opus_encoder_create(OT_RATE, OT_CHANNELS, OPUS_APPLICATION_AUDIO, &err);
  if (!enc || err != OPUS_OK) {
    fprintf(stderr, "opus_encoder_create: %s\n", opus_strerror(err));
    return NULL;
  }
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(OT_BITRATE));
  return enc;
}

static int encode_frames(OpusEncoder *enc, double hz, long nframes, FILE *out) {
  opus_int16 pcm[OT_FRAME * OT_CHANNELS];
  unsigned char pkt[OT_MAX_PACKET];
  double phase = 0.0;
  const double step = 2.0 * M_PI * hz / OT_RATE;

  for (long f = 0; f < nframes; f++) {
    for (int i = 0; i < OT_FRAME; i++) {
      opus_int16 v = (opus_int16)lrint(16384.0 * sin(phase));
      pcm[2 * i] = v;
      pcm[2 * i + 1] = v;
      phase = fmod(phase + step, 2.0 * M_PI);
    }
    int len = opus_encode(enc, pcm, OT_FRAME, pkt, sizeof pkt);
    if (len < 0) {
      fprintf(stderr, "opus_encode: %s\n", opus_strerror(len));
      return -EINVAL;
    }
    if (write_packet(out, pkt, len) < 0) return -EIO;
  }
  return 0;
}

static int cmd_encode(int argc, char **argv) {
  if (argc != 5) return 2;
  char *end = NULL;
  double hz = strtod(argv[2], &end);
  long nframes = strtol(argv[3], NULL, 10);
  if (*end != '\0' || hz <= 0.0 || hz >= OT_RATE / 2.0 || nframes <= 0) return 2;
  OpusEncoder *enc = make_encoder();
  if (!enc) return 1;
  FILE *out = fopen(argv[4], "wb");
  int rc = out ? encode_frames(enc, hz, nframes, out) : -errno;
  if (out && fclose(out) != 0 && rc == 0) rc = -EIO;
  opus_encoder_destroy(enc);
  if (rc < 0) fprintf(stderr, "encode to %s failed: %s\n", argv[4], strerror(-rc));
  return rc < 0 ? 1 : 0;
}

static int pcm_reserve(ot_pcm_t *p, size_t extra) {
  if (p->n + extra <= p->cap) return 0;
  size_t cap = p->cap ? p->cap : OT_RATE;
  while (cap < p->n + extra) cap *= 2;
  float *s = realloc(p->s, cap * sizeof *s);
  if (!s) return -ENOMEM;
  p->s = s;
  p->cap = cap;
  return 0;
}

/* Decodes one packet and appends its mono mix to p. */
static int decode_packet(OpusDecoder *dec, const unsigned char *pkt, int len, ot_pcm_t *p) {
  static const int max_frame = 120 * OT_RATE / 1000; /* 120 ms */
  opus_int16 pcm[120 * OT_RATE / 1000 * OT_CHANNELS];
  int n = opus_decode(dec, pkt, len, pcm, max_frame, 0);
  if (n < 0) {
    fprintf(stderr, "opus_decode (packet %zu, %d bytes): %s\n", p->packets, len, opus_strerror(n));
    return -EINVAL;
  }
  if (pcm_reserve(p, (size_t)n) < 0) return -ENOMEM;
  for (int i = 0; i < n; i++) p->s[p->n++] = (float)((pcm[2 * i] + pcm[2 * i + 1]) / 65536.0);
  p->packets++;
  return 0;
}

static int decode_stream(FILE *in, OpusDecoder *dec, ot_pcm_t *p) {
  unsigned char hdr[2];
  unsigned char pkt[65536];
  size_t got;

  while ((got = fread(hdr, 1, 2, in)) == 2) {
    int len = (hdr[0] << 8) | hdr[1];
    if (len == 0 || fread(pkt, 1, (size_t)len, in) != (size_t)len) {
      fprintf(stderr, "truncated or empty packet %zu\n", p->packets);
      return -EINVAL;
    }
    int rc = decode_packet(dec, pkt, len, p);
    if (rc < 0) return rc;
  }
  return got == 0 ? 0 : -EINVAL;
}

static int decode_file(const char *path, ot_pcm_t *p) {
  int err = 0;
  FILE *in = fopen(path, "rb");
  if (!in) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -errno;
  }
  OpusDecoder *dec = opus_decoder_create(OT_RATE, OT_CHANNELS, &err);
  int rc = dec ? decode_stream(in, dec, p) : -ENOMEM;
  if (dec) opus_decoder_destroy(dec);
  fclose(in);
  return rc;
}

/* Hann window of n samples; caller frees. */
static float *hann(size_t n) {
  float *w = malloc(n * sizeof *w);
  for (size_t i = 0; w && i < n; i++)
    w[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)(n - 1)));
  return w;
}

/* A window position over the signal: win_len samples from start. */
typedef struct {
  const ot_pcm_t *pcm;
  const float *win;
  size_t win_len;
  size_t nsegs;
  size_t stride;
} ot_scan_t;

/* Power of frequency hz in s[0..n) under window w (Goertzel). */
static double goertzel_power(const float *s, const float *w, size_t n, double hz) {
  const double coeff = 2.0 * cos(2.0 * M_PI * hz / OT_RATE);
  double q1 = 0.0, q2 = 0.0;
  for (size_t i = 0; i < n; i++) {
    double q0 = coeff * q1 - q2 + (double)(w[i] * s[i]);
    q2 = q1;
    q1 = q0;
  }
  return q1 * q1 + q2 * q2 - coeff * q1 * q2;
}

/* Sum of the powers over sc->nsegs windows sc->stride apart (Welch). */
static double scan_power(const ot_scan_t *sc, double hz) {
  double sum = 0.0;
  for (size_t k = 0; k < sc->nsegs; k++)
    sum += goertzel_power(sc->pcm->s + k * sc->stride, sc->win, sc->win_len, hz);
  return sum;
}

static double scan_peak(const ot_scan_t *sc, double lo, double hi, double step) {
  double best_hz = lo, best = -1.0;
  size_t steps = (size_t)((hi - lo) / step + 0.5);
  for (size_t i = 0; i <= steps; i++) {
    double hz = lo + (double)i * step;
    double pw = scan_power(sc, hz);
    if (pw > best) {
      best = pw;
      best_hz = hz;
    }
  }
  return best_hz;
}

static double coarse_peak(const ot_pcm_t *p) {
  ot_scan_t sc = {.pcm = p,
                  .win = hann(OT_COARSE_WIN),
                  .win_len = OT_COARSE_WIN,
                  .nsegs = p->n / OT_COARSE_WIN};
  if (sc.nsegs > OT_COARSE_MAX_SEGS) sc.nsegs = OT_COARSE_MAX_SEGS;
  sc.stride = (p->n - OT_COARSE_WIN) / (sc.nsegs > 1 ? sc.nsegs - 1 : 1);
  double hz = sc.win ? scan_peak(&sc, OT_MIN_HZ, OT_MAX_HZ, OT_COARSE_STEP) : -1.0;
  free((void *)sc.win);
  return hz;
}

/* One long window centred on the middle of the signal. */
static double fine_peak(const ot_pcm_t *p, double around) {
  size_t n = p->n < OT_FINE_MAX_WIN ? p->n : OT_FINE_MAX_WIN;
  ot_pcm_t mid = {.s = p->s + (p->n - n) / 2, .n = n};
  ot_scan_t sc = {.pcm = &mid, .win = hann(n), .win_len = n, .nsegs = 1};
  double lo = fmax(OT_MIN_HZ, around - OT_FINE_SPAN);
  double hi = fmin(OT_MAX_HZ, around + OT_FINE_SPAN);
  double hz = sc.win ? scan_peak(&sc, lo, hi, OT_FINE_STEP) : -1.0;
  free((void *)sc.win);
  return hz;
}

/* Returns 0 when there is too little audio, -1 when out of memory. */
static double dominant_hz(const ot_pcm_t *p) {
  if (p->n < OT_COARSE_WIN) return 0.0;
  double coarse = coarse_peak(p);
  return coarse < 0.0 ? -1.0 : fine_peak(p, coarse);
}

static double rms(const ot_pcm_t *p) {
  double acc = 0.0;
  for (size_t i = 0; i < p->n; i++) acc += (double)p->s[i] * p->s[i];
  return p->n ? sqrt(acc / (double)p->n) : 0.0;
}

static int cmd_analyze(int argc, char **argv) {
  if (argc != 3) return 2;
  ot_pcm_t pcm = {0};
  int rc = decode_file(argv[2], &pcm);
  if (rc == 0)
    printf(
        "{\"packets\":%zu,\"decoded_samples\":%zu,"
        "\"dominant_hz\":%.2f,\"rms\":%.5f}\n",
        pcm.packets, pcm.n, dominant_hz(&pcm), rms(&pcm));
  free(pcm.s);
  return rc < 0 ? 1 : 0;
}

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
} commands[] = {
    {"encode", cmd_encode},
    {"analyze", cmd_analyze},
};

int main(int argc, char **argv) {
  for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(argv[1], commands[i].name) != 0) continue;
    int rc = commands[i].run(argc, argv);
    if (rc != 2) return rc;
    break;
  }
  fprintf(stderr,
          "usage: opus_tone encode FREQ_HZ NFRAMES OUTFILE\n"
          "       opus_tone analyze INFILE\n");
  return 2;
}
