"""Background jobs on procrastinate (a PostgreSQL task queue).

`tasks` names every task and registers them on the app in one place; `app` builds the
procrastinate app from the database URL, queues jobs inside a caller's transaction and runs
workers (inside the backend, or as `crm worker` processes). Nothing here connects to the
database or starts anything when imported.
"""
