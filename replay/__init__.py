"""Reading runs back from a baton store: conversations, turns, transitions and loops."""
