"""fakehub: a GitHub REST and GraphQL API emulator (server, world model and world generator).

The world format is documented in ``docs/world-format.md``.
"""
