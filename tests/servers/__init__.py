"""Real servers that tests start and stop on 127.0.0.1."""
