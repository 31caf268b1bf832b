from inservice.settings import *  # noqa

PASSWORD_HASHERS = ['django.contrib.auth.hashers.PBKDF2PasswordHasher', 'accounts.hashers.Argon2idHasher', 'django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher']
