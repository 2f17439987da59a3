# Misbehaving and helper plugins used by the loader tests.
