"""The 23 competent authorities (主管機關) of SPEC §2, with the interior ministry's area codes."""

AUTHORITIES: tuple[tuple[str, str], ...] = (
    ("63000", "臺北市"),
    ("64000", "高雄市"),
    ("65000", "新北市"),
    ("66000", "臺中市"),
    ("67000", "臺南市"),
    ("68000", "桃園市"),
    ("10002", "宜蘭縣"),
    ("10004", "新竹縣"),
    ("10005", "苗栗縣"),
    ("10007", "彰化縣"),
    ("10008", "南投縣"),
    ("10009", "雲林縣"),
    ("10010", "嘉義縣"),
    ("10013", "屏東縣"),
    ("10014", "臺東縣"),
    ("10015", "花蓮縣"),
    ("10016", "澎湖縣"),
    ("10017", "基隆市"),
    ("10018", "新竹市"),
    ("10020", "嘉義市"),
    ("09020", "金門縣"),
    ("09007", "連江縣"),
    ("K12EA", "教育部國民及學前教育署"),
)
AUTHORITY_CODE_BY_NAME = {name: code for code, name in AUTHORITIES}
AUTHORITY_CODE_BY_NAME["國教署"] = "K12EA"

# The usual order of the authorities in lists and menus: the six special municipalities
# (臺北市, 新北市, 桃園市, 臺中市, 臺南市, 高雄市), then the counties and cities in the MOE's
# usual order (the interior ministry's code order), 國教署 last. AUTHORITIES keeps the SPEC's
# order, which the national seed depends on; lists sort with authority_sort_key instead.
AUTHORITY_ORDER: tuple[str, ...] = (
    "63000",  # 臺北市
    "65000",  # 新北市
    "68000",  # 桃園市
    "66000",  # 臺中市
    "67000",  # 臺南市
    "64000",  # 高雄市
    "10002",  # 宜蘭縣
    "10004",  # 新竹縣
    "10005",  # 苗栗縣
    "10007",  # 彰化縣
    "10008",  # 南投縣
    "10009",  # 雲林縣
    "10010",  # 嘉義縣
    "10013",  # 屏東縣
    "10014",  # 臺東縣
    "10015",  # 花蓮縣
    "10016",  # 澎湖縣
    "10017",  # 基隆市
    "10018",  # 新竹市
    "10020",  # 嘉義市
    "09020",  # 金門縣
    "09007",  # 連江縣
    "K12EA",  # 教育部國民及學前教育署
)
_POSITION = {code: position for position, code in enumerate(AUTHORITY_ORDER)}


def authority_sort_key(code: str) -> tuple[int, str]:
    """Sort key for an authority's code: the usual order; unknown codes after, by code."""
    return (_POSITION.get(code, len(AUTHORITY_ORDER)), code)
