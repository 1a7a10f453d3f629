"""gunicorn's configuration. gunicorn reads `gunicorn.conf.py` from the directory it starts
in, and every way this project starts it (scripts/run.py, the Dockerfile, docker-compose.yml,
the tests) starts it here. docs/OPERATIONS.md, "Request limits", says what each limit does.
"""

# The longest request line gunicorn takes: its maximum (the default, 4094, answered a
# 4 KiB /api/ URL with gunicorn's HTML page). Our own limit for /api/ URLs is lower,
# API_MAX_URL_BYTES, answered by Django; this one only catches what is longer still.
limit_request_line = 8190


def post_worker_init(worker):
    # Django is loaded by now. A configuration its checks refuse (production with development
    # audit keys) stops the worker, and a worker that cannot boot stops gunicorn.
    from server.startup import refuse_bad_configuration

    refuse_bad_configuration()
    # gunicorn's own refusals are written as problem+json.
    from server.gunicorn_problems import install

    install()
