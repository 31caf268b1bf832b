"""Shared machinery of the SPEC §8 data exchange: reading, checking, staging, writing, running.

Pure plumbing with no import from any app (like `core.roc`). Each kind lives in the app that
owns its tables and registers itself here from its AppConfig.ready() (`register(Kind(...))`):
`accounts.importers` (units), `teachers.importers` (roster), `courses.importers` (hours),
`planning.importers` (plans). The commands, the seeder, a Celery task or a web upload find the
kinds through `kinds()` / `get_kind()` and run them through `import_file()` / `export_file()`.

The contract of an import: the file is streamed (never read whole), every row is validated,
row-local checks in Python (with caches, since national IDs, dates and hour values repeat) and
cross-row and database checks as set-based SQL over a staging table; if any row is bad nothing is
written and every bad row is reported by its line number. On PostgreSQL the staging table is
filled with `COPY` (psycopg 3); elsewhere with batched inserts. The same SQL validates and merges
on both back ends. Everything one import knows lives in its `ImportRun` (errors, notices, phase
timings, temporary tables) and comes back as an `ImportResult`: no module-level state.

Checks follow core.validation: a value or a `Problem`; a row's problems are a list.

The package, by concern (every name is re-exported here: `from core.dataexchange import Table`):
`registry` (the kinds), `files` (`import_file` / `export_file`), `run` (`ImportRun`,
`ImportResult`), `reading` (`Table`: .csv and .xlsx in), `writing` (`TableWriter`), `copying`
(`copy_csv`: a national .csv COPYed straight into a staging table), `cells` (cell
text, the formula guard), `fields` (row-local checks of dates, decimals, codes), `errors`
(`ErrorList`, `ImportRefused`), `staging` (staging tables, set-based checks), `bulk` (`--bulk`).
"""

from core.dataexchange.bulk import LOCK_ALL, LOCK_WRITES, bulk_locks, secondary_indexes_dropped
from core.dataexchange.cells import FORMULA_ESCAPED_RE, FORMULA_RE, FORMULA_START, cell_text, escape_formula
from core.dataexchange.copying import WHITESPACE, CopiedRows, copy_csv
from core.dataexchange.errors import (
    MAX_PRINTED_ERRORS,
    MSG_AT_LINE,
    MSG_AT_SHEET_LINE,
    MSG_FILE,
    MSG_LINE,
    MSG_MORE_ERRORS,
    MSG_REFUSED,
    SHEET_SPAN,
    ErrorList,
    ImportRefused,
    at,
    refuse_if,
)
from core.dataexchange.fields import (
    ISO_DATE_RE,
    MSG_BAD_DATE,
    MSG_END_BEFORE_START,
    MSG_LOST_ZEROS,
    LeadingZeros,
    check_date,
    parse_date,
    parse_decimal,
)
from core.dataexchange.files import (
    MSG_BULK_NEEDS_POSTGRESQL,
    MSG_DATABASE_REFUSED,
    MSG_REKEYING,
    export_file,
    import_file,
)
from core.dataexchange.reading import (
    MSG_CSV_FORMAT,
    MSG_DUPLICATE_COLUMN,
    MSG_EMPTY_FILE,
    MSG_ENCODING,
    MSG_FIELD_COUNT,
    MSG_FILE_NOT_FOUND,
    MSG_MISSING_COLUMNS,
    MSG_SHEET_HEADER,
    MSG_SHEET_SKIPPED,
    MSG_TOO_MANY_ROWS,
    MSG_UNSUPPORTED_FILE,
    MSG_XLSX_BROKEN,
    MSG_XLSX_TOO_LARGE,
    XLSX_ERRORS,
    XLSX_MAX_INFLATED_BYTES,
    XLSX_MAX_RATIO,
    XLSX_RATIO_FLOOR,
    Table,
    xlsx_limit,
)
from core.dataexchange.registry import KINDS, Kind, get_kind, kinds, register
from core.dataexchange.run import ImportResult, ImportRun
from core.dataexchange.staging import Staging, analyse, collect, is_postgresql, tune_session
from core.dataexchange.writing import XLSX_SHEET_ROWS, TableWriter

__all__ = [
    "CopiedRows",
    "WHITESPACE",
    "copy_csv",
    "ErrorList",
    "FORMULA_ESCAPED_RE",
    "FORMULA_RE",
    "FORMULA_START",
    "ISO_DATE_RE",
    "ImportRefused",
    "ImportResult",
    "ImportRun",
    "KINDS",
    "Kind",
    "LOCK_ALL",
    "LOCK_WRITES",
    "LeadingZeros",
    "MAX_PRINTED_ERRORS",
    "MSG_AT_LINE",
    "MSG_AT_SHEET_LINE",
    "MSG_BAD_DATE",
    "MSG_BULK_NEEDS_POSTGRESQL",
    "MSG_CSV_FORMAT",
    "MSG_DATABASE_REFUSED",
    "MSG_DUPLICATE_COLUMN",
    "MSG_EMPTY_FILE",
    "MSG_ENCODING",
    "MSG_END_BEFORE_START",
    "MSG_FIELD_COUNT",
    "MSG_FILE",
    "MSG_FILE_NOT_FOUND",
    "MSG_LINE",
    "MSG_LOST_ZEROS",
    "MSG_MISSING_COLUMNS",
    "MSG_MORE_ERRORS",
    "MSG_REFUSED",
    "MSG_REKEYING",
    "MSG_SHEET_HEADER",
    "MSG_SHEET_SKIPPED",
    "MSG_TOO_MANY_ROWS",
    "MSG_UNSUPPORTED_FILE",
    "MSG_XLSX_BROKEN",
    "MSG_XLSX_TOO_LARGE",
    "SHEET_SPAN",
    "Staging",
    "Table",
    "TableWriter",
    "XLSX_ERRORS",
    "XLSX_MAX_INFLATED_BYTES",
    "XLSX_MAX_RATIO",
    "XLSX_RATIO_FLOOR",
    "XLSX_SHEET_ROWS",
    "analyse",
    "at",
    "bulk_locks",
    "cell_text",
    "check_date",
    "collect",
    "escape_formula",
    "export_file",
    "get_kind",
    "import_file",
    "is_postgresql",
    "kinds",
    "parse_date",
    "parse_decimal",
    "refuse_if",
    "register",
    "secondary_indexes_dropped",
    "tune_session",
    "xlsx_limit",
]
