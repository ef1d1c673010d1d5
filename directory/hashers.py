"""Password hashing: Argon2id with OWASP's parameters."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OWASPArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum: 19 MiB of memory, 2 iterations, 1 lane.

    The algorithm name stays "argon2", so hashes made with Django's own Argon2 parameters are still
    verified, and Django rewrites any hash whose parameters differ at the user's next sign-in.
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
