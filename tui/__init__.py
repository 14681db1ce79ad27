"""baton's terminal front end: the ``baton`` command line and the Textual app."""
