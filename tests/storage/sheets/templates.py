"""Blank templates as providers get them, and a data year of activities to fill them with.

The modern template is written part by part as Excel saves one: shared strings, styles with
`mc:Ignorable` prefixes, a frozen header under a title row, and drop-down lists on a hidden
"Lists" sheet, which Excel keeps in the worksheet's extension list (`x14:dataValidation`).
openpyxl could not write it: it drops that extension.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.engine import Engine

from storage import activities as service
from storage.counts import record_counts
from storage.db import session_scope
from storage.pars.fields import resolve_key

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
X14_URI = "{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"

MODERN_HEADERS = [
    "Provider Activity ID",  # A
    "Activity Title",  # B
    "Activity Type",  # C  x14: Lists!$A$2:$A$12
    "Delivery Method",  # D  x14: Lists!$B$2:$B$3
    "Start Date",  # E  column formatted as a date
    "End Date",  # F
    "City",  # G
    "State",  # H
    "Country",  # I
    "AMA PRA Category 1 Credits Designated",  # J
    "Activity Description",  # K
    "Providership",  # L  a defined name: ProvidershipList
    "CME Finder",  # M  "Yes,No"
    "Fee",  # N  x14: Lists!$D$2:$D$4
    "Outcome Measures",  # O  x14: Lists!$E$2:$E$6
    "Commercial Support Received",  # P  "Yes,No"
    "Commercial Supporter 1",  # Q
    "Amount 1",  # R
    "Commercial Supporter 2",  # S
    "Amount 2",  # T
    "Registered for MOC",  # U  "Yes,No"
    "MOC Board 1",  # V  x14: Lists!$F$2:$F$9
    "MOC Points 1",  # W
    "MOC Credit Type 1",  # X
    "MOC Board 2",  # Y
    "MIPS",  # Z
    "ACCME Activity ID",  # AA
    "Commendation Criteria",  # AB
    "State Content Tags",  # AC  a field pars-bot does not keep
]
LISTS = {
    "A": [
        "Activity Types",
        "Live Course",
        "Regularly Scheduled Series",
        "Enduring Material",
        "Journal-based CME",
        "Manuscript Review",
        "Test-Item Writing",
        "Committee Learning",
        "Performance/Quality Improvement",
        "Internet Searching and Learning",
        "Learning from Teaching",
        "Other/Blended Learning",
    ],
    "B": ["Delivery Methods", "In-Person", "Live-Streamed"],
    "C": ["Providership", "Directly Provided", "Jointly Provided"],
    "D": ["Fee", "Yes", "No, it's free", "Variable"],
    "E": [
        "Outcome Measures",
        "Learner Knowledge",
        "Learner Competence",
        "Learner Performance",
        "Patient Health",
        "Community Health",
    ],
    "F": ["Boards", "ABA", "ABIM", "ABOHNS", "ABOS", "ABP", "ABPath", "ABS", "ABTS"],
}
# Column of the template -> the range of its list on the hidden sheet (the x14 extension).
X14_LISTS = {
    "C": "Lists!$A$2:$A$12",
    "D": "Lists!$B$2:$B$3",
    "N": "Lists!$D$2:$D$4",
    "O": "Lists!$E$2:$E$6",
    "V": "Lists!$F$2:$F$9",
}
INSTRUCTIONS = "Enter one activity per row. Use the drop-down lists. Do not rename the columns."


class _Strings:
    """The shared-strings table, as Excel keeps every text once."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def ref(self, text: str) -> str:
        if text not in self.items:
            self.items.append(text)
        return str(self.items.index(text))

    def xml(self) -> str:
        body = "".join(f"<si><t>{escape(t)}</t></si>" for t in self.items)
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            f'<sst xmlns="{MAIN}" count="{len(self.items)}" uniqueCount="{len(self.items)}">'
            f"{body}</sst>"
        )


def _text_row(number: int, cells: dict[str, str], strings: _Strings, style: str = "") -> str:
    s = f' s="{style}"' if style else ""
    row_style = f' s="{style}" customFormat="1"' if style else ""
    inner = "".join(
        f'<c r="{col}{number}"{s} t="s"><v>{strings.ref(text)}</v></c>'
        for col, text in cells.items()
    )
    return f'<row r="{number}"{row_style} x14ac:dyDescent="0.25">{inner}</row>'


SHEET_NAMESPACES = (
    f'xmlns="{MAIN}" xmlns:r="{REL}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'mc:Ignorable="x14ac xr xr2 xr3" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
    'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
    'xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2" '
    'xmlns:xr3="http://schemas.microsoft.com/office/spreadsheetml/2016/revision3"'
)


def _activities_sheet(strings: _Strings) -> str:
    title = _text_row(1, {"A": "ACCME PARS Activity Upload Template"}, strings)
    header = _text_row(
        2,
        {get_column_letter(i + 1): h for i, h in enumerate(MODERN_HEADERS)},
        strings,
        style="1",
    )
    # Excel keeps a formatted but empty first data row: the date cell of column E.
    styled_empty = '<row r="3" spans="1:27" x14ac:dyDescent="0.25"><c r="E3" s="2"/></row>'
    x14 = "".join(
        '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" '
        f'showErrorMessage="1" xr:uid="{{0000000{i}-0000-0000-0000-000000000000}}">'
        f"<x14:formula1><xm:f>{ref}</xm:f></x14:formula1><xm:sqref>{col}3:{col}1000</xm:sqref>"
        "</x14:dataValidation>"
        for i, (col, ref) in enumerate(X14_LISTS.items())
    )
    last = get_column_letter(len(MODERN_HEADERS))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<worksheet {SHEET_NAMESPACES} xr:uid="{{5D0F7C1B-0000-4000-8000-000000000001}}">'
        f'<dimension ref="A1:{last}3"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="2" '
        'topLeftCell="A3" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/>'
        '<cols><col min="1" max="4" width="24" customWidth="1"/>'
        '<col min="5" max="5" width="12" style="2" customWidth="1"/></cols>'
        f"<sheetData>{title}{header}{styled_empty}</sheetData>"
        '<dataValidations count="2">'
        '<dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1" '
        'sqref="M3:M1000 P3:P1000 U3:U1000"><formula1>"Yes,No"</formula1></dataValidation>'
        '<dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1" '
        'sqref="L3:L1000"><formula1>ProvidershipList</formula1></dataValidation>'
        "</dataValidations>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
        'footer="0.3"/>'
        f'<extLst><ext uri="{X14_URI}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        f'<x14:dataValidations count="{len(X14_LISTS)}" '
        'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        f"{x14}</x14:dataValidations></ext></extLst></worksheet>"
    )


def _plain_sheet(rows: list[dict[str, str]], strings: _Strings) -> str:
    body = "".join(_text_row(n, cells, strings) for n, cells in enumerate(rows, start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f"<worksheet {SHEET_NAMESPACES}><sheetData>{body}</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
        'footer="0.3"/></worksheet>'
    )


STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    f'<styleSheet xmlns="{MAIN}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'mc:Ignorable="x14ac x16r2 xr" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
    'xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/02/main" '
    'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="mm/dd/yyyy"/></numFmts>'
    '<fonts count="2" x14ac:knownFonts="1"><font><sz val="11"/><color theme="1"/>'
    '<name val="Calibri"/><family val="2"/><scheme val="minor"/></font><font><b/>'
    '<sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
    '<patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1">'
    '<alignment wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)


def modern_template() -> bytes:
    """A blank template as Excel saves it, with its drop-downs' lists on a hidden sheet."""
    strings = _Strings()
    activities = _activities_sheet(strings)
    instructions = _plain_sheet([{"A": INSTRUCTIONS}], strings)
    longest = max(len(v) for v in LISTS.values())
    lists_rows = [
        {col: values[i] for col, values in LISTS.items() if i < len(values)} for i in range(longest)
    ]
    lists = _plain_sheet(lists_rows, strings)
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
        '<workbookPr defaultThemeVersion="166925"/><bookViews><workbookView xWindow="0" '
        'yWindow="0" windowWidth="28800" windowHeight="12300"/></bookViews><sheets>'
        '<sheet name="Activities" sheetId="1" r:id="rId1"/>'
        '<sheet name="Instructions" sheetId="2" r:id="rId2"/>'
        '<sheet name="Lists" sheetId="3" state="hidden" r:id="rId3"/></sheets>'
        '<definedNames><definedName name="ProvidershipList">Lists!$C$2:$C$3</definedName>'
        '</definedNames><calcPr calcId="191029"/></workbook>'
    )
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
            for i in (1, 2, 3)
        )
        + '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    workbook_rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Relationships xmlns="{PKG}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in (1, 2, 3)
        )
        + f'<Relationship Id="rId4" Type="{REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId5" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        archive.writestr("xl/worksheets/sheet1.xml", activities)
        archive.writestr("xl/worksheets/sheet2.xml", instructions)
        archive.writestr("xl/worksheets/sheet3.xml", lists)
        archive.writestr("xl/styles.xml", STYLES)
        archive.writestr("xl/sharedStrings.xml", strings.xml())
    return buffer.getvalue()


# -- the "Template C/D" layout of 2014-2015 ---------------------------------------------------

TEMPLATE_C = [
    "Template C",
    "Provider Activity ID",
    "Activity Title",
    "Activity Type",
    "Activity Date",
    "City",
    "State",
    "Country",
    "Hours of Instruction",
    "AMA PRA Category 1 Credits",
]
TEMPLATE_D = [
    "Template D",
    "Provider Activity ID",
    "Activity Date",
    "# of Physicians",
    "# of Other Learners",
    "Status",
]
LEGACY_CODES = "C,IL,RSS,EM,IEM,JN,MR,TIW,CML,PI,ISL,LFT"


def template_cd(headers: list[str]) -> bytes:
    """A Template C or D workbook: the template's name in the first header cell, one
    Activity Date; Template C's Activity Type offers the old activity-type codes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = headers[0]
    sheet.append(headers)
    if "Activity Type" in headers:
        letter = get_column_letter(headers.index("Activity Type") + 1)
        codes = DataValidation(type="list", formula1=f'"{LEGACY_CODES}"', allow_blank=True)
        codes.add(f"{letter}2:{letter}500")
        sheet.add_data_validation(codes)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- the 2010 tab-delimited layout ------------------------------------------------------------

SUPPORTER_BLOCK = [
    "Commercial Supporter Name",
    "Monetary Support (Y/N)",
    "Monetary Amount",
    "In-Kind Support (Y/N)",
    "In-Kind: Equipment",
    "In-Kind: Facilities",
    "In-Kind: Human Resources",
    "In-Kind: Other",
]
LAYOUT_2010 = [
    "Provider Activity ID",
    "Activity Title",
    "Activity Type",
    "Start Date",
    "End Date",
    "City",
    "State",
    "Country",
    "Reporting Year",
    "Hours of Instruction",
    "AMA PRA Category 1 Credits",
    "Physicians",
    "Other Learners",
    "Commercial Support Received",
    *SUPPORTER_BLOCK,
    *SUPPORTER_BLOCK,
    *SUPPORTER_BLOCK,
    "Designed to Change Competence",
    "Evaluated Change in Competence",
    "Designed to Change Performance",
    "Evaluated Change in Performance",
    "Designed to Change Patient Outcomes",
    "Evaluated Change in Patient Outcomes",
]


def layout_2010() -> bytes:
    """The 2010 layout's fields as one tab-delimited header line."""
    return ("\t".join(LAYOUT_2010) + "\r\n").encode()


# -- a data year of activities ------------------------------------------------------------------

# As typed after /pars add-activity: by the bot's keys.
YEAR_2025: list[dict[str, str]] = [
    {
        "id": "GR-2025",
        "title": "=Heart & Lung Grand Rounds",  # never a formula
        "format": "rss",
        "delivery": "in-person",
        "start": "2025-01-07",
        "end": "2025-12-16",
        "city": "Chicago",
        "state": "IL",
        "country": "USA",
        "credits": "52",
        "description": "Weekly case conference\nfor internal medicine",
        "providership": "direct",
        "finder": "no",
        "outcomes": "knowledge",
        "commercial-support": "no",
        "moc": "no",
        "accme-id": "201234567",
    },
    {
        "id": "CONF-2025",
        "title": "Cardiology Update",
        "format": "live-course",
        "delivery": "hybrid",
        "start": "2025-03-14",
        "end": "2025-03-15",
        "city": "Evanston",
        "state": "IL",
        "country": "USA",
        "credits": "12.5",
        "description": "Two days of cardiology",
        "providership": "joint",
        "joint-providers": "State Heart Society",
        "finder": "yes",
        "fee": "0",
        "registration": "Open to all",
        "url": "https://cme.example.org/cardio",
        "outcomes": "knowledge,patient-outcomes",
        "commercial-support": "yes",
        "supporters": "Acme Pharma:monetary:5000; Beta Devices:in-kind",
        "moc": "yes",
        "moc-boards": "ABIM:10:Medical Knowledge; abp:2:Lifelong Learning and Self-Assessment",
        "moc-attested": "yes",
        "mips": "yes",
        "commendation": "engages teams; C14",
    },
    {
        "id": "EM-2024-03",
        "title": "Sepsis Online Module",
        "format": "enduring",
        "start": "2024-06-01",
        "end": "2026-05-31",
        "credits": "1.5",
        "description": "Recognizing sepsis early",
        "providership": "direct",
        "finder": "no",
        "outcomes": "knowledge,competence",
        "commercial-support": "no",
    },
]
COUNTS = {"GR-2025": ("1040", "212"), "EM-2024-03": ("310", "95")}
YEAR_IDS = ["EM-2024-03", "GR-2025", "CONF-2025"]  # in the export's order: by start date


def by_name(key: str) -> str:
    spec = resolve_key(key)
    assert spec is not None, key
    return spec.name


def seed_year(engine: Engine, team_id: str, now: datetime, today: date) -> None:
    """The data year 2025 as a coordinator enters it: activities, then learner counts."""
    actor = service.Actor(user_id="U0ALICE")
    with session_scope(engine) as session:
        for typed in YEAR_2025:
            raw = {by_name(key): text for key, text in typed.items()}
            service.create_activity(
                session=session, team_id=team_id, actor=actor, raw=raw, now=now, today=today
            )
        for activity_id, (physicians, others) in COUNTS.items():
            record_counts(
                session=session,
                team_id=team_id,
                actor=actor,
                activity_id=activity_id,
                counts={"physician": physicians, "other": others},
                as_of=None,  # the importer's default: a template may have no as-of column
                now=now,
                today=today,
            )
