/*
 * sc_config: the command line and environment, turned into one read-only
 * settings struct.
 *
 * Owns: sc_config_t (embedded in sc_app_t; plain values, no pointers to
 * heap memory).
 * Threads: filled on the main thread before any other thread starts;
 * read-only afterwards, so every thread may read it without locks.
 */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#define SC_HOST_MAX 256
#define SC_PATH_MAX 1024
#define SC_SECRET_MAX 256
#define SC_MODES_MAX 8
#define SC_MODE_NAME_MAX 48

typedef struct {
  char host[SC_HOST_MAX];
  uint16_t port;
} sc_hostport_t;

typedef struct {
  sc_hostport_t lvsp_listen;       /* --lvsp-listen */
  sc_hostport_t gateway_listen;    /* --gateway-listen */
  sc_hostport_t udp_listen;        /* --udp-listen */
  char public_host[SC_HOST_MAX];   /* --public-host: endpoint host and Ready ip */
  char tls_cert[SC_PATH_MAX];      /* --tls-cert ("" = generated in state dir) */
  char tls_key[SC_PATH_MAX];       /* --tls-key */
  int no_tls;                      /* --no-tls */
  char state_dir[SC_PATH_MAX];     /* --state-dir */
  char lvsp_secret[SC_SECRET_MAX]; /* LVSP_SECRET env, or from the state dir */
  int media_workers;               /* --media-workers (default 1) */
  /* --modes: the encryption modes offered, in preference order. */
  char modes[SC_MODES_MAX][SC_MODE_NAME_MAX];
  int n_modes;
  uint32_t lvsp_heartbeat_ms;       /* HELLO heartbeat_interval given to Litecord */
  uint32_t gw_heartbeat_ms;         /* voice gateway Hello heartbeat_interval */
  uint32_t gw_heartbeat_timeout_ms; /* no heartbeat for this long: 4009 (0 = 2x interval + 5 s) */
  uint32_t gw_resume_grace_ms;      /* a voice session without socket ends after this */
  uint32_t gw_resume_buffer;        /* numbered gateway messages kept per session for resume */
  uint32_t gw_rate_limit;           /* gateway messages per --gw-rate-window-ms; more: 4021 */
  uint32_t gw_rate_window_ms;
  uint32_t gw_max_message;   /* bytes per gateway message; more: 4020 */
  uint32_t capacity;         /* sessions this server is sized for (health) */
  uint32_t max_connections;  /* connections held at once (0 = SC_CONNS_PER_CAPACITY x capacity) */
  uint32_t max_voice_states; /* --max-voice-states: the registry's limit */
  uint32_t max_channels;     /* --max-channels: the registry's limit */
  uint32_t lvsp_replay;      /* --lvsp-replay: INFO frames kept for RESUME */
  uint32_t lvsp_heartbeat_timeout_ms; /* close a silent LVSP link after this; 0 = never */
  sc_hostport_t admin_listen;         /* --admin-listen: read-only admin HTTP API */
  char admin_token[SC_SECRET_MAX];    /* --admin-token ("" = <state-dir>/admin_token) */
  int log_level;                      /* sc_log_level_t */
} sc_config_t;

/* Parse result: run, or exit at once with the given status (after --help,
 * --version, or a one-line error already printed to `err`). */
typedef enum { SC_CONFIG_RUN = 0, SC_CONFIG_EXIT_OK, SC_CONFIG_EXIT_ERROR } sc_config_result_t;

/* Fills cfg with defaults, then applies argv and the environment
 * (LVSP_SECRET). Output for --help/--version goes to `out`, errors to `err`.
 * Does not touch the file system, and does not apply cfg->log_level (the
 * caller passes it to sc_log_set_level). Flags take "--flag VALUE" or
 * "--flag=VALUE"; a repeated flag's last value wins; a separate VALUE may
 * not start with "--" (taken as a forgotten value). --no-tls together
 * with --tls-cert/--tls-key is an error. */
sc_config_result_t sc_config_parse(sc_config_t *cfg, int argc, char **argv, FILE *out, FILE *err);

/* Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (host 0.0.0.0). 0 or -1.
 * PORT is 0..65535, 0 meaning "any free port" (for tests). A v6 address
 * must be in brackets (and is stored without them); zone ids ("%eth0")
 * are not accepted. HOST is not resolved. Pure: no I/O. */
int sc_config_parse_hostport(const char *text, sc_hostport_t *out);

/* --max-connections 0: this many connections per --capacity session
 * (room for reconnects and resumes past the sized load). */
#define SC_CONNS_PER_CAPACITY 4
#define SC_CONNECTIONS_MAX 1000000

/* The registry's limits by default (sc_registry.h, docs/LVSP.md). */
#define SC_DEFAULT_MAX_VOICE_STATES 100000
#define SC_DEFAULT_MAX_CHANNELS 100000

/* --max-connections as given, or its default from --capacity. */
uint32_t sc_config_max_connections(const sc_config_t *cfg);

/* The state directory used when --state-dir is absent. */
#define SC_DEFAULT_STATE_DIR "./litecord-voice-state"

#endif
