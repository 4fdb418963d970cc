"""Gunicorn settings read from the project folder (``gunicorn wsgi:app``); command-line options still win."""


def post_worker_init(worker):
    """Start the search snapshot's background thread as each worker starts, so its first search does not read the
    index inside a request."""
    import search

    search.warm(worker.wsgi)
