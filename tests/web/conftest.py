from .support import clock, env, store  # noqa: F401  (fixtures)
