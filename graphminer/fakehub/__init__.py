"""fakehub: a GitHub REST API emulator (server, world model and world generator).

The world format is documented in ``docs/world-format.md``.
"""
