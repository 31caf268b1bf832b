"""Password hashing at OWASP's recommended Argon2id parameters (issue 9 point 13).

Django's Argon2 default (m = 100 MiB, t = 2, p = 8) and its PBKDF2 default (1,000,000 rounds,
0.25 s of CPU) both cost more CPU per sign-in than a 2-core server can spend at a deadline.
OWASP's Password Storage Cheat Sheet: Argon2id with m = 19 MiB, t = 2, p = 1. The algorithm name
stays "argon2", so Django re-hashes an older Argon2 or PBKDF2 hash at the holder's next sign-in
(must_update compares the parameters stored in the hash).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
