/*
 * cli_run.c - `pgcdc run`: streams changes until SIGINT/SIGTERM.
 *
 * The data directory is locked (flock on <data-dir>/.lock) so two processes
 * can never interleave writes to the same offsets and sink files; `pgcdc
 * status` reads the lock to tell whether a pipeline is running.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "source/source.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static const char usage[] =
    "Usage: pgcdc run --config FILE [--data-dir DIR] [--log-level LEVEL]\n"
    "\n"
    "Streams every committed change of the captured tables as Debezium change\n"
    "events to the configured sinks (default: the file sink, one JSON Lines file per\n"
    "topic in DIR). SIGINT/SIGTERM flush the sinks, persist offsets and exit 0; a\n"
    "restart resumes right after the last acknowledged event. With source.type:\n"
    "kafka, Debezium-format topics are read in a consumer group instead and the\n"
    "group's committed offsets are the position.\n"
    "\n"
    "  --config FILE     native YAML pipeline file or Debezium connector JSON\n"
    "  --data-dir DIR    offsets and file-sink output (default ./pgcdc-data)\n"
    "  --log-level L     error, warn, info (default) or debug\n";

int pgcdc_cli_run(int argc, char **argv)
{
    pgcdc_config cfg;
    int rc = pgcdc_cli_parse(argc, argv, usage, &cfg, NULL, NULL, NULL, NULL);
    if (rc)
        return rc == 3 ? 0 : rc;

    const char *dir = cfg.data_dir;
    int lock_fd = -1;
    if (pgcdc_mkdir_p(dir, NULL) != 0) {
        pgcdc_log_error("run", "cannot create data directory %s: %s", dir, strerror(errno));
        rc = 1;
        goto out;
    }
    char lock_path[4200];
    snprintf(lock_path, sizeof(lock_path), "%s/.lock", dir);
    lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int locked = 0;
    /* `pgcdc status` probes the lock for an instant: retry briefly so that
     * probe never fails a start; a running pipeline keeps it for good */
    for (int attempt = 0; lock_fd >= 0 && !locked && attempt < 20; attempt++) {
        locked = flock(lock_fd, LOCK_EX | LOCK_NB) == 0;
        if (!locked)
            usleep(50000);
    }
    if (!locked) {
        pgcdc_log_error("run",
                        "data directory %s is in use by another pgcdc process (lock %s): stop it "
                        "or use another --data-dir",
                        dir, lock_path);
        rc = 1;
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    const pgcdc_source_type *source = pgcdc_source_type_get(&cfg);
    pgcdc_buf who = PGCDC_BUF_INIT;
    source->describe(&cfg, &who);
    pgcdc_log_info("run", "pgcdc %s: %s, data dir %s", PGCDC_VERSION, who.data, dir);
    pgcdc_buf_free(&who);

    char err[1024];
    if (source->run(&cfg, dir, &stop_requested, err, sizeof(err)) != 0) {
        pgcdc_log_error("run", "%s", err);
        rc = 1;
    } else {
        rc = 0;
    }
out:
    if (lock_fd >= 0)
        close(lock_fd);
    pgcdc_config_free(&cfg);
    return rc;
}
