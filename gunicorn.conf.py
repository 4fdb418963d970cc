"""Gunicorn settings read from the project folder (``gunicorn wsgi:app``); command-line options still win.

With ``--preload`` the master reads the search snapshot once, before it forks: every worker starts with it (its
numpy arrays shared, copy-on-write, so four workers hold about one copy) and answers its first search at once.
Without it each worker reads the snapshot in a background thread as it starts, not inside its first request.
"""


def when_ready(server):
    if server.cfg.preload_app:
        import search

        search.preload(server.app.wsgi())


def post_worker_init(worker):
    import search

    search.warm(worker.wsgi)
