"""Where events go beyond a logging handler of the standard library, and reading them back.

``batching`` is the bounded queue and background sender that the network sinks share;
``redis_stream`` publishes to a Redis Stream and ``tail`` reads one (the ``[redis]``
extra); ``otel`` emits OpenTelemetry events (the ``[otel]`` extra); ``cloudevents``
turns envelopes into CloudEvents and ``cloudevents_http`` POSTs them (standard library
only); ``jsonl`` knows the JSON-lines files that ``logging.FileHandler`` sinks write.
Each module imports only what it needs, so importing this package costs nothing.
"""
