"""Where ``baton collect`` listens and what it accepts unless told otherwise (light, so
the command line can show them without loading the server)."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318
DEFAULT_MAX_BODY = 20 * 1024 * 1024
TRACES_PATH = "/v1/traces"
