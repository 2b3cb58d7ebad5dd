"""Outcomes of one verification task, shared by the pool, its workers and the reward."""

OK, LIMIT, TIMEOUT, ERROR = "ok", "limit", "timeout", "error"
