"""Credentials in the shapes people leak them, and the attribute keys they hide under."""

from __future__ import annotations

#: (what it is, the secret text). Each must be absent from every stored column.
FREE_TEXT_SECRETS: tuple[tuple[str, str], ...] = (
    ("openai key", "sk-proj-Abc123Def456Ghi789Jkl012"),
    ("anthropic key", "sk-ant-api03-Zyx987Wvu654Tsr321Qpo"),
    ("aws access key id", "AKIAIOSFODNN7EXAMPLE"),
    ("github token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    ("slack token", "xoxb-1234567890-abcdefghijkl"),
    ("google api key", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"),
    ("bearer token", "Bearer q1w2e3r4t5y6u7i8o9p0"),
    ("basic auth", "Basic dXNlcjpodW50ZXIyaHVudGVyMg=="),
)
#: The secret part of each: what must never be found in the store.
SECRET_PARTS = (
    "Abc123Def456Ghi789Jkl012",
    "Zyx987Wvu654Tsr321Qpo",
    "IOSFODNN7EXAMPLE",
    "16C7e42F292c6912E7710c838347Ae178B4a",
    "1234567890-abcdefghijkl",
    "SyA1234567890abcdefghijklmnopqrstuv",
    "dozjgNryP4J3jVmNHl0w5N",
    "q1w2e3r4t5y6u7i8o9p0",
    "dXNlcjpodW50ZXIyaHVudGVyMg",
)
#: Attribute keys whose value is a credential whatever it looks like.
SECRET_KEYS = (
    "db_password",
    "aws_secret_access_key",
    "http.request.header.x-goog-api-key",
    "client_secret",
    "http.response.header.set-cookie",
    "app.Credential",
    "PRIVATE_KEY",
    "x-auth-token",
)
KEY_VALUE = "plain-looking-value-0042"
#: Keys that look close but are not secrets: kept as they are.
NOT_SECRET_KEYS = {
    "gen_ai.usage.input_tokens": 12,
    "llm.token_count.prompt": 7,
    "gen_ai.request.max_tokens": 100,
    "author": "Ada",
}
