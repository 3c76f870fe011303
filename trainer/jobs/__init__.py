"""Scheduled jobs: what runs when (registry), how one run goes (runner), the scheduler process
(scheduler) and `flask --app trainer scheduler` / `jobs list|run` (cli).

Web workers never start a scheduler; production runs `flask --app trainer scheduler` as one
separate process. `make run` may start one inside the development server
(SCHEDULER_IN_PROCESS), lazily on the first request.
"""
