"""Row errors of one file, and the refusal that carries them: nothing written, every bad row listed."""

from __future__ import annotations

import heapq

# Printing stops after this many errors; the total is always given.
MAX_PRINTED_ERRORS = 1000

# User-facing messages (Traditional Chinese); tests assert these exact strings.
MSG_LINE = "{at}：{reason}"
MSG_AT_LINE = "第 {line} 列"
MSG_AT_SHEET_LINE = "第 {sheet} 個工作表第 {line} 列"
MSG_FILE = "檔案：{reason}"  # a problem of the whole file (line 0)
MSG_REFUSED = "匯入失敗：共 {count} 筆錯誤，未寫入任何資料。"
MSG_MORE_ERRORS = "……另有 {count} 筆錯誤未列出"

# A row's position in a file is one integer (the staging tables' line_no): the spreadsheet's
# line number, plus SHEET_SPAN for each sheet before its own. `at()` turns it back into words.
SHEET_SPAN = 10_000_000


def at(position: int) -> str:
    """Where a row is, in the words a user looks for: 第 12 列, or 第 2 個工作表第 12 列."""
    sheet, line = divmod(position, SHEET_SPAN)
    if sheet:
        return MSG_AT_SHEET_LINE.format(sheet=sheet + 1, line=line)
    return MSG_AT_LINE.format(line=line)


class ErrorList:
    """Row errors of one file: keeps the MAX_PRINTED_ERRORS lowest line numbers, counts them all."""

    def __init__(self, cap: int | None = None):
        self.cap = MAX_PRINTED_ERRORS if cap is None else cap
        self.total = 0
        self._heap: list[tuple[int, int, str]] = []  # max-heap by (line, seq) through negation
        self._seq = 0

    def add(self, line: int, reason) -> None:
        """`reason`: a message or a core.validation.Problem."""
        reason = str(reason)
        self.total += 1
        self._seq += 1
        item = (-line, -self._seq, reason)
        if len(self._heap) < self.cap:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def add_all(self, line: int, problems) -> None:
        for problem in problems:
            self.add(line, problem)

    def __bool__(self) -> bool:
        return self.total > 0

    def items(self) -> list[tuple[int, str]]:
        return [(-line, reason) for line, _seq, reason in sorted(self._heap, reverse=True)]

    def lines(self) -> list[str]:
        out = [
            MSG_LINE.format(at=at(line), reason=reason) if line else MSG_FILE.format(reason=reason)
            for line, reason in self.items()
        ]
        if self.total > len(out):
            out.append(MSG_MORE_ERRORS.format(count=self.total - len(out)))
        return out


class ImportRefused(Exception):
    """The file is refused whole; nothing was written. `messages` are the lines to show."""

    def __init__(self, errors: ErrorList):
        super().__init__(MSG_REFUSED.format(count=errors.total))
        self.errors = errors

    @property
    def messages(self) -> list[str]:
        return self.errors.lines()


def refuse_if(errors: ErrorList) -> None:
    if errors:
        raise ImportRefused(errors)
