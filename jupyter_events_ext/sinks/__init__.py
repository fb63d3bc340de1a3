"""Where events go beyond a logging handler of the standard library, and reading them back.

``redis_stream`` publishes to a Redis Stream and ``tail`` reads one (the ``[redis]``
extra); ``jsonl`` knows the JSON-lines files that ``logging.FileHandler`` sinks write.
Each module imports only what it needs, so importing this package costs nothing.
"""
