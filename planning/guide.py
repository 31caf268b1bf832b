"""說明手冊: the filling guide, written once here and rendered both as a page and as a PDF (fpdf2).

The PDF needs a CJK font; Debian's fonts-noto-cjk ships Noto Sans CJK as a TrueType collection
(.ttc), which fpdf2 reads with `collection_font_number` (index 3 is the TC face).
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from fpdf import FPDF

from core.roc import format_roc_date
from planning.choices import NEED_QUESTIONS, OPTIONS, Domain, Question

# Candidate font files, first found wins: (path, index of the Traditional Chinese face in a collection).
FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 3),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 3),
    ("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc", 3),
)

TITLE = "學校本位暨教師自我專業進修規劃 說明手冊"


def window_lines(cycle, authority, windows) -> list[str]:
    """The reader's authority's windows in words (ROC dates, the 17:00:00 close), or where to find them."""
    if cycle is None:
        return ["本學年度的進修規劃尚未開放；開放後，登入即可在本手冊看到貴單位所屬主管機關的填報期程。"]
    if authority is None:
        return [
            f"{cycle.year} 學年度各主管機關的填報期程不同：登入後，本手冊（網頁與 PDF）即列出您所屬主管機關的期程；"
            "期程亦公告於首頁「最新消息」。"
        ]
    if not windows:
        return [
            f"{authority.name}尚未排定 {cycle.year} 學年度的填報期程，排定後會列在這裡及首頁「最新消息」。"
        ]
    lines = [f"您所屬的主管機關：{authority.name}（{cycle.year} 學年度）"]
    for window in windows:
        phase = f"（第 {window.phase} 階段）" if window.phase else ""
        lines.append(
            f"{window.get_kind_display()}{phase}：{format_roc_date(window.first_day)} 00:00 起，"
            f"至 {format_roc_date(window.last_day)} 17:00:00 止"
        )
    return lines


def sections(cycle=None, authority=None, windows=()) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs): the one source text of the page and the PDF, with the reader's windows."""
    needs = [
        f"{Question(q).label}：{'、'.join(str(label) for _c, label in OPTIONS[q])}（可複選）"
        for q in NEED_QUESTIONS
    ]
    domains = "、".join(str(label) for _c, label in OPTIONS[Question.DOMAIN])
    domain_names = "、".join(str(label) for _c, label in Domain.choices)
    return [
        (
            "一、填報期程",
            [
                *window_lines(cycle, authority, windows),
                "學校本位進修規劃由各校業務帳號代表一名（總負責人或連絡人）於所屬主管機關的填報期間內填寫；"
                "教師自我進修規劃由每位教師於服務學校所屬主管機關的填報期間內填寫。",
                "填報期間自第一天 00:00 起至最後一天 17:00:00 止（以伺服器時間為準），17:00:00 之後送出一律不予受理。",
                "期間外的表單僅能檢視；各主管機關的期程公告於首頁「最新消息」。",
            ],
        ),
        (
            "二、學校本位進修規劃：逐步填寫",
            [
                "步驟 1：以學校的業務帳號（總負責人或連絡人）登入，並輸入驗證器 App 的驗證碼。",
                "步驟 2：在主選單點選「學校本位進修規劃」；期間外只能檢視，頁面上方會說明填報期間。",
                "步驟 3（一、學校資料）：確認學校教育階段（國小、國中、高中、高職、特殊教育學校），填寫學生總數。",
                "步驟 4（二、教師名單）：核對依教師名單截止時間帶入的教師（職稱、類別、任教科目），"
                "名單旁顯示各教師是否已送出教師自我進修規劃；名單有誤請於本單位教師帳號管理更正後洽主管機關。",
                "步驟 5（三、教師研習需求）：每一題至少勾選一項，可複選：",
                *needs,
                f"步驟 6（四、主要研習範疇）：至少勾選一項，可複選：{domains}。",
                "步驟 7：填寫時會自動儲存草稿（畫面顯示「已自動儲存」），也可按「儲存草稿」。",
                "步驟 8：檢查無誤後按「確認送出」，系統會先詢問一次；送出後內容僅供檢視，並可填寫滿意度問卷。",
                "送出後需要修改時：填報期間內請洽所屬主管機關退回修改；期間截止後請洽教師進修網管理者，"
                "由管理者退回並給予延長截止時間，於延長期限內再次確認送出者視同於期程內送出。",
            ],
        ),
        (
            "三、教師自我進修規劃：逐步填寫",
            [
                "步驟 1：以教師個人帳號登入。",
                "步驟 2：在主選單點選「教師自我進修規劃」；服務學校須在規劃範圍內（國小、國中、高中、高職、特殊教育學校）。",
                "步驟 3（教師資料）：核對依教師名單截止時間帶入的服務學校、職稱、類別與任教科目；有誤請洽學校。",
                "步驟 4：參考頁面上方本校已確認送出的學校本位進修規劃。",
                "步驟 5（研習需求）：在研習方式、時間、地點、階層、實施方式各題勾選個人需求，可複選。",
                f"步驟 6（主要研習範疇）：勾選主要研習範疇，並可填寫各範疇的規劃時數（0 至 999 小時，可填半小時）：{domain_names}。",
                "步驟 7：對照頁面列出的各範疇規劃時數與已核發的實際時數，點選建議課程的連結可直接查看並報名"
                "（列出開放報名、由所屬主管機關或全國性單位開設的課程）。",
                "步驟 8：內容會自動儲存為草稿，也可按「儲存草稿」；確認無誤後按「確認送出」（會先詢問一次）。",
                "步驟 9：送出後可填寫簡短的滿意度問卷（選填）。需要修改已送出的規劃，請洽教師進修網管理者。",
            ],
        ),
        (
            "四、儲存草稿與確認送出",
            [
                "填寫中的內容會自動儲存為草稿，也可隨時按「儲存草稿」；草稿可多次修改。",
                "按「確認送出」後即完成填報，內容不能再修改；只有在填報期間內確認送出者才列入填報率與獎勵。",
                "登入閒置 30 分鐘會自動登出；逾時前 2 分鐘畫面會提醒，按「延長登入時間」即可繼續填寫。",
                "確認送出後可填寫簡短的滿意度問卷（選填，每份規劃一次）。",
            ],
        ),
        (
            "五、諮詢",
            ["全國教師在職進修資訊網 諮詢電話：(07)725-8600；E-mail：inservice@mail.nknu.edu.tw"],
        ),
    ]


def font_file() -> tuple[str, int] | None:
    configured = getattr(settings, "PLANNING_GUIDE_FONT", "")
    candidates = ((configured, 3),) + FONT_CANDIDATES if configured else FONT_CANDIDATES
    for path, index in candidates:
        if Path(path).exists():
            return path, index if path.endswith(".ttc") else 0
    return None


@functools.lru_cache(maxsize=64)
def _pdf(text: tuple[tuple[str, tuple[str, ...]], ...]) -> bytes:
    font = font_file()
    if font is None:
        raise FileNotFoundError("no CJK font for the guide PDF (apt-get install fonts-noto-cjk)")
    path, index = font
    pdf = FPDF(format="A4")
    pdf.set_title(TITLE)
    pdf.set_lang("zh-TW")
    pdf.add_font("cjk", fname=path, collection_font_number=index)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.multi_cell(0, 10, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, paragraphs in text:
        pdf.start_section(heading, level=0)  # one bookmark per section in the PDF outline
        pdf.set_font("cjk", size=14)
        pdf.multi_cell(0, 9, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 7, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    return bytes(pdf.output())


def guide_pdf(cycle=None, authority=None, windows=()) -> bytes:
    """The guide as a PDF with an outline entry per section, for the reader's authority (built once
    per distinct text). Raises FileNotFoundError without a CJK font."""
    text = tuple((heading, tuple(paragraphs)) for heading, paragraphs in sections(cycle, authority, windows))
    return _pdf(text)
