"""National identity numbers (身分證字號 and 居留證號), SPEC §3.3 and §9.

Formats: 身分證 A123456789 (second character 1 or 2); the 2021 統一證號 A800000014 (second
character 8 or 9) with the same checksum; the old 居留證 AB12345678, whose second letter counts
by the units digit of its letter code. The number is personal data: it is stored as an HMAC
digest for look-up and a Fernet-encrypted copy, with both keys outside the database.
"""

import functools
import hashlib
import hmac
import re
import unicodedata
from typing import NamedTuple

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.validation import Problem

LETTER_CODES = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34, "J": 18,
    "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25, "S": 26, "T": 27,
    "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}  # fmt: skip
WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 1)

NATIONAL_ID_RE = re.compile(r"^[A-Z][1289][0-9]{8}$")
OLD_RESIDENT_RE = re.compile(r"^[A-Z]{2}[0-9]{8}$")
# Anything shaped like an ID inside free text: used to redact logs.
ANY_ID_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?:[1289]\d{8}|[A-Za-z]\d{8})(?![A-Za-z0-9])")

# One wording for the web forms and every importer; none of them repeats the number (SPEC §9).
MSG_REQUIRED = _("身分證字號或居留證號不可空白。")
MSG_FORMAT = _("身分證字號或居留證號格式不正確。")
MSG_CHECKSUM = _("身分證字號或居留證號檢查碼不正確。")
# A valid number that no roster holds (the importers' rows, a manager checking an application).
MSG_UNKNOWN_PERSON = _("此身分證字號或居留證號不在人員名冊中（請先匯入或登錄人員名冊）。")


def normalize(value: str) -> str:
    """Trimmed and upper-case, full-width characters (Ａ１２３, common in typed data) made ASCII."""
    value = (value or "").strip()
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    return value.upper()


def _checksum_ok(first_letter: str, second_value: int, digits: str) -> bool:
    """digits: the seven serial digits plus the check digit (eight ASCII digits in all)."""
    code = LETTER_CODES[first_letter]
    d = digits.encode()  # ASCII digits (the callers' patterns): each byte minus 48 is its value
    total = (
        code // 10 + (code % 10) * 9 + second_value * 8
        + d[0] * 7 + d[1] * 6 + d[2] * 5 + d[3] * 4 + d[4] * 3 + d[5] * 2 + d[6] + d[7]
        - 48 * (7 + 6 + 5 + 4 + 3 + 2 + 1 + 1)
    )  # fmt: skip
    return total % 10 == 0


def _valid_normalized(value: str) -> bool:
    if NATIONAL_ID_RE.match(value):
        return _checksum_ok(value[0], int(value[1]), value[2:])
    if OLD_RESIDENT_RE.match(value):
        return _checksum_ok(value[0], LETTER_CODES[value[1]] % 10, value[2:])
    return False


def is_valid(value: str) -> bool:
    return _valid_normalized(normalize(value))


def check(value: str) -> str | Problem:
    """The normalised number, or the problem with it (the row check of every importer)."""
    value = normalize(value)
    if not value:
        return Problem(MSG_REQUIRED)
    if NATIONAL_ID_RE.match(value):
        second = int(value[1])
    elif OLD_RESIDENT_RE.match(value):
        second = LETTER_CODES[value[1]] % 10
    else:
        return Problem(MSG_FORMAT)
    if not _checksum_ok(value[0], second, value[2:]):
        return Problem(MSG_CHECKSUM)
    return value


def validate_national_id(value: str) -> None:
    """Django validator over `check`: the same rule and words as the importers (a blank form
    field is the field's own `required` business, so blank here is a wrong format)."""
    result = check(value) if normalize(value) else Problem(MSG_FORMAT)
    if result.__class__ is Problem:
        raise ValidationError(result.message, code="format" if result.message == MSG_FORMAT else "checksum")


def with_check_digit(prefix: str) -> str:
    """Complete a nine-character prefix (letter, second character, seven digits) with its check digit."""
    prefix = normalize(prefix)
    for digit in "0123456789":
        if is_valid(prefix + digit):
            return prefix + digit
    raise ValueError("not a valid ID prefix")


def hmac_keys() -> list[str]:
    """The look-up keys, the writer first (settings.NATIONAL_ID_HMAC_KEYS during a rotation)."""
    return list(settings.NATIONAL_ID_HMAC_KEYS) or [settings.NATIONAL_ID_HMAC_KEY]


def fernet_keys() -> list[str]:
    """The encryption keys, the writer first (settings.NATIONAL_ID_FERNET_KEYS during a rotation)."""
    return list(settings.NATIONAL_ID_FERNET_KEYS) or [settings.NATIONAL_ID_FERNET_KEY]


def rekeying() -> bool:
    """A look-up key rotation is under way: stored digests may be of any listed key."""
    return len(hmac_keys()) > 1


def _digest_with(key: str, value: str) -> str:
    mac = _hmac_for(key).copy()
    mac.update(normalize(value).encode())
    return mac.hexdigest()


def digest(value: str) -> str:
    """Keyed hash for uniqueness and look-up (the writer key); the same number, the same digest."""
    return _digest_with(hmac_keys()[0], value)


def digests(value: str) -> list[str]:
    """The digest under every listed look-up key, the writer's first: what a look-up and the
    uniqueness check compare with until re-keying completes (docs/operations.md)."""
    return list(dict.fromkeys(_digest_with(key, value) for key in hmac_keys()))


def digester():
    """`digest` for numbers `check` has normalised already, bound to the writer key: an import's
    tight loop (the key looked up once, not once per number)."""
    keyed = _hmac_for(hmac_keys()[0])

    def digest_checked(value: str) -> str:
        mac = keyed.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    return digest_checked


def encrypter():
    """`encrypt` for numbers `check` has normalised already, bound to the settings' keys once (the
    same MultiFernet as encrypt: it writes with the first key)."""
    writer = _fernet()
    return lambda value: writer.encrypt(value.encode()).decode()


@functools.lru_cache(maxsize=4)
def _hmac_for(key: str):
    # The keyed state once per key: an import hashes hundreds of thousands of numbers, and copying
    # a prepared HMAC costs less than keying a new one each time.
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


@functools.lru_cache(maxsize=4)
def _fernet_for(key: str) -> Fernet:
    return Fernet(key.encode())


@functools.lru_cache(maxsize=4)
def _multi_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet_for(key) for key in keys])


def _fernet() -> MultiFernet:
    # Keyed by the settings' values, so a changed key (a test's override) takes effect at once;
    # an import encrypts hundreds of thousands of numbers and need not rebuild the cipher each time.
    # MultiFernet: encrypts with the first key, decrypts with any (a rotation's stages).
    return _multi_for(tuple(fernet_keys()))


def cipher() -> MultiFernet:
    """The national-ID cipher, for a stored file that carries IDs (core.exports.EncryptedFile)."""
    return _fernet()


def encrypt(value: str) -> str:
    return _fernet().encrypt(normalize(value).encode()).decode()


def decrypt(token: str) -> str:
    """The number in clear, for uses that never show it to anyone (key rotation, a look-up's
    digests, a form's confirmation step). A page, download, file or feed that carries the number
    decrypts through `reveal`, under a name on ID_RECIPIENTS."""
    return _fernet().decrypt(token.encode()).decode()


# ------------------------------------------------------------------------------------------
# Who may receive a national ID (SPEC §9: "never in URLs, logs, lists, exports other than the
# operator's reward export and the unit's own roster download"). Each exporter that writes the
# number cites its entry here and decrypts through reveal(token, to=ENTRY). The walk in
# tests/accounts/test_id_recipients.py fetches every page and download of the portal as each role
# and fails when an ID appears anywhere but under the URLs listed here; a source scan fails when a
# module decrypts outside reveal() and ID_INTERNAL_USES.


class Recipient(NamedTuple):
    spec: str  # the SPEC clause that allows it
    what: str  # the export, in words
    urls: tuple[str, ...] = ()  # the URL names that serve it (none: a command or a feed)


ROSTER_DOWNLOAD = "teachers.roster_download"
REWARD_EXPORT = "rewards.operator_export"
DATA_EXCHANGE_EXPORT = "dataexchange.export"
KINDERGARTEN_FEED = "courses.kindergarten_feed"

ID_RECIPIENTS: dict[str, Recipient] = {
    ROSTER_DOWNLOAD: Recipient(
        "SPEC §9 (the unit's own roster download), §4 資料下載",
        "teachers.exports.roster_table: the manager's own unit, read back by 批次上傳",
        ("teachers:download",),
    ),
    REWARD_EXPORT: Recipient(
        "SPEC §9 (the operator's reward export), §8 reward export",
        "rewards.exports: the operator's national lists only (an authority's or school's copy has none),"
        " written encrypted by a worker and served to the operator who asked (core.exports)",
        ("rewards:export-file",),
    ),
    DATA_EXCHANGE_EXPORT: Recipient(
        "SPEC §8 (roster, hours and plans files import back, so they carry the ID)",
        "manage.py export_data: the operator's shell, no page serves it",
    ),
    KINDERGARTEN_FEED: Recipient(
        "SPEC §4 (nightly synchronisation with 全國教保資訊網, which keys teachers on the ID)",
        "courses.feeds: the hours sent to 全國教保資訊網's adapter, never shown on a page",
    ),
}
# The course participant list (courses.exports) is not on the list: since the 報名序號 key it carries
# no ID, and the walk checks that it stays so.

# Modules that decrypt without disclosing: the number is compared, re-encrypted or handed to a
# service, never written out.
ID_INTERNAL_USES = (
    "accounts.key_rotation",  # re-encryption under a new key
    "accounts.services",  # an application's digests during a look-up key rotation
    "teachers.views",  # 教師資料登錄's confirmation step hands the number back to the service
)


class NotARecipient(LookupError):
    """An export asked for a national ID without being on ID_RECIPIENTS."""


def reveal(token: str, *, to: str) -> str:
    """The number in clear for the export `to`, which must be on ID_RECIPIENTS."""
    if to not in ID_RECIPIENTS:
        raise NotARecipient(f"{to!r} is not on accounts.national_id.ID_RECIPIENTS (SPEC §9)")
    return decrypt(token)


def written_with_writer_key(token: str) -> bool:
    """Whether the copy needs no re-encryption (the writer key alone reads it)."""
    try:
        _fernet_for(fernet_keys()[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def redact(text: str) -> str:
    return ANY_ID_RE.sub("[已遮蔽]", text)
