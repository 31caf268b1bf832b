"""說明手冊: the filling guide, written once here and rendered both as a page and as a PDF (fpdf2).

The PDF needs a CJK font: core.fonts finds it, for this PDF and for 研習證明 alike.
"""

from __future__ import annotations

import functools

from core import fonts
from planning.choices import NEED_QUESTIONS, OPTIONS, Question

TITLE = "學校本位暨教師自我專業進修規劃 說明手冊"


def sections() -> list[tuple[str, list[str]]]:
    """(heading, paragraphs): the one source text of the page and the PDF."""
    needs = [
        f"{Question(q).label}：{'、'.join(str(label) for _c, label in OPTIONS[q])}（可複選）"
        for q in NEED_QUESTIONS
    ]
    domains = "、".join(str(label) for _c, label in OPTIONS[Question.DOMAIN])
    return [
        (
            "一、填報期程",
            [
                "學校本位進修規劃由各校業務帳號代表一名（總負責人或連絡人）於所屬主管機關的填報期間內填寫；"
                "教師自我進修規劃由每位教師於服務學校所屬主管機關的填報期間內填寫。",
                "填報期間自第一天 00:00 起至最後一天 17:00:00 止（以伺服器時間為準），17:00:00 之後送出一律不予受理。",
                "期間外的表單僅能檢視；各主管機關的期程公告於首頁「最新消息」。",
            ],
        ),
        (
            "二、學校本位進修規劃",
            [
                "一、學校資料：學校教育階段（國小、國中、高中、高職、特殊教育學校）與學生總數。",
                "二、教師名單：依教師名單截止時間之教師資料（職稱、類別、任教科目）自動帶入，並顯示各教師是否已送出教師自我進修規劃。",
                "三、教師研習需求：",
                *needs,
                f"四、主要研習範疇：{domains}（可複選）。",
            ],
        ),
        (
            "三、教師自我進修規劃",
            [
                "頁面上方可檢視本校已送出的學校本位進修規劃作為參考。",
                "請勾選個人的研習需求與主要研習範疇，並可填寫各研習範疇的規劃時數（0 至 999 小時）。",
                "頁面並列出本學年度各範疇的規劃時數與已核發的實際時數，以及符合規劃的開放課程。",
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


def guide_pdf() -> bytes:
    """The guide as a PDF. Raises core.fonts.FontMissing without a CJK font."""
    return _build(fonts.cjk_font())


@functools.lru_cache(maxsize=2)
def _build(font: fonts.Font) -> bytes:
    # Built once per process and font.
    from fpdf import FPDF

    path, index = font.path, font.index
    pdf = FPDF(format="A4")
    pdf.set_title(TITLE)
    pdf.set_lang("zh-TW")
    pdf.add_font("cjk", fname=path, collection_font_number=index)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.multi_cell(0, 10, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, paragraphs in sections():
        pdf.set_font("cjk", size=14)
        pdf.multi_cell(0, 9, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 7, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    return bytes(pdf.output())
